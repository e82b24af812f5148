"""Platform rules for environment variable names, values and sizes.

Everything that differs between POSIX and Windows lives here, so that a reader finds each
rule in one place:

* how two names compare (exactly on POSIX; Windows' ordinal, per-UTF-16-code-unit upper-casing
  on Windows, which never changes a name's length: 'ß' stays 'ß', so ``STRAßE`` and
  ``STRASSE`` are two names there);
* the order of a finished map (insertion order on POSIX; case-insensitive code-unit order
  on Windows, as Windows documents for environment blocks);
* what makes a name or value impossible in an environment block, and the size limits.

All functions are pure.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterable
from typing import Final, Literal, overload

from .errors import ArgumentError

Platform = Literal["posix", "windows"]
PlatformArg = Literal["posix", "windows", "auto"]

# Linux MAX_ARG_STRLEN (PAGE_SIZE * 32): the longest single "NAME=value" string execve
# accepts, counted with its terminating NUL (include/uapi/linux/binfmts.h).
POSIX_MAX_VARIABLE_BYTES: Final = 131072
# Windows: the longest user-defined variable, in UTF-16 code units (SetEnvironmentVariableW).
WINDOWS_MAX_VARIABLE_UNITS: Final = 32767
# The default limit for a whole environment block: Linux's usual ARG_MAX share (2 MiB).
DEFAULT_BLOCK_LIMIT: Final = 2 * 1024 * 1024
# Each envp pointer counts against ARG_MAX too (fs/exec.c); 8 bytes on 64-bit.
_POINTER_BYTES: Final = 8

_PORTABLE_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def resolve_platform(platform: str) -> Platform:
    """Turn ``"auto"`` into the running OS's platform; check the other values."""
    if platform == "auto":
        return "windows" if os.name == "nt" else "posix"
    if platform == "posix":
        return "posix"
    if platform == "windows":
        return "windows"
    raise ArgumentError(f"platform must be one of 'posix', 'windows', 'auto', not {platform!r}")


@functools.lru_cache(maxsize=16384)
def windows_fold(name: str) -> str:
    """The key under which Windows compares ``name``.

    Windows upper-cases each UTF-16 code unit on its own with a one-to-one table and compares
    the results ordinally, so nothing changes length: ``'ß'`` stays ``'ß'``. The table is
    reproduced with :func:`_upper_unit`, which agrees with the real API (Wine's
    ``GetEnvironmentVariableW``, checked for every cased BMP character by the test suite).
    Characters outside the BMP have no case (their surrogates are left alone), and a
    surrogate pair written as two code points is the same name as the character it encodes.
    """
    if name.isascii():
        return name.upper()
    return "".join(map(_upper_unit, joined_pairs(name)))


@functools.lru_cache(maxsize=4096)
def _upper_unit(char: str) -> str:
    """Windows' upper case of one UTF-16 code unit: the one-character upper case (or, where
    that is two characters, the one-character title case, as for U+1F80 → U+1F88) — but only
    when it maps back to ``char`` in lower case. So dotless i (U+0131), long s (U+017F),
    final sigma (U+03C2), the micro sign (U+00B5) and title-case digraphs (U+01C5, ...) stay
    themselves, as they do in Windows' table."""
    if ord(char) > 0xFFFF:
        return char
    upper = char.upper()
    if len(upper) != 1:
        upper = char.title()
    if len(upper) != 1 or ord(upper) > 0xFFFF or upper.lower() != char:
        return char
    return upper


def list_separator(platform: Platform) -> str:
    """The default separator of path lists (``os.pathsep`` of the target platform)."""
    return ";" if platform == "windows" else ":"


@overload
def joined_pairs(value: str) -> str: ...
@overload
def joined_pairs(value: object) -> object: ...
def joined_pairs(value: object) -> object:
    """A str with every high and low surrogate held as two code points replaced by the one
    character they encode (what they are in UTF-16, and in JSON); anything else unchanged.
    Models store text this way, so states compare and round-trip through JSON exactly."""
    if not isinstance(value, str) or value.isascii():
        return value
    if not any("\ud800" <= char <= "\udbff" for char in value):
        return value
    return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def name_key(platform: Platform) -> Callable[[str], str]:
    """The function that maps a name to its comparison key on ``platform``."""
    return windows_fold if platform == "windows" else _identity


def _identity(name: str) -> str:
    return name


def keys_of(texts: list[str], key: Callable[[str], str]) -> list[str]:
    """``[key(text) for text in texts]`` for a key from :func:`name_key`, without a Python
    call per text where the platform's rule allows (long path lists are folded per entry)."""
    if key is _identity:
        return texts
    if key is windows_fold and "".join(texts).isascii():
        return list(map(str.upper, texts))
    return list(map(key, texts))


def windows_sort_key(name: str) -> tuple[bytes, str]:
    """Order of a Windows environment block: by the folded name, UTF-16 code unit by code
    unit (which differs from code-point order for characters outside the BMP); ties (only
    possible between names Windows treats as one) by spelling."""
    return windows_fold(name).encode("utf-16-be", "surrogatepass"), name


def windows_sorted(names: Iterable[str]) -> list[str]:
    """``names`` in Windows environment-block order (see :func:`windows_sort_key`)."""
    listed = list(names)
    if "".join(listed).isascii():
        # Code-point order equals code-unit order for ASCII: no encoding needed.
        return sorted(listed, key=lambda name: (name.upper(), name))
    return sorted(listed, key=windows_sort_key)


def windows_sorted_keys(keys: Iterable[str]) -> list[str]:
    """Already-folded, distinct keys in Windows environment-block order: the same order as
    :func:`windows_sorted` gives their names."""
    listed = list(keys)
    if "".join(listed).isascii():
        return sorted(listed)
    return sorted(listed, key=lambda key: key.encode("utf-16-be", "surrogatepass"))


def name_problem(name: object) -> tuple[str, str] | None:
    """Why ``name`` can never be a variable created by an op: ``(code, message)``, or None."""
    if not isinstance(name, str):
        return "invalid-name", f"a variable name must be a string, not {type(name).__name__}"
    if not name:
        return "invalid-name", "a variable name must not be empty"
    if "\0" in name:
        return "nul", "a variable name must not contain a NUL character"
    if "=" in name:
        return "invalid-name", "a variable name must not contain '='"
    return None


def inherited_name_problem(name: object, platform: Platform) -> tuple[str, str] | None:
    """Like :func:`name_problem`, for names found in an inherited map: Windows' hidden
    ``=C:``-style names (one leading '=') are legal there."""
    if platform == "windows" and isinstance(name, str) and name.startswith("=") and len(name) > 1:
        return name_problem(name[1:])
    return name_problem(name)


def value_problem(value: object) -> tuple[str, str] | None:
    """Why ``value`` can never be a variable's value: ``(code, message)``, or None."""
    if not isinstance(value, str):
        return "invalid-value", f"a value must be a string, not {type(value).__name__}"
    if "\0" in value:
        return "nul", "a value must not contain a NUL character"
    return None


def encoding_problem(text: str, platform: Platform) -> tuple[str, str] | None:
    """Why ``text`` cannot be carried by ``platform``'s environment, or None.

    POSIX environments are bytes: Python encodes them as UTF-8 with ``surrogateescape``, so a
    lone surrogate other than an escaped byte (U+DC80..U+DCFF) cannot be passed to a child.
    Windows blocks are UTF-16 and carry lone surrogates unchanged.
    """
    if platform == "windows" or text.isascii():
        return None
    try:
        text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        return (
            "invalid-value",
            f"holds a lone surrogate U+{ord(text[exc.start]):04X} at position {exc.start}, "
            "which a POSIX environment cannot carry",
        )
    return None


def json_text_problem(text: str, platform: Platform) -> tuple[str, str] | None:
    """Why text from a JSON document cannot become a POSIX environment value: JSON text is
    Unicode, so a lone surrogate there (an escape such as U+DCFF) is an error, not a byte."""
    if platform == "windows" or text.isascii():
        return None
    if any("\ud800" <= char <= "\udfff" for char in text):
        return "invalid-value", "holds a lone surrogate, which JSON text cannot carry to POSIX"
    return None


def _utf8_size(text: str) -> int:
    try:
        return len(text.encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:  # not encodable at all; encoding_problem reports it
        return len(text.encode("utf-8", "surrogatepass"))


def is_portable_name(name: str) -> bool:
    """True for names of the portable ``[A-Za-z_][A-Za-z0-9_]*`` form every shell can use."""
    return _PORTABLE_NAME.match(name) is not None


def variable_size(name: str, value: str, platform: Platform) -> int:
    """Size of one ``NAME=value`` entry in the unit its platform limits: bytes including the
    terminating NUL on POSIX, UTF-16 code units without it on Windows."""
    if platform == "windows":
        text = f"{name}={value}"
        if text.isascii():
            return len(text)
        return len(text.encode("utf-16-le", "surrogatepass")) // 2
    size = len(name) + len(value) + 2
    if name.isascii() and value.isascii():
        return size
    return _utf8_size(name) + _utf8_size(value) + 2


def variable_limit(platform: Platform) -> int:
    """The largest :func:`variable_size` a platform accepts."""
    return WINDOWS_MAX_VARIABLE_UNITS if platform == "windows" else POSIX_MAX_VARIABLE_BYTES


def size_unit(platform: Platform) -> str:
    return "UTF-16 code units" if platform == "windows" else "bytes"


def block_size(env: Iterable[tuple[str, str]], platform: Platform) -> int:
    """Bytes of a whole environment block: on POSIX the ``NAME=value\\0`` strings plus one
    pointer each (both count against ARG_MAX); on Windows the UTF-16 block with its final
    terminator."""
    if platform == "windows":
        units = 1
        for name, value in env:
            units += variable_size(name, value, platform) + 1
        return units * 2
    total = 0
    for name, value in env:
        total += variable_size(name, value, platform) + _POINTER_BYTES
    return total


def compile_globs(patterns: Iterable[str], *, case_insensitive: bool) -> re.Pattern[str] | None:
    """One regex matching any of ``patterns`` (``*`` and ``?`` only, whole name), or None
    when there are none. ``[`` has no special meaning: Codex's wildmatch patterns have no
    character classes."""
    parts = []
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern:
            raise ArgumentError(f"a name pattern must be a non-empty string, not {pattern!r}")
        parts.append(_glob_to_regex(pattern))
    if not parts:
        return None
    flags = re.IGNORECASE if case_insensitive else 0
    return re.compile("(?:" + "|".join(parts) + r")\Z", flags | re.DOTALL)


def _glob_to_regex(pattern: str) -> str:
    out = []
    for char in pattern:
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        else:
            out.append(re.escape(char))
    return "".join(out)


def glob_matches(pattern: str, name: str, *, case_insensitive: bool) -> bool:
    """Whether one glob matches one name (used to say *which* pattern matched)."""
    compiled = compile_globs([pattern], case_insensitive=case_insensitive)
    return compiled is not None and compiled.match(name) is not None


__all__ = [
    "DEFAULT_BLOCK_LIMIT",
    "POSIX_MAX_VARIABLE_BYTES",
    "WINDOWS_MAX_VARIABLE_UNITS",
    "Platform",
    "PlatformArg",
    "block_size",
    "compile_globs",
    "encoding_problem",
    "glob_matches",
    "inherited_name_problem",
    "is_portable_name",
    "list_separator",
    "name_key",
    "name_problem",
    "resolve_platform",
    "value_problem",
    "variable_limit",
    "variable_size",
    "windows_fold",
    "windows_sort_key",
    "windows_sorted",
    "windows_sorted_keys",
]
