"""Reading inputs: files, and strict JSON, shared by every input the library parses.

Python's ``json`` accepts things other JSON readers do not (``NaN``, repeated keys with the
last one winning silently, arbitrarily deep nesting until a RecursionError). Envoverlay's
inputs must mean the same thing to every reader, so these are errors here.
"""

from __future__ import annotations

import itertools
import json
import operator
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

from .diagnostics import Diagnostic
from .errors import InputError as InputError  # noqa: PLC0414 (re-exported from its old home)

#: JSON nested deeper than this is refused before parsing.
MAX_JSON_DEPTH: Final = 64


def read_file(path: str, what: str) -> bytes:
    """The bytes of the file ``path``; ``what`` names it in the error (``--base``, ...)."""
    try:
        return Path(path).read_bytes()
    except IsADirectoryError:
        raise InputError(f"{what} {path!r} is a directory; pass a file") from None
    except FileNotFoundError:
        raise InputError(f"{what} {path!r} does not exist") from None
    except PermissionError:
        raise InputError(f"{what} {path!r} is not readable (permission denied)") from None
    except OSError as exc:
        raise InputError(f"{what} {path!r} could not be read: {exc.strerror or exc}") from None
    except ValueError:  # a NUL in the path
        raise InputError(
            f"{what} {path!r} is not a valid path (it holds a NUL character)"
        ) from None


def escape_pointer(token: str) -> str:
    """One JSON pointer reference token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


class _Object(dict[str, Any]):
    """A JSON object that remembers the keys it saw more than once."""

    duplicates: tuple[str, ...] = ()


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    duplicates = []
    for key, _ in pairs:
        if key in seen:
            duplicates.append(key)
        seen.add(key)
    marked = _Object(obj)
    marked.duplicates = tuple(duplicates)
    return marked


def _reject_constant(token: str) -> Any:
    raise ValueError(f"{token} is not valid JSON")


def _unrepeated(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):  # the test of _pairs, as a verdict
        raise ValueError("a key appears more than once in one object")
    return obj


def strict_loads(text: str, **options: Any) -> Any:
    """``json.loads(text, **options)``, refusing with a bare ValueError what
    :func:`load_json` reports (a repeated key, ``NaN``, ``Infinity``) — but not the depth,
    which the caller bounds: for a fast path that falls back to ``load_json`` to say what and
    where. Costs a Python call per object, not a pass over every character."""
    return json.loads(
        text, object_pairs_hook=_unrepeated, parse_constant=_reject_constant, **options
    )


# A JSON string, or an unterminated one running to the end of the text.
_STRING: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_PLAIN_STRING: Final = re.compile(r'"[^"]*(?:"|\Z)')
_NOT_BRACKET: Final = re.compile(r"[^\[\]{}]+")
# Opening brackets count 2 and closing ones 0: the depth after k brackets is their sum - k.
_BRACKET_WEIGHTS: Final = str.maketrans({"{": "\x02", "[": "\x02", "}": "\x00", "]": "\x00"})


def _too_deep(text: str) -> bool:
    """Whether ``text`` nests brackets (outside strings) deeper than MAX_JSON_DEPTH, in
    C-level passes: a 5 MB document must not cost a Python step per character."""
    if text.count("{") + text.count("[") <= MAX_JSON_DEPTH:
        return False
    # Without a backslash, a string simply runs from one quote to the next (faster).
    strings = _STRING if "\\" in text else _PLAIN_STRING
    outside = strings.sub("", text)
    brackets = _NOT_BRACKET.sub("", outside)
    weights = brackets.translate(_BRACKET_WEIGHTS).encode("latin-1")
    depths = map(operator.sub, itertools.accumulate(weights), itertools.count(1))
    return max(depths, default=0) > MAX_JSON_DEPTH


def load_json(text: str, *, what: str) -> tuple[Any, list[Diagnostic]]:
    """Parse ``text`` strictly. Returns ``(document, problems)``; the document is None when
    it could not be parsed. Problems carry codes ``invalid-json`` and ``duplicate-key`` and
    JSON pointers. Never raises."""

    def problem(code: str, pointer: str, message: str, hint: str) -> Diagnostic:
        return Diagnostic("error", code, None, None, message, hint=hint, pointer=pointer)

    if _too_deep(text):
        return None, [
            problem(
                "invalid-json",
                "",
                f"{what} nests JSON deeper than {MAX_JSON_DEPTH} levels",
                "flatten the document",
            )
        ]
    duplicated: list[dict[str, Any]] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = _pairs(items)
        if type(obj) is _Object:
            duplicated.append(obj)
        return obj

    try:
        document = json.loads(text, object_pairs_hook=pairs, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        if _ends_early(text, exc):
            return None, [
                problem(
                    "invalid-json",
                    "",
                    f"{what} is not valid JSON: the JSON ends early "
                    f"({exc.msg.removesuffix(' at')} at line {exc.lineno} column {exc.colno})",
                    "print the whole document: the output was cut off (was the writer "
                    "killed, or did it exit before flushing?)",
                )
            ]
        return None, [
            problem(
                "invalid-json",
                "",
                f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                "write exactly one JSON value and nothing after it",
            )
        ]
    except (ValueError, RecursionError) as exc:
        return None, [
            problem("invalid-json", "", f"{what} is not valid JSON: {exc}", "write strict JSON")
        ]
    if not duplicated:  # no pointer to build: most documents
        return document, []
    duplicates = [
        problem(
            "duplicate-key",
            pointer,
            f"the key {key!r} appears more than once in {what}; "
            "JSON readers disagree on which wins",
            "write each key once",
        )
        for pointer, key in _duplicate_keys(document, "")
    ]
    return document, duplicates


def _ends_early(text: str, exc: json.JSONDecodeError) -> bool:
    """Whether the document is cut off: it opens a value that the text ends inside of."""
    if exc.msg.startswith("Unterminated string"):
        return True
    return exc.pos >= len(text.rstrip()) and exc.msg != "Extra data"


def _duplicate_keys(value: Any, pointer: str) -> Iterable[tuple[str, str]]:
    if isinstance(value, dict):
        for key in getattr(value, "duplicates", ()):
            yield f"{pointer}/{escape_pointer(key)}", key
        for key, item in value.items():
            yield from _duplicate_keys(item, f"{pointer}/{escape_pointer(key)}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _duplicate_keys(item, f"{pointer}/{index}")
