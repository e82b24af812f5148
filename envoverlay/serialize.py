"""Thread state to JSON and back: ``dumps`` / ``loads`` (SPEC §5).

The document is ``{"format": "envoverlay.thread", "version": 1, ...}``, valid under the
``thread-state`` schema. Secret values are stored as redacted markers (``"redacted": true``,
no value) unless the embedder passes ``include_secrets=True``; composing a redacted secret
reports ``missing-secret`` instead of applying an empty value.

Every (un)structuring rule lives in the converter of :mod:`._convert`. ``dumps`` output is
canonical (fixed key order, two-space indent, ASCII text, final newline), so
``dumps(loads(text)) == text`` for every document ``dumps`` wrote. cattrs and jsonschema are
imported on first use, never by ``import envoverlay``.
"""

from __future__ import annotations

import json
from typing import Any, Final

from ._convert import FORMAT, VERSION, converter
from ._jsonio import escape_pointer, load_json, strict_loads
from .diagnostics import Diagnostic, summarize
from .errors import ArgumentTypeError, EnvOverlayError, NewerVersionError, StateError
from .lifecycle import ThreadState


def stored_version(text: str) -> int | None:
    """The format version of a thread state text, or None when it is not one."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return None
    version = document.get("version")
    return version if isinstance(version, int) and not isinstance(version, bool) else None


def to_document(state: ThreadState, *, include_secrets: bool = False) -> dict[str, Any]:
    """The thread state as a JSON-ready document."""
    if not isinstance(state, ThreadState):
        raise ArgumentTypeError(f"dumps() takes a ThreadState, not {type(state).__name__}")
    document: dict[str, Any] = converter(include_secrets).unstructure(state, ThreadState)
    return document


def dumps(state: ThreadState, *, include_secrets: bool = False) -> str:
    """The canonical JSON text of a thread state; secret values redacted unless
    ``include_secrets``."""
    document = to_document(state, include_secrets=include_secrets)
    out: list[str] = []
    _indented(document, "\n", out)
    out.append("\n")
    return "".join(out)


def _indented(value: object, newline: str, out: list[str]) -> None:
    """Append ``value`` as ``json.dumps(value, indent=2, ensure_ascii=True)`` writes it.

    The canonical text is json's indented form, but json writes indented text with its pure
    Python encoder, which was nine tenths of ``loads(dumps(state))``; this writer does the
    same for the types a state document holds (str, bool, None, int, dict, list) in a
    fraction of the time, with json's own C string escaper. ASCII text: every value —
    non-ASCII, or an escaped undecodable byte (U+DC80..U+DCFF) from a non-UTF-8 environment —
    survives any file encoding exactly. A property test checks it against json.dumps.
    ``newline`` is a newline followed by the current indentation."""
    kind = value.__class__
    if kind is str:
        out.append(_escape(value))  # type: ignore[arg-type]
    elif kind is dict:
        if not value:
            out.append("{}")
            return
        inner, following, separator, closer = _object_levels[newline]
        for key, item in value.items():  # type: ignore[attr-defined]
            if item.__class__ is str:  # most values: no call for them
                out.append(f"{separator}{_escape(key)}: {_escape(item)}")
            else:
                out.append(f"{separator}{_escape(key)}: ")
                _indented(item, inner, out)
            separator = following
        out.append(closer)
    elif kind is list:  # the dict branch's twin: one loop for both costs twice the time
        if not value:
            out.append("[]")
            return
        inner, following, separator, closer = _array_levels[newline]
        for item in value:  # type: ignore[attr-defined]
            if item.__class__ is str:
                out.append(separator + _escape(item))
            else:
                out.append(separator)
                _indented(item, inner, out)
            separator = following
        out.append(closer)
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind is int:
        out.append(int.__repr__(value))
    else:  # pragma: no cover - the converter makes no other type
        raise ArgumentTypeError(f"a thread state document holds no {kind.__name__}")


_escape: Final = json.encoder.encode_basestring_ascii


class _Levels(dict[str, tuple[str, str, str, str]]):
    """The strings an object's (or an array's) lines are made of at the indentation that
    ``newline`` ends with: its members' newline, the separator after a member, the opening
    bracket with the first newline, and the last newline with the closing bracket. Made once
    per depth, instead of per object."""

    def __init__(self, opening: str, closing: str) -> None:
        super().__init__()
        self.brackets = opening, closing

    def __missing__(self, newline: str) -> tuple[str, str, str, str]:
        opening, closing = self.brackets
        inner = newline + "  "
        self[newline] = level = (inner, "," + inner, opening + inner, newline + closing)
        return level


_object_levels: Final = _Levels("{", "}")
_array_levels: Final = _Levels("[", "]")


def loads(text: str | bytes) -> ThreadState:
    """A thread state from JSON text. Raises :class:`StateError` — and nothing else — for
    a document that is not valid JSON, not an envoverlay thread state, of a newer version,
    or malformed; the message says what and where."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StateError(f"thread state is not UTF-8 text (byte {exc.start})") from None
    if not isinstance(text, str):
        raise StateError(f"loads() takes str or bytes, not {type(text).__name__}")
    state = _round_trip_state(text)
    if state is not None:
        return state
    document, problems = load_json(text, what="thread state")
    if problems:
        raise StateError(summarize("thread state is not valid JSON:", problems), problems)
    return from_document(document)


def _no_fraction(text: str) -> object:
    raise ValueError(f"{text}: a thread state holds no fractions")


def _round_trip_state(text: str) -> ThreadState | None:
    """The state of a text whose document is exactly what :func:`dumps` writes for that
    state (in any JSON layout), or None.

    Such a document needs no schema pass: everything ``dumps`` writes is valid under the
    schema (a property test checks it). The state is structured first — every model checks
    its fields, cattrs hands flags and numbers over as read — and then written back as a
    document: if that equals the one read, the text held a valid state and nothing else
    (no unknown key, no default written out, no 1 for true: the models refuse other types,
    and fractions and repeated keys are refused while parsing). That is every file the store
    or an embedder saved, and it skips the schema pass that is nine tenths of a strict load.
    Any other text gets None here, and the strict path decides and explains.
    """
    try:
        document = strict_loads(text, parse_float=_no_fraction)
        version = document.get("format") == FORMAT and document.get("version")
        if version.__class__ is not int or version != VERSION:  # 1, not true or 1.0
            return None
        state: ThreadState = converter(False).structure(document, ThreadState)
        # include_secrets=True writes a redacted marker for a secret that has no value, so
        # this reproduces documents written either way.
        if converter(True).unstructure(state, ThreadState) != document:
            return None
    except Exception:  # whatever it is, the strict path reports it properly
        return None
    return state


def from_document(document: Any) -> ThreadState:
    """A thread state from a parsed JSON document (see :func:`loads`)."""
    if not isinstance(document, dict):
        raise StateError(f"a thread state is a JSON object, not {type(document).__name__}")
    found = document.get("format")
    if found != FORMAT:
        raise StateError(
            f'not an envoverlay thread state: "format" is {found!r}, expected {FORMAT!r}'
        )
    version = document.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > VERSION:
        raise NewerVersionError(
            f"this thread state was written by a newer envoverlay (format version {version}); "
            f"this version reads version {VERSION}: upgrade envoverlay to load it",
            version=version,
        )
    from .schemas import validator

    errors = sorted(
        validator("thread-state").iter_errors(document), key=lambda e: list(e.absolute_path)
    )
    if errors:
        diagnostics = [
            Diagnostic(
                "error",
                "invalid-state",
                None,
                None,
                _safe_message(error),
                hint="the file was not written by envoverlay.dumps, or was edited by hand",
                pointer="".join(f"/{escape_pointer(str(part))}" for part in error.absolute_path),
            )
            for error in errors
        ]
        raise StateError(summarize("thread state is malformed:", diagnostics), diagnostics)
    try:
        state: ThreadState = converter(False).structure(document, ThreadState)
    except EnvOverlayError as exc:
        raise StateError(f"thread state is malformed: {exc}", exc.diagnostics) from None
    except (
        ValueError,
        TypeError,
        KeyError,
    ) as exc:  # pragma: no cover - the schema rules these out
        raise StateError(f"thread state is malformed: {exc}") from None
    return state


def _safe_message(error: Any) -> str:
    """What is wrong, without quoting the rejected value (which may be a secret): only the
    messages that quote field names, never values, are jsonschema's own."""
    if error.validator in ("required", "additionalProperties"):
        return str(error.message)
    if error.validator is None:  # a `false` schema: the field may not be here at all
        return "this field is not allowed here"
    return f"the value breaks the schema's {error.validator!r} rule ({error.validator_value!r})"


__all__ = [
    "FORMAT",
    "VERSION",
    "NewerVersionError",
    "StateError",
    "dumps",
    "from_document",
    "loads",
    "stored_version",
    "to_document",
]
