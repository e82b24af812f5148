"""The platform rules (``envoverlay._names``): one object per platform for name keys, globs
over folded names, order, sizes and their findings, and the names-argument normalizer."""

from __future__ import annotations

import re
from collections.abc import Iterable

import pytest
from hypothesis import given
from hypothesis import strategies as st

import envoverlay as eo
from envoverlay._names import (
    DEFAULT_BLOCK_LIMIT,
    POSIX,
    WINDOWS,
    PlatformRules,
    names_argument,
    rules_for,
    windows_fold,
)

KELVIN = "\u212a"  # KELVIN SIGN: Python's re.IGNORECASE matches it with 'K'; Windows does not
KELVIN_KEY = f"{KELVIN}EY"
SHARP_S = "STRA\u00dfE"  # 'ß' has no one-unit upper case: Windows keeps it
PAIR = "\ud83d\ude00"  # a surrogate pair held as two code points
EMOJI = "\U0001f600"  # the character that pair encodes


def rules(platform: str) -> PlatformRules:
    return rules_for(platform)


# -- the objects -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "expected"),
    [("posix", POSIX), ("windows", WINDOWS)],
)
def test_rules_for_gives_one_object_per_platform(platform: str, expected: PlatformRules) -> None:
    assert rules_for(platform) is expected
    assert rules_for(platform).platform == platform


def test_auto_resolves_to_one_of_the_two() -> None:
    assert rules_for("auto") in (POSIX, WINDOWS)


@pytest.mark.parametrize("bad", ["", "linux", "POSIX", "nt"])
def test_an_unknown_platform_is_a_clear_error(bad: str) -> None:
    with pytest.raises(
        eo.EnvOverlayError, match="platform must be one of 'posix', 'windows', 'auto'"
    ):
        rules_for(bad)
    with pytest.raises(ValueError, match="pass 'auto'"):  # Python's convention, and a fix
        rules_for(bad)


@pytest.mark.parametrize(
    ("field", "posix", "windows"),
    [
        ("separator", ":", ";"),
        ("variable_limit", 131072, 32767),
        ("size_unit", "bytes", "UTF-16 code units"),
    ],
)
def test_platform_constants(field: str, posix: object, windows: object) -> None:
    assert getattr(POSIX, field) == posix
    assert getattr(WINDOWS, field) == windows


def test_rules_are_immutable() -> None:
    with pytest.raises(AttributeError):
        POSIX.separator = ";"  # type: ignore[misc]


# -- keys ------------------------------------------------------------------------------------

KEY_CASES = [
    pytest.param("posix", "Path", "Path", id="posix: a name is its own key"),
    pytest.param("windows", "Path", "PATH", id="windows: ASCII upper case"),
    pytest.param("windows", SHARP_S, SHARP_S, id="windows: no length-changing fold (ß stays)"),
    pytest.param("windows", KELVIN_KEY, KELVIN_KEY, id="windows: the Kelvin sign is its own key"),
    pytest.param("windows", "\u03c0", "\u03a0", id="windows: Greek small pi folds to capital"),
    pytest.param("windows", f"x{PAIR}", f"X{EMOJI}", id="windows: a split pair is its character"),
]


@pytest.mark.parametrize(("platform", "name", "key"), KEY_CASES)
def test_key(platform: str, name: str, key: str) -> None:
    assert rules(platform).key(name) == key


@pytest.mark.parametrize("platform", ["posix", "windows"])
@given(texts=st.lists(st.text(max_size=6), max_size=6))
def test_keys_is_key_of_each(platform: str, texts: list[str]) -> None:
    r = rules(platform)
    assert r.keys(list(texts)) == [r.key(text) for text in texts]


# -- globs over folded names -----------------------------------------------------------------

GLOB_CASES = [
    # (platform, patterns, case_insensitive, name, matches)
    pytest.param("posix", ["KEY"], False, "KEY", True, id="posix: exact"),
    pytest.param("posix", ["KEY"], False, "key", False, id="posix: case-sensitive"),
    pytest.param("posix", ["K*"], False, "KEYS", True, id="posix: star"),
    pytest.param("posix", ["K?Y"], False, "KEY", True, id="posix: question mark"),
    pytest.param("posix", ["K?Y"], False, "KY", False, id="posix: ? is exactly one character"),
    pytest.param("posix", ["*PATH"], False, "PATHEXT", False, id="posix: whole-name match"),
    pytest.param("posix", ["[A]"], False, "A", False, id="posix: [ is literal (wildmatch)"),
    pytest.param("posix", ["[A]"], False, "[A]", True, id="posix: [ matches itself"),
    pytest.param("posix", ["A.B"], False, "AxB", False, id="posix: . is literal"),
    pytest.param("posix", ["key"], True, "KEY", True, id="posix: case-insensitive on request"),
    pytest.param("posix", [f"X{PAIR}*"], False, f"X{EMOJI}Y", True,
                 id="posix: a pattern's split pair matches the character"),
    pytest.param("windows", ["KEY"], False, "key", True, id="windows: ignores case"),
    pytest.param("windows", ["k*"], False, "KEY", True, id="windows: glob ignores case"),
    pytest.param("windows", ["KEY"], False, KELVIN_KEY, False,
                 id="windows: exact KEY does not match the Kelvin spelling"),
    pytest.param("windows", ["K*"], False, KELVIN_KEY, False,
                 id="windows: glob K* agrees with exact KEY on the Kelvin spelling"),
    pytest.param("windows", [f"{KELVIN}*"], False, KELVIN_KEY, True,
                 id="windows: a Kelvin-sign glob matches the Kelvin spelling"),
    pytest.param("windows", ["k*"], False, KELVIN_KEY, False,
                 id="windows: lower-case k* does not match it either"),
    pytest.param("posix", ["k*"], True, KELVIN_KEY, False,
                 id="posix case-insensitive: the same fold as windows"),
    pytest.param("windows", ["STRASSE"], False, SHARP_S, False, id="windows: ß is not SS"),
    pytest.param("windows", ["stra\u00dfe"], False, SHARP_S, True,
                 id="windows: ß matches ß whatever the case around it"),
]  # fmt: skip


@pytest.mark.parametrize(("platform", "patterns", "insensitive", "name", "matches"), GLOB_CASES)
def test_globs(
    platform: str, patterns: list[str], insensitive: bool, name: str, matches: bool
) -> None:
    globs = rules(platform).globs(patterns, case_insensitive=insensitive)
    assert globs.matches(name) is matches
    assert (globs.first_match(name) is not None) is matches


def test_first_match_names_the_first_pattern_that_matches() -> None:
    globs = WINDOWS.globs(["B*", "*KEY*", "API_KEY"])
    assert globs.first_match("api_key") == "*KEY*"
    assert globs.first_match("other") is None


@pytest.mark.parametrize(
    ("bad", "error"),
    [([""], eo.PolicyError), ("", eo.PolicyError), ([None], eo.ArgumentTypeError),
     ([3], eo.ArgumentTypeError), (b"KEY", eo.ArgumentTypeError), (5, eo.ArgumentTypeError)],
)  # fmt: skip
def test_a_bad_pattern_is_a_clear_error(bad: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="pattern"):
        POSIX.globs(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("platform", ["posix", "windows"])
@given(name=st.text(min_size=1, max_size=8), pattern=st.text(min_size=1, max_size=8))
def test_an_exact_pattern_matches_exactly_the_names_with_its_key(
    platform: str, name: str, pattern: str
) -> None:
    r = rules(platform)
    if "*" in pattern or "?" in pattern:
        return
    assert r.globs([pattern]).matches(name) is (r.key(name) == r.key(pattern))


@given(name=st.text(min_size=1, max_size=8))
def test_windows_globs_agree_for_every_spelling_with_the_same_key(name: str) -> None:
    # A glob built from a name's own key matches exactly like the exact name.
    for pattern in (name, windows_fold(name), name.lower(), name.upper()):
        if "*" in pattern or "?" in pattern:
            continue
        exact = WINDOWS.globs([pattern]).matches(name)
        assert exact is (windows_fold(pattern) == windows_fold(name))


# -- duplicates ------------------------------------------------------------------------------


def _duplicates(r: PlatformRules, names: Iterable[str]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    out = []
    for name in names:
        first = r.first_duplicate(seen, name)
        if first is not None:
            out.append((first, name))
    return out


@pytest.mark.parametrize(
    ("platform", "names", "duplicates"),
    [
        pytest.param("posix", ["Path", "PATH"], [], id="posix: two variables"),
        pytest.param("windows", ["Path", "PATH", "path"], [("Path", "PATH"), ("Path", "path")],
                     id="windows: every later spelling names the first"),
        pytest.param("windows", ["KEY", KELVIN_KEY], [], id="windows: Kelvin is another name"),
        pytest.param("windows", [f"X{PAIR}", f"x{EMOJI}"], [(f"X{PAIR}", f"x{EMOJI}")],
                     id="windows: a split pair and its character are one name"),
    ],
)  # fmt: skip
def test_first_duplicate(
    platform: str, names: list[str], duplicates: list[tuple[str, str]]
) -> None:
    assert _duplicates(rules(platform), names) == duplicates


# -- order -----------------------------------------------------------------------------------


def test_posix_keeps_insertion_order() -> None:
    assert POSIX.sort_names(["b", "A", "a"]) == ["b", "A", "a"]


def test_windows_sorts_by_folded_utf16_units() -> None:
    names = ["b", "A", "\uff01", "\U0001f31e", "a_"]
    assert WINDOWS.sort_names(names) == ["A", "a_", "b", "\U0001f31e", "\uff01"]
    keys = [windows_fold(n) for n in names]
    assert WINDOWS.sort_keys(keys) == [windows_fold(n) for n in WINDOWS.sort_names(names)]


@given(
    st.lists(
        st.sampled_from(["PATH", "Path", "path", "Zz", "_a", "a_", EMOJI, "\uff01", "\u01c5",
                         "\u03c0", "\u03a0", SHARP_S, KELVIN_KEY, "KEY", "=C:"]),
        unique=True,
    )
)  # fmt: skip
def test_sorting_folded_keys_matches_sorting_names(names: list[str]) -> None:
    unique: dict[str, str] = {}
    for name in names:
        unique.setdefault(windows_fold(name), name)
    by_key = [unique[k] for k in WINDOWS.sort_keys(unique)]
    assert by_key == WINDOWS.sort_names(unique.values())


# -- sizes -----------------------------------------------------------------------------------

SIZE_CASES = [
    pytest.param("posix", "A", "b", 4, id="posix: NAME=value plus its NUL"),
    pytest.param("posix", "A", "\u00e9", 5, id="posix: UTF-8 bytes"),
    pytest.param("posix", "A", "\udcff", 4, id="posix: an escaped byte is one byte"),
    pytest.param("windows", "A", "b", 3, id="windows: UTF-16 units without the NUL"),
    pytest.param("windows", "A", EMOJI, 4, id="windows: a pair is two units"),
]


@pytest.mark.parametrize(("platform", "name", "value", "size"), SIZE_CASES)
def test_variable_size(platform: str, name: str, value: str, size: int) -> None:
    assert rules(platform).variable_size(name, value) == size


@pytest.mark.parametrize(
    ("platform", "env", "size"),
    [
        pytest.param("posix", {"A": "b"}, 4 + 8, id="posix: strings plus one pointer each"),
        pytest.param("windows", {"A": "b"}, (3 + 1 + 1) * 2, id="windows: UTF-16 block"),
        pytest.param("windows", {}, 2, id="windows: empty block is its terminator"),
    ],
)
def test_block_size(platform: str, env: dict[str, str], size: int) -> None:
    assert rules(platform).block_size(env.items()) == size


TOO_LARGE_CASES = [
    # (platform, value length that fits exactly)
    pytest.param("posix", 131072 - 3, id="posix: 131072 bytes with the NUL fit"),
    pytest.param("windows", 32767 - 2, id="windows: 32767 units fit"),
]


@pytest.mark.parametrize(("platform", "fits"), TOO_LARGE_CASES)
@pytest.mark.parametrize("origin", ["overlay", "op", "inherited"])
def test_variable_too_large_at_the_limit(platform: str, fits: int, origin: str) -> None:
    r = rules(platform)
    assert r.variable_too_large("A", "x" * fits, origin=origin) is None  # type: ignore[arg-type]
    problem = r.variable_too_large("A", "x" * (fits + 1), origin=origin)  # type: ignore[arg-type]
    assert problem is not None
    assert problem.code == "too-large"
    # One wording: the name, the size and unit, the limit; never the value.
    assert f"A={{value}} is {r.variable_limit + 1} {r.size_unit}" in problem.message
    assert f"over the {r.variable_limit} that {platform} allows for one variable" in problem.message
    assert "xxx" not in problem.message
    assert problem.hint


@pytest.mark.parametrize(
    ("origin", "prefix", "end", "hint"),
    [
        ("overlay", "A={value} is 200000 bytes long, over the 131072", "one variable", "file"),
        ("op", "A={value} is 200000 bytes long", "so this op is rejected", "file"),
        (
            "inherited",
            "the inherited A={value} is 200000 bytes long",
            "E2BIG",
            "launching environment",
        ),
    ],
)
def test_variable_too_large_says_what_happens(
    origin: str, prefix: str, end: str, hint: str
) -> None:
    """One sentence: the variable, its size and unit, the limit, and what happens to it."""
    problem = POSIX.variable_too_large("A", size=200_000, origin=origin)  # type: ignore[arg-type]
    assert problem is not None
    assert problem.message.startswith(prefix)
    assert problem.message.endswith(end)
    assert hint in problem.hint
    if origin == "inherited":
        assert "E2BIG" in problem.message


@pytest.mark.parametrize("platform", ["posix", "windows"])
def test_block_too_large(platform: str) -> None:
    r = rules(platform)
    assert r.block_too_large({"A": "b"}) is None
    big = {f"V{i}": "x" * 1000 for i in range(3000)}
    problem = r.block_too_large(big, DEFAULT_BLOCK_LIMIT)
    assert problem is not None
    assert problem.code == "block-too-large"
    assert f"{r.block_size(big.items())} bytes" in problem.message
    assert "nothing was truncated" in problem.message
    assert r.block_too_large(big, r.block_size(big.items())) is None  # at the limit: fits


# -- names arguments -------------------------------------------------------------------------

NAMES_ARGUMENT_CASES = [
    pytest.param("CODEX_THREAD_ID", ("CODEX_THREAD_ID",), id="a bare str is one name"),
    pytest.param(["A", "B*"], ("A", "B*"), id="a list"),
    pytest.param(("A",), ("A",), id="a tuple"),
    pytest.param(iter(["A"]), ("A",), id="an iterator"),
    pytest.param({"A": 1}, ("A",), id="a mapping gives its keys"),
    pytest.param((), (), id="empty"),
]


@pytest.mark.parametrize(("value", "expected"), NAMES_ARGUMENT_CASES)
def test_names_argument(value: object, expected: tuple[str, ...]) -> None:
    assert names_argument(value, argument="protected") == expected


@pytest.mark.parametrize(
    ("value", "message", "convention"),
    [
        pytest.param(5, "protected takes a name or a list of names (str), not int", TypeError,
                     id="a number"),
        pytest.param(None, "not NoneType", TypeError, id="None"),
        pytest.param(b"KEY", "not bytes", TypeError, id="bytes are not names"),
        pytest.param([""], "each name or pattern must be a non-empty string", ValueError,
                     id="empty name"),
        pytest.param(["A", 3], "not 3", TypeError, id="a non-str item"),
    ],
)  # fmt: skip
def test_names_argument_errors(value: object, message: str, convention: type[Exception]) -> None:
    """A wrong type is an ArgumentTypeError (a TypeError), an empty name a PolicyError (a
    ValueError): both the library's, both as Python's conventions expect."""
    with pytest.raises(eo.EnvOverlayError, match=re.escape(message)) as info:
        names_argument(value, argument="protected")
    assert "protected=[" in str(info.value)  # says how to pass it
    assert isinstance(info.value, convention)
    expected = eo.ArgumentTypeError if convention is TypeError else eo.PolicyError
    assert isinstance(info.value, expected)


@pytest.mark.parametrize("platform", ["posix", "windows"])
@given(
    name=st.text(min_size=1, max_size=4),
    unit=st.sampled_from(["a", "\u00e9", "\u20ac", "\U0001f600", "\udcff"]),
    count=st.integers(0, 140_000),
)
def test_variable_too_large_agrees_with_the_measured_size(
    platform: str, name: str, unit: str, count: int
) -> None:
    r = rules(platform)
    value = unit * (count // len(unit.encode("utf-16-le", "surrogatepass")))
    problem = r.variable_too_large(name, value)
    assert (problem is not None) is (r.variable_size(name, value) > r.variable_limit)


def _reference_match(pattern: str, name: str) -> bool:
    """Whole-name glob by recursion over characters (``*`` any run, ``?`` one character)."""
    if not pattern:
        return not name
    if pattern[0] == "*":
        return any(_reference_match(pattern[1:], name[i:]) for i in range(len(name) + 1))
    if not name:
        return False
    return (pattern[0] == "?" or pattern[0] == name[0]) and _reference_match(pattern[1:], name[1:])


_GLOB_TEXT = st.text(alphabet="aAkK\u212a?*.[", min_size=1, max_size=6)


@pytest.mark.parametrize("platform", ["posix", "windows"])
@given(pattern=_GLOB_TEXT, name=st.text(alphabet="aAkK\u212a.[", max_size=6))
def test_globs_match_like_the_reference_over_folded_names(
    platform: str, pattern: str, name: str
) -> None:
    r = rules(platform)
    expected = _reference_match(r.key(pattern), r.key(name))
    assert r.globs([pattern]).matches(name) is expected


def test_no_non_ascii_character_folds_to_ascii() -> None:
    """The inherit policy's CORE check relies on it: Codex compares ASCII-only
    (eq_ignore_ascii_case), and the fold agrees because nothing else folds into ASCII."""
    folded_into_ascii = [
        hex(code)
        for code in range(0x80, 0x10000)
        if not 0xD800 <= code <= 0xDFFF and windows_fold(chr(code)).isascii()
    ]
    assert folded_into_ascii == []
