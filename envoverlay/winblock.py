"""Windows environment blocks: the ``lpEnvironment`` argument of ``CreateProcessW``.

Python's :mod:`subprocess` builds this block itself from ``Popen(env=...)``. Runtimes that call
``CreateProcessW`` directly (through ctypes, cffi, or a native extension) need the bytes; this
module renders a composed Windows spawn map as those bytes and parses blocks back.

The format (Microsoft's "Environment Variables" and "Changing Environment Variables" pages):

* a sequence of ``NAME=value`` strings, each ended by a NUL, then one more NUL that ends the
  block; an empty block is two NULs;
* UTF-16-LE code units (pass ``CREATE_UNICODE_ENVIRONMENT``); unpaired surrogates are carried
  unchanged;
* sorted case-insensitively by name, by the rule of
  :meth:`envoverlay._names.PlatformRules.sort_names`;
* a name is everything up to the first ``=`` after position 0, so cmd.exe's hidden drive
  variables (``=C:``) are legal entries.

Both functions are pure. Neither checks sizes: :func:`envoverlay.compose` reports a variable over
32767 UTF-16 code units and a block over its limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ._names import WINDOWS, inherited_name_problem, value_problem
from .errors import ArgumentError, ArgumentTypeError

_ENCODING: Final = "utf-16-le"
_ERRORS: Final = "surrogatepass"  # lone surrogates travel as the code units they are
_EMPTY_BLOCK: Final = b"\0\0\0\0"  # two NUL code units


def environment_block(env: Mapping[str, str]) -> bytes:
    """The Windows environment block for ``env``, as bytes for ``CreateProcessW``.

    ``env`` is a spawn map, usually ``compose(..., platform="windows").env``. The result is
    UTF-16-LE ``NAME=value\\0`` strings in Windows order plus a final ``\\0``; an empty map
    gives two NULs (4 zero bytes). Pass it with ``CREATE_UNICODE_ENVIRONMENT``.

    Raises :class:`ValueError`, naming the variable (never quoting a value), for an entry no
    block can hold — an empty name, ``=`` in a name after position 0, a NUL in a name or
    value — and for two names that Windows treats as one (:func:`envoverlay.windows_fold`),
    which a child would see as a single variable holding the first value. Raises
    :class:`TypeError` for a name or value that is not a string.
    """
    spellings: dict[str, str] = {}  # name key -> first spelling
    for name, value in env.items():
        if not isinstance(name, str):
            raise ArgumentTypeError(f"a variable name must be a string, not {type(name).__name__}")
        if not isinstance(value, str):
            raise ArgumentTypeError(
                f"the value of {name!r} must be a string, not {type(value).__name__}"
            )
        problem = inherited_name_problem(name, "windows") or value_problem(value)
        if problem is not None:
            raise ArgumentError(
                f"{name!r} cannot be put in a Windows environment block: {problem[1]}"
            )
        # The key joins a surrogate pair written as two code points into the character it
        # encodes: they are the same name in a block.
        other = WINDOWS.first_duplicate(spellings, name)
        if other is not None:
            raise ArgumentError(
                f"{other!r} and {name!r} are one variable on Windows; "
                "a block must hold each name once (compose with platform='windows' first)"
            )
    if not env:
        return _EMPTY_BLOCK
    text = "".join([f"{name}={env[name]}\0" for name in WINDOWS.sort_names(env)])
    return (text + "\0").encode(_ENCODING, _ERRORS)


def parse_environment_block(data: bytes) -> list[tuple[str, str]]:
    """The ``(name, value)`` entries of a UTF-16-LE Windows environment block, in block order.

    The inverse of :func:`environment_block`, and a reader for blocks Windows produces
    (``GetEnvironmentStringsW``): duplicates and unsorted entries are returned as they are.
    Each name is split at the first ``=`` after position 0, so ``=C:=C:\\repo`` is the
    variable ``=C:``. Lone surrogates are returned as such; a surrogate pair comes back as the
    character it encodes.

    Raises :class:`ValueError` for an odd number of bytes, a block without its final NUL,
    anything after it, and an entry without a ``=`` after position 0.
    """
    if len(data) % 2:
        raise ArgumentError(f"a UTF-16 environment block has an even size, not {len(data)} bytes")
    text = bytes(data).decode(_ENCODING, _ERRORS)
    entries: list[tuple[str, str]] = []
    start = 0
    while True:
        end = text.find("\0", start)
        if end == -1:
            raise ArgumentError(
                "the environment block is not terminated (it must end with two NUL code units)"
            )
        if end == start:  # the empty string that ends the block
            rest = text[end + 1 :]
            # An empty block is two NULs: the terminator may be followed by one more.
            if rest and not (not entries and rest == "\0"):
                raise ArgumentError(
                    f"the environment block ends after {len(entries)} entries (an empty "
                    f"string), but {len(rest)} more code units follow"
                )
            return entries
        entry = text[start:end]
        split = entry.find("=", 1)
        if split == -1:
            # Not quoted: the text may be part of a value, and values may be secrets.
            raise ArgumentError(
                f"entry {len(entries) + 1} of the environment block ({len(entry)} code units) "
                "has no '=' after its first character"
            )
        entries.append((entry[:split], entry[split + 1 :]))
        start = end + 1


__all__ = ["environment_block", "parse_environment_block"]
