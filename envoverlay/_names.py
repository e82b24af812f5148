"""Platform rules for environment variable names, values and sizes.

Everything that differs between POSIX and Windows lives here, so that a reader finds each
rule in one place:

* how two names compare (exactly on POSIX; Windows' ordinal, per-UTF-16-code-unit upper-casing
  on Windows, which never changes a name's length: 'ß' stays 'ß', so ``STRAßE`` and
  ``STRASSE`` are two names there);
* the order of a finished map (insertion order on POSIX; case-insensitive code-unit order
  on Windows, as Windows documents for environment blocks);
* whole-name globs (``*``, ``?``), compiled against folded names so that a glob and an exact
  name agree on every spelling;
* what makes a name or value impossible in an environment block, and the size limits with the
  one wording of their findings;
* how an argument that takes names is read (a bare ``str`` is one name).

:class:`PlatformRules` holds the platform-dependent rules as one object per platform
(:data:`POSIX`, :data:`WINDOWS`); :func:`rules_for` resolves ``"auto"`` once, at the API
edge. Every comparison of names in the package goes through it. All functions are pure.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Final, Literal, overload

import attrs

from .errors import ArgumentError, ArgumentTypeError, PolicyError

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
    """Turn ``"auto"`` into the running OS's platform; check the other values (anything else
    raises :class:`~envoverlay.ArgumentError`, a :class:`ValueError`)."""
    if platform == "auto":
        return "windows" if os.name == "nt" else "posix"
    if platform == "posix":
        return "posix"
    if platform == "windows":
        return "windows"
    raise ArgumentError(
        f"platform must be one of 'posix', 'windows', 'auto', not {platform!r}; "
        "pass 'auto' for the running OS or the target's platform"
    )


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


def _identity(name: str) -> str:
    return name


# -- name arguments ---------------------------------------------------------------------------


def names_argument(value: object, *, argument: str) -> tuple[str, ...]:
    """Normalize an argument that takes names or patterns (``protected=``, an inherit
    policy's ``exclude`` and ``include_only``, ...) to a tuple of non-empty strings.

    A bare ``str`` is one name, never its letters: ``protected="CODEX_THREAD_ID"`` protects
    ``CODEX_THREAD_ID``. Any other iterable gives its items, each of which must be a
    non-empty string. A value or item of another type raises
    :class:`~envoverlay.ArgumentTypeError` (a ``TypeError``), an empty name
    :class:`~envoverlay.PolicyError` (a ``ValueError``); both name ``argument`` and say how
    to pass it.
    """
    how = f"pass {argument}=['NAME', 'PREFIX_*']"
    if isinstance(value, str):
        items: tuple[object, ...] = (value,)
    elif isinstance(value, (bytes, bytearray)) or not isinstance(value, Iterable):
        raise ArgumentTypeError(
            f"{argument} takes a name or a list of names (str), not {type(value).__name__}; {how}"
        )
    else:
        items = tuple(value)
    for item in items:
        if not isinstance(item, str):
            raise ArgumentTypeError(
                f"{argument}: each name or pattern must be a non-empty string, not {item!r}; {how}"
            )
        if not item:
            raise PolicyError(
                f"{argument}: each name or pattern must be a non-empty string, not {item!r}; {how}"
            )
    return items  # type: ignore[return-value]  # every item was checked to be a str


# -- platform rules ---------------------------------------------------------------------------


@attrs.frozen
class NameGlobs:
    """Whole-name globs (``*`` and ``?``; ``[`` is literal, as in Codex's wildmatch patterns)
    matched against names folded by one key function.

    Patterns are folded by the same key as the names they are matched with, so on Windows
    ``K*`` and ``KEY`` agree on every spelling: a name matches a pattern exactly when its
    key matches the pattern's key. Built by :meth:`PlatformRules.globs`.
    """

    patterns: tuple[str, ...]
    key: Callable[[str], str] = attrs.field(repr=False)
    _exact: frozenset[str] = attrs.field(alias="exact", repr=False)
    #: ``*TEXT*`` patterns: one search for any of the texts (a whole-name ``.*TEXT.*`` match
    #: backtracks over the name once per pattern).
    _contains: re.Pattern[str] | None = attrs.field(alias="contains", repr=False)
    #: Every other pattern with a wildcard.
    _regex: re.Pattern[str] | None = attrs.field(alias="regex", repr=False)

    def matches_key(self, key: str) -> bool:
        """Whether a name whose key is ``key`` matches any pattern."""
        if key in self._exact:
            return True
        if self._contains is not None and self._contains.search(key) is not None:
            return True
        return self._regex is not None and self._regex.match(key) is not None

    def matches(self, name: str) -> bool:
        """Whether ``name`` matches any pattern."""
        return self.matches_key(self.key(name))

    def first_match(self, name: str) -> str | None:
        """The first pattern (as given) that ``name`` matches, or None."""
        key = self.key(name)
        if not self.matches_key(key):
            return None
        for pattern in self.patterns:
            if _one_glob(self.key(pattern)).match(key) is not None:
                return pattern
        return None  # pragma: no cover - the combined regex and the loop agree


@functools.lru_cache(maxsize=4096)
def _one_glob(folded: str) -> re.Pattern[str]:
    return glob_regex([folded])


def glob_regex(patterns: Iterable[str]) -> re.Pattern[str]:
    """One regex matching a whole text against any of ``patterns`` (``*`` and ``?``; every
    other character literal): the one glob syntax, whatever the case rule folded them."""
    parts = ("".join(_GLOB_PARTS.get(char) or re.escape(char) for char in p) for p in patterns)
    return re.compile("(?:" + "|".join(parts) + r")\Z", re.DOTALL)


_GLOB_PARTS: Final = {"*": ".*", "?": "."}
_WILD: Final = frozenset(_GLOB_PARTS)


@attrs.frozen
class SizeProblem:
    """A size limit a variable or a whole block breaks: a diagnostic ``code``, the message
    (which never quotes a value) and how to fix it."""

    code: str
    message: str
    hint: str


SizeOrigin = Literal["overlay", "op", "inherited"]
_SIZE_HINTS: Final[dict[SizeOrigin, str]] = {
    "overlay": "pass large data in a file and set the variable to its path",
    "op": "pass large data in a file and set the variable to its path",
    "inherited": "shorten the variable in the launching environment",
}


@attrs.frozen
class PlatformRules:
    """Every rule that differs between POSIX and Windows, as one object per platform
    (:data:`POSIX`, :data:`WINDOWS`; :func:`rules_for` resolves ``"auto"``).

    * ``key``: the name a variable is compared by — the name itself on POSIX; Windows'
      ordinal per-UTF-16-code-unit upper case (:func:`windows_fold`) on Windows. Every
      comparison of names (protected and sensitive names, inherit-policy globs, duplicate
      detection in overlays and blocks) goes through it, globs included (:meth:`globs`).
    * ``separator``: the default path-list separator (``os.pathsep`` of the platform).
    * the order of a finished map (:meth:`sort_names`): insertion order on POSIX, Windows'
      environment-block order on Windows.
    * sizes: :meth:`variable_size` in ``size_unit`` against ``variable_limit``, and
      :meth:`block_size`; :meth:`variable_too_large` and :meth:`block_too_large` are the
      one wording of the findings.
    """

    platform: Platform
    separator: str
    key: Callable[[str], str] = attrs.field(repr=False)
    variable_limit: int
    size_unit: str
    oversize_effect: str = attrs.field(repr=False)

    @property
    def windows(self) -> bool:
        return self.platform == "windows"

    def keys(self, texts: list[str]) -> list[str]:
        """``[self.key(text) for text in texts]``, without a Python call per text where the
        rule allows (long path lists are folded per entry)."""
        if self.key is _identity:
            return texts
        if "".join(texts).isascii():
            return list(map(str.upper, texts))
        return list(map(self.key, texts))

    def globs(self, patterns: Iterable[str], *, case_insensitive: bool = False) -> NameGlobs:
        """A matcher for whole-name globs, compiled against folded names.

        ``case_insensitive`` (the inherit policy's patterns, which Codex always matches
        ignoring case) compares with Windows' fold on POSIX too; on Windows names are always
        compared that way. Raises :class:`~envoverlay.PolicyError` for an empty or non-str
        pattern."""
        # On POSIX, op names hold a split surrogate pair as its character: so must patterns.
        fold: Callable[[str], str] = (
            windows_fold if self.windows or case_insensitive else joined_pairs
        )
        given = names_argument(patterns, argument="patterns")
        exact: set[str] = set()
        contained: list[str] = []
        wild: list[str] = []
        for pattern in given:
            folded = fold(pattern)
            inner = folded[1:-1]
            if len(folded) > 2 and folded[0] == folded[-1] == "*" and not _WILD & set(inner):
                contained.append(inner)
            elif "*" in folded or "?" in folded:
                wild.append(folded)
            else:
                exact.add(folded)
        contains = re.compile("|".join(map(re.escape, contained))) if contained else None
        regex = glob_regex(wild) if wild else None
        return NameGlobs(given, fold, exact=frozenset(exact), contains=contains, regex=regex)

    def first_duplicate(self, seen: dict[str, str], name: str) -> str | None:
        """Duplicate detection: record ``name`` in ``seen`` (key → first spelling) and return
        None, or return the first spelling of an earlier name with the same key."""
        key = self.key(name)
        first = seen.get(key)
        if first is None:
            seen[key] = name
        return first

    def sort_names(self, names: Iterable[str]) -> list[str]:
        """Names in the order of a finished map on this platform."""
        return windows_sorted(names) if self.windows else list(names)

    def sort_keys(self, keys: Iterable[str]) -> list[str]:
        """Distinct keys in the order :meth:`sort_names` gives their names."""
        return windows_sorted_keys(keys) if self.windows else list(keys)

    @property
    def fitting_chars(self) -> int:
        """The most characters a name and its value may hold together and fit
        :attr:`variable_limit` whatever they are: a character is at most 4 bytes (2 UTF-16
        units), and ``=`` and the terminating NUL take 2 more."""
        return self.variable_limit // 4 - 2

    def variable_size(self, name: str, value: str) -> int:
        """Size of one ``NAME=value`` entry in the unit its platform limits: bytes including
        the terminating NUL on POSIX, UTF-16 code units without it on Windows."""
        if self.windows:
            text = f"{name}={value}"
            if text.isascii():
                return len(text)
            return len(text.encode("utf-16-le", "surrogatepass")) // 2
        size = len(name) + len(value) + 2
        if name.isascii() and value.isascii():
            return size
        return _utf8_size(name) + _utf8_size(value) + 2

    def block_size(self, env: Iterable[tuple[str, str]]) -> int:
        """Bytes of a whole environment block: on POSIX the ``NAME=value\\0`` strings plus
        one pointer each (both count against ARG_MAX); on Windows the UTF-16 block with its
        final terminator."""
        if self.windows:
            units = 1
            for name, value in env:
                units += self.variable_size(name, value) + 1
            return units * 2
        total = 0
        for name, value in env:
            total += self.variable_size(name, value) + _POINTER_BYTES
        return total

    def variable_too_large(
        self,
        name: str,
        value: str | None = None,
        *,
        size: int | None = None,
        origin: SizeOrigin = "op",
    ) -> SizeProblem | None:
        """The ``too-large`` finding for ``NAME=value`` (or an already measured ``size``)
        over :attr:`variable_limit`, or None. ``origin`` says where the value comes from: an
        overlay being parsed (it is malformed), an op at compose time (rejected), or the
        inherited map (reported with what the child will see)."""
        if size is None:
            if value is None:
                raise ArgumentTypeError("variable_too_large needs a value or a size")
            if len(name) + len(value) <= self.fitting_chars:
                return None  # fits even at 4 bytes (2 UTF-16 units) a character
            size = self.variable_size(name, value)
        if size <= self.variable_limit:
            return None
        message = (
            f"{name}={{value}} is {size} {self.size_unit} long, over the {self.variable_limit} "
            f"that {self.platform} allows for one variable"
        )
        if origin == "op":
            message = f"{message}, so this op is rejected"
        elif origin == "inherited":
            message = f"the inherited {message}: {self.oversize_effect}"
        return SizeProblem("too-large", message, _SIZE_HINTS[origin])

    def block_too_large(
        self,
        env: Mapping[str, str],
        block_limit: int = DEFAULT_BLOCK_LIMIT,
        *,
        chars: int | None = None,
    ) -> SizeProblem | None:
        """The ``block-too-large`` finding for a whole map over ``block_limit`` bytes, or
        None. Cheap when the map is clearly small (no exact measure then); ``chars``, the
        characters of its names and values when the caller knows them, spares counting."""
        if chars is None:
            chars = sum(map(len, env)) + sum(map(len, env.values()))
        chars += 2 * len(env)
        if chars * 4 + len(env) * _POINTER_BYTES + 2 <= block_limit:
            return None  # even at 4 bytes a character, it fits
        total = self.block_size(env.items())
        if total <= block_limit:
            return None
        return SizeProblem(
            "block-too-large",
            f"the environment block is {total} bytes, over the limit of {block_limit} bytes; "
            "nothing was truncated",
            "remove large variables, or raise block_limit if the target allows it",
        )


POSIX: Final = PlatformRules(
    "posix",
    ":",
    _identity,
    POSIX_MAX_VARIABLE_BYTES,
    "bytes",
    "execve() will fail with E2BIG",
)
WINDOWS: Final = PlatformRules(
    "windows",
    ";",
    windows_fold,
    WINDOWS_MAX_VARIABLE_UNITS,
    "UTF-16 code units",
    "CreateProcessW passes it, but GetEnvironmentVariableW in the child may not read it "
    "whole (Wine returns it cut)",
)


def rules_for(platform: str) -> PlatformRules:
    """The rules of ``platform`` (``"posix"``, ``"windows"``, or ``"auto"``: the running OS).
    Resolve once, at the API edge, and pass the object on."""
    return WINDOWS if resolve_platform(platform) == "windows" else POSIX


def long_runs(text: str, separator: str, length: int) -> list[tuple[int, int]]:
    """``(start, end)`` of every run of ``text`` between two ``separator`` s (one character)
    that is at least ``length`` long. A run that long holds a multiple of ``length``, so one
    probe every ``length`` characters finds them all: the cost grows with the probes and the
    runs they land in (C-level searches), not with the number of runs."""
    if length < 1:
        raise ArgumentError(f"long_runs needs a length of 1 or more, not {length}")
    runs = []
    size = len(text)
    probe = 0
    while probe < size:
        end = text.find(separator, probe)
        if end == -1:
            end = size
        if end > probe:  # the probe is inside a run: find where it starts
            start = text.rfind(separator, 0, probe) + 1
            if end - start >= length:
                runs.append((start, end))
        probe = (end // length + 1) * length  # the first probe past this run
    return runs


# -- delegates for modules that still take a platform string ----------------------------------


def list_separator(platform: Platform) -> str:
    """The default separator of path lists (``os.pathsep`` of the target platform)."""
    return rules_for(platform).separator


def name_key(platform: Platform) -> Callable[[str], str]:
    """The function that maps a name to its comparison key on ``platform``."""
    return rules_for(platform).key


def keys_of(texts: list[str], key: Callable[[str], str]) -> list[str]:
    """``[key(text) for text in texts]`` for a key from :func:`name_key`."""
    return (WINDOWS if key is windows_fold else POSIX).keys(texts)


def variable_size(name: str, value: str, platform: Platform) -> int:
    """See :meth:`PlatformRules.variable_size`."""
    return rules_for(platform).variable_size(name, value)


def variable_limit(platform: Platform) -> int:
    """The largest :func:`variable_size` a platform accepts."""
    return rules_for(platform).variable_limit


def size_unit(platform: Platform) -> str:
    return rules_for(platform).size_unit


def block_size(env: Iterable[tuple[str, str]], platform: Platform) -> int:
    """See :meth:`PlatformRules.block_size`."""
    return rules_for(platform).block_size(env)


__all__ = [
    "DEFAULT_BLOCK_LIMIT",
    "POSIX",
    "POSIX_MAX_VARIABLE_BYTES",
    "WINDOWS",
    "WINDOWS_MAX_VARIABLE_UNITS",
    "NameGlobs",
    "Platform",
    "PlatformArg",
    "PlatformRules",
    "SizeProblem",
    "block_size",
    "encoding_problem",
    "inherited_name_problem",
    "is_portable_name",
    "list_separator",
    "long_runs",
    "name_key",
    "name_problem",
    "names_argument",
    "resolve_platform",
    "rules_for",
    "value_problem",
    "variable_limit",
    "variable_size",
    "windows_fold",
    "windows_sort_key",
    "windows_sorted",
    "windows_sorted_keys",
]
