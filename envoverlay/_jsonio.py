"""Reading inputs: files, and strict JSON, shared by every input the library parses.

Python's ``json`` accepts things other JSON readers do not (``NaN``, repeated keys with the
last one winning silently, arbitrarily deep nesting until a RecursionError). Envoverlay's
inputs must mean the same thing to every reader, so these are errors here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

from .diagnostics import Diagnostic, EnvOverlayError

#: JSON nested deeper than this is refused before parsing.
MAX_JSON_DEPTH: Final = 64


class InputError(EnvOverlayError):
    """An input file could not be read; the message says which and why."""


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
    obj: dict[str, Any] = {}
    duplicates = []
    for key, value in pairs:
        if key in obj:
            duplicates.append(key)
        obj[key] = value
    if duplicates:
        marked = _Object(obj)
        marked.duplicates = tuple(duplicates)
        return marked
    return obj


def _reject_constant(token: str) -> Any:
    raise ValueError(f"{token} is not valid JSON")


def _too_deep(text: str) -> bool:
    # Cheap pre-scan: brackets inside strings do not count.
    if text.count("{") + text.count("[") <= MAX_JSON_DEPTH:
        return False
    depth = 0
    in_string = False
    escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif char in "}]":
            depth -= 1
    return False


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
    try:
        document = json.loads(text, object_pairs_hook=_pairs, parse_constant=_reject_constant)
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
