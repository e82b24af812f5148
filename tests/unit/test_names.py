"""The platform rules (``envoverlay._names``): one object per platform for name keys, globs
over folded names, order, sizes and their findings, and the names-argument normalizer."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from compose_cases import (
    DE_CAPITAL,
    DE_SMALL,
    E_ACUTE_CAPITAL,
    E_ACUTE_SMALL,
    FF_LIGATURE,
    PI_CAPITAL,
    PI_SMALL,
    POSIX_LIMIT,
    STRASSE_SHARP,
    SUN,
    WINDOWS_LIMIT,
    A,
    D,
    LayerSpec,
    P,
    S,
    U,
    build,
    found,
    layer,
)  # fmt: skip
from hypothesis import given
from hypothesis import strategies as st

import envoverlay as eo
from envoverlay._names import (
    DEFAULT_BLOCK_LIMIT,
    POSIX,
    WINDOWS,
    PlatformRules,
    long_runs,
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
    """``auto`` is the running OS: Windows' rules there, POSIX rules everywhere else."""
    assert rules_for("auto") is (WINDOWS if os.name == "nt" else POSIX)


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
    pytest.param("posix", ["*KEY*"], False, "API_KEY_ID", True, id="posix: *TEXT* inside"),
    pytest.param("posix", ["*KEY*"], False, "KEY", True, id="posix: *TEXT* as the whole name"),
    pytest.param("posix", ["*KEY*"], False, "API_KE", False, id="posix: *TEXT* needs all of it"),
    pytest.param("posix", ["*K.Y*"], False, "AKXY", False, id="posix: . in *TEXT* is literal"),
    pytest.param("posix", ["*TOKEN*", "A?C", "X"], False, "ABC", True,
                 id="posix: a list mixing *TEXT*, other globs and exact names"),
    pytest.param("windows", ["*key*"], False, "API_KEY", True, id="windows: *TEXT* ignores case"),
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


# -- names in a composed env ---------------------------------------------------------------

COMPOSED_NAME_CASES = [
    pytest.param("windows", {"Path": "C:\\old"}, [("hook", "h", [P("PATH", "C:\\new")])],
                 [("Path", "C:\\new;C:\\old")],
                 id="windows: inherited Path plus a hook's PATH prepend is one Path, new first"),
    pytest.param("windows", {"PATH": "C:\\old"}, [("hook", "h", [S("Path", "C:\\new")])],
                 [("PATH", "C:\\new")],
                 id="windows: inherited PATH keeps its spelling when a hook sets Path"),
    pytest.param("windows", {},
                 [("config", "c", [S("path", "1")]), ("thread", "t", [S("PATH", "2")])],
                 [("path", "2")],
                 id="windows: a variable created by an op keeps the first spelling seen"),
    pytest.param("windows", {}, [("hook", "h", [S("Foo", "1"), S("FOO", "2")])],
                 [("Foo", "2")],
                 id="windows: two spellings in one layer are one variable"),
    pytest.param("windows", {STRASSE_SHARP: "1"}, [("hook", "h", [S("STRASSE", "2")])],
                 [("STRASSE", "2"), (STRASSE_SHARP, "1")],
                 id="windows: STRAsharpsE and STRASSE are two names (no length-changing fold)"),
    pytest.param("windows", {PI_SMALL: "1"}, [("hook", "h", [S(PI_CAPITAL, "2")])],
                 [(PI_SMALL, "2")],
                 id="windows: small pi and capital pi are one name"),
    pytest.param("windows", {E_ACUTE_CAPITAL: "1"}, [("hook", "h", [S(E_ACUTE_SMALL, "2")])],
                 [(E_ACUTE_CAPITAL, "2")],
                 id="windows: e-acute and E-acute are one name"),
    pytest.param("windows", {DE_CAPITAL: "1"}, [("hook", "h", [U(DE_SMALL)])], [],
                 id="windows: Cyrillic small and capital de are one name"),
    pytest.param("windows", {"FF": "1"}, [("hook", "h", [S(FF_LIGATURE, "2")])],
                 [("FF", "1"), (FF_LIGATURE, "2")],
                 id="windows: the ff ligature and FF are two names"),
    pytest.param("windows", {"=C:": "C:\\work", "Path": "C:\\a"}, [("hook", "h", [S("PATH", "x")])],
                 [("=C:", "C:\\work"), ("Path", "x")],
                 id="windows: an inherited =C: drive variable passes through untouched"),
    pytest.param("windows", {"=D:": "D:\\", "=C:": "C:\\"}, [],
                 [("=C:", "C:\\"), ("=D:", "D:\\")],
                 id="windows: several drive variables pass through, sorted"),
    pytest.param("windows", {"Path": "a", "PATH": "b"}, [],
                 [("Path", "a")],
                 id="windows: of duplicate inherited spellings the first in block order wins"),
    pytest.param("windows", {"PATH": "b", "Path": "a"}, [],
                 [("PATH", "b")],
                 id="windows: the same duplicates in the other order keep the other one"),
    pytest.param("windows", {"Path": "a", "path": "c", "PATH": "b"},
                 [("hook", "h", [A("PATH", "z")])], [("Path", "a;z")],
                 id="windows: ops apply to the surviving spelling of an inherited duplicate"),
    pytest.param("posix", {"Path": "/old"}, [("hook", "h", [P("PATH", "/new")])],
                 [("Path", "/old"), ("PATH", "/new")],
                 id="posix: Path and PATH are two variables"),
    pytest.param("posix", {"Path": "a", "PATH": "b"}, [],
                 [("Path", "a"), ("PATH", "b")],
                 id="posix: differently cased inherited names are not duplicates"),
    pytest.param("posix", {PI_SMALL: "1"}, [("hook", "h", [S(PI_CAPITAL, "2")])],
                 [(PI_SMALL, "1"), (PI_CAPITAL, "2")],
                 id="posix: small pi and capital pi are two names"),
]  # fmt: skip


@pytest.mark.parametrize(("platform", "base", "specs", "expected"), COMPOSED_NAME_CASES)
def test_a_composed_env_follows_the_name_rule(
    platform: eo.Platform,
    base: dict[str, str],
    specs: list[LayerSpec],
    expected: list[tuple[str, str]],
) -> None:
    result = eo.compose(base, build(specs), platform=platform)
    assert list(result.env.items()) == expected
    assert result.ok, result.errors


@pytest.mark.parametrize(
    ("base", "kept", "left_out"),
    [
        pytest.param({"Path": "a", "PATH": "b"}, "Path", ["PATH"],
                     id="a second spelling of an inherited name is reported"),
        pytest.param({"temp": "1", "TEMP": "2", "Temp": "3"}, "temp", ["TEMP", "Temp"],
                     id="every later spelling of an inherited name is reported"),
        pytest.param({PI_CAPITAL: "1", PI_SMALL: "2"}, PI_CAPITAL, [PI_SMALL],
                     id="a non-ASCII inherited duplicate is reported"),
    ],
)  # fmt: skip
def test_windows_duplicates_in_the_base_are_reported(
    base: dict[str, str], kept: str, left_out: list[str]
) -> None:
    result = eo.compose(base, [], platform="windows")
    assert list(result.env) == [kept]
    assert result.env[kept] == base[kept]
    reported = found(result, "duplicate-name")
    assert sorted(d.name or "" for d in reported) == sorted(left_out)
    assert all(d.source == eo.Source("inherited", "launcher") for d in reported)


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


# -- what no environment can hold, in a composed env -------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: S("=C:", "C:\\x"), id="set of a drive variable"),
        pytest.param(lambda: U("=C:"), id="unset of a drive variable"),
        pytest.param(lambda: D("=D:", "D:\\"), id="default of a drive variable"),
        pytest.param(lambda: P("=ExitCode", "0"), id="prepend to =ExitCode"),
    ],
)
def test_ops_may_not_create_names_beginning_with_equals(make: Callable[[], eo.Op]) -> None:
    with pytest.raises(eo.OverlayError) as caught:
        make()
    assert [d.code for d in caught.value.diagnostics] == ["invalid-name"]


BASE_VALIDATION_CASES = [
    pytest.param("posix", "", "x", "invalid-name", id="posix: an inherited empty name"),
    pytest.param("posix", "A=B", "x", "invalid-name", id="posix: an inherited name with '='"),
    pytest.param("posix", "=C:", "C:\\", "invalid-name",
                 id="posix: an inherited name beginning with '='"),
    pytest.param("posix", "A\0B", "x", "nul", id="posix: an inherited name with NUL"),
    pytest.param("posix", "BAD", "x\0y", "nul", id="posix: an inherited value with NUL"),
    pytest.param("posix", "BAD", 1, "invalid-value", id="posix: an inherited int value"),
    pytest.param("posix", "BAD", None, "invalid-value", id="posix: an inherited None value"),
    pytest.param("posix", "BAD", b"x", "invalid-value", id="posix: an inherited bytes value"),
    pytest.param("posix", 7, "x", "invalid-name", id="posix: an inherited int name"),
    pytest.param("windows", "A=B", "x", "invalid-name", id="windows: an inherited name with '='"),
    pytest.param("windows", "=", "x", "invalid-name", id="windows: an inherited name of just '='"),
    pytest.param("windows", "==C:", "x", "invalid-name",
                 id="windows: an inherited name with a second '='"),
    pytest.param("windows", "BAD", ["x"], "invalid-value", id="windows: an inherited list value"),
    pytest.param("windows", "BAD", "x\0", "nul", id="windows: an inherited value with NUL"),
]  # fmt: skip


@pytest.mark.parametrize(("platform", "name", "value", "code"), BASE_VALIDATION_CASES)
def test_bad_inherited_entries_are_reported_and_left_out(
    platform: eo.Platform, name: Any, value: Any, code: str
) -> None:
    base: dict[Any, Any] = {"BEFORE": "1", name: value, "AFTER": "2"}
    result = eo.compose(base, [], platform=platform)
    assert result.env == {"AFTER": "2", "BEFORE": "1"}
    errors = result.errors
    assert [d.code for d in errors] == [code]
    assert errors[0].source == eo.Source("inherited", "launcher")
    assert not result.ok


@pytest.mark.parametrize("via", ["an op", "the inherited map"], ids=lambda v: f"given by {v}")
@pytest.mark.parametrize("length", [1, 40_000], ids=["short", "long"])
def test_a_value_with_a_lone_surrogate_is_an_error_on_posix(via: str, length: int) -> None:
    value = "\ud800" * length
    base = {"X": value} if via == "the inherited map" else {}
    layers = [] if base else [layer("hook", S("X", value))]
    result = eo.compose(base, layers, platform="posix")
    assert "X" not in result.env
    assert [(d.code, d.name) for d in result.errors] == [("invalid-value", "X")]
    if length == 1:  # (40000 units would be over the Windows size limit)
        windows = eo.compose(base, layers, platform="windows")  # UTF-16 blocks carry them
        assert windows.env["X"] == value


# -- sizes in a composed env: reported, an op over the limit rejected, never truncated ----

COMPOSED_SIZE_CASES = [
    # name "X": NAME=value is 2 + len(value) characters
    pytest.param("posix", "x" * (POSIX_LIMIT - 3), False,
                 id="posix: NAME=value of 131071 bytes plus NUL fits"),
    pytest.param("posix", "x" * (POSIX_LIMIT - 2), True,
                 id="posix: NAME=value of 131072 bytes plus NUL is too large"),
    pytest.param("posix", "\u00e9" * 65534 + "a", False,
                 id="posix: multi-byte UTF-8 exactly at the limit fits"),
    pytest.param("posix", "\u00e9" * 65535, True,
                 id="posix: the limit counts UTF-8 bytes, not characters"),
    pytest.param("posix", "x" * 40000, False,
                 id="posix: a value over the windows limit is fine on posix"),
    pytest.param("windows", "x" * (WINDOWS_LIMIT - 2), False,
                 id="windows: NAME=value of 32767 code units fits"),
    pytest.param("windows", "x" * (WINDOWS_LIMIT - 1), True,
                 id="windows: NAME=value of 32768 code units is too large"),
    pytest.param("windows", "\u00e9" * (WINDOWS_LIMIT - 2), False,
                 id="windows: a BMP character is one code unit"),
    pytest.param("windows", SUN * 16382 + "a", False,
                 id="windows: characters outside the BMP exactly at the limit fit"),
    pytest.param("windows", SUN * 16383, True,
                 id="windows: a character outside the BMP counts as two code units"),
]  # fmt: skip


@pytest.mark.parametrize(("platform", "value", "too_large"), COMPOSED_SIZE_CASES)
def test_size_limit_of_a_value_set_by_an_op(
    platform: eo.Platform, value: str, too_large: bool
) -> None:
    result = eo.compose(
        {"KEEP": "1"}, [layer("hook", S("X", value), S("OTHER", "1"))], platform=platform
    )
    assert result.env["OTHER"] == "1"
    errors = found(result, "too-large")
    if too_large:
        assert "X" not in result.env
        assert [(d.severity, d.name, d.source) for d in errors] == [
            ("error", "X", eo.Source("hook", "hook"))
        ]
        assert result.provenance("X").history[-1].status == "rejected"
    else:
        assert errors == []
        assert result.env["X"] == value


@pytest.mark.parametrize(("platform", "value", "too_large"), COMPOSED_SIZE_CASES)
def test_size_limit_of_an_inherited_value(
    platform: eo.Platform, value: str, too_large: bool
) -> None:
    result = eo.compose({"X": value, "KEEP": "1"}, [], platform=platform)
    assert result.env["X"] == value  # kept, never truncated
    errors = found(result, "too-large")
    if too_large:
        assert [(d.severity, d.name, d.source) for d in errors] == [
            ("error", "X", eo.Source("inherited", "launcher"))
        ]
    else:
        assert errors == []


BLOCK_CASES = [
    pytest.param("posix", {"A": "x" * 50, "B": "y" * 50}, 100, True,
                 id="posix: a block over a small configured limit is reported"),
    pytest.param("posix", {"A": "x" * 50, "B": "y" * 50}, 10_000, False,
                 id="posix: a block well under the configured limit is not"),
    pytest.param("posix", {f"V{i}": "x" * 120_000 for i in range(20)}, None, True,
                 id="posix: twenty 120 kB variables are over the default 2 MiB"),
    pytest.param("posix", {f"V{i}": "x" * 100_000 for i in range(10)}, None, False,
                 id="posix: ten 100 kB variables are under the default 2 MiB"),
    pytest.param("windows", {"A": "x" * 50, "B": "y" * 50}, 100, True,
                 id="windows: a block over a small configured limit is reported"),
    pytest.param("windows", {f"V{i}": "x" * 30_000 for i in range(40)}, None, True,
                 id="windows: forty 30000-unit variables are over the default 2 MiB"),
    pytest.param("windows", {f"V{i}": "x" * 30_000 for i in range(10)}, None, False,
                 id="windows: ten 30000-unit variables are under the default 2 MiB"),
]  # fmt: skip


@pytest.mark.parametrize(("platform", "base", "limit", "reported"), BLOCK_CASES)
def test_block_size_is_reported_never_truncated(
    platform: eo.Platform, base: dict[str, str], limit: int | None, reported: bool
) -> None:
    kwargs: dict[str, Any] = {} if limit is None else {"block_limit": limit}
    result = eo.compose(base, [], platform=platform, **kwargs)
    assert result.env == base
    errors = found(result, "block-too-large")
    assert len(errors) == (1 if reported else 0)
    assert all(d.severity == "error" for d in errors)


def test_an_op_pushing_the_block_over_the_limit_is_still_applied() -> None:
    result = eo.compose({"A": "x" * 50}, [layer("hook", S("B", "y" * 50))],
                        platform="posix", block_limit=100)  # fmt: skip
    assert result.env == {"A": "x" * 50, "B": "y" * 50}
    assert [d.code for d in result.errors] == ["block-too-large"]


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


# Glob patterns over letters with a Kelvin-sign spelling, wildcards and regex-special
# characters (specific to comparing with the reference matcher).
_GLOB_TEXT = st.text(alphabet="aAkK\u212a?*.[", min_size=1, max_size=6)


@pytest.mark.parametrize("platform", ["posix", "windows"])
@given(pattern=_GLOB_TEXT, name=st.text(alphabet="aAkK\u212a.[", max_size=6))
def test_globs_match_like_the_reference_over_folded_names(
    platform: str, pattern: str, name: str
) -> None:
    r = rules(platform)
    expected = _reference_match(r.key(pattern), r.key(name))
    assert r.globs([pattern]).matches(name) is expected


@pytest.mark.parametrize("platform", ["posix", "windows"])
@given(
    patterns=st.lists(_GLOB_TEXT, min_size=1, max_size=4), name=st.text("aAkK\u212a.[", max_size=6)
)
def test_a_list_of_globs_matches_when_one_of_them_does(
    platform: str, patterns: list[str], name: str
) -> None:
    # The matcher sorts patterns into exact names, *TEXT* searches and other globs.
    r = rules(platform)
    expected = any(_reference_match(r.key(pattern), r.key(name)) for pattern in patterns)
    assert r.globs(patterns).matches(name) is expected


def test_no_non_ascii_character_folds_to_ascii() -> None:
    """The inherit policy's CORE check relies on it: Codex compares ASCII-only
    (eq_ignore_ascii_case), and the fold agrees because nothing else folds into ASCII."""
    folded_into_ascii = [
        hex(code)
        for code in range(0x80, 0x10000)
        if not 0xD800 <= code <= 0xDFFF and windows_fold(chr(code)).isascii()
    ]
    assert folded_into_ascii == []


@given(st.text(alphabet="ab:", max_size=60), st.integers(min_value=1, max_value=12))
def test_long_runs_finds_every_run_at_least_that_long(text, length):
    """The probes every ``length`` characters find exactly the runs splitting gives."""
    expected, start = [], 0
    for part in text.split(":"):
        if len(part) >= length:
            expected.append((start, start + len(part)))
        start += len(part) + 1
    assert long_runs(text, ":", length) == expected


def test_long_runs_needs_a_positive_length() -> None:
    with pytest.raises(eo.ArgumentError, match="length of 1 or more"):
        long_runs("a:b", ":", 0)


@pytest.mark.parametrize("platform", ["posix", "windows"])
def test_fitting_chars_fit_whatever_they_hold(platform: str) -> None:
    """The widest characters (4 bytes, 2 UTF-16 units) that many fit: the size checks may
    skip measuring a name and value no longer than that."""
    r = rules(platform)
    widest = "\U0001f600"
    assert r.variable_size("", widest * r.fitting_chars) <= r.variable_limit
    assert r.variable_too_large("", widest * r.fitting_chars, origin="inherited") is None
