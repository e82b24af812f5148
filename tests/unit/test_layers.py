"""Layers and the overlay parser (``envoverlay.layers``): what an env overlay may hold, the
problems reported with their JSON pointers, and that a malformed overlay never becomes a layer."""

from __future__ import annotations

from typing import Any

import pytest

import envoverlay as eo
from envoverlay import _names
from envoverlay.layers import parse_overlay

#: Linux MAX_ARG_STRLEN: bytes of one ``NAME=value`` string *with* its terminating NUL.
POSIX_LIMIT = 131072
#: Windows: UTF-16 code units of one ``NAME=value`` string.
WINDOWS_LIMIT = 32767
STRASSE_SHARP = "STRA\u00dfE"  # STRAßE: 'ß' has no one-unit upper case, so Windows keeps it
PI_SMALL, PI_CAPITAL = "\u03c0", "\u03a0"  # π / Π: one name on Windows
KELVIN_KEY = "\u212aEY"  # KELVIN SIGN + EY: another name than KEY, even on Windows
PAIR = "\ud83d\ude00"  # a surrogate pair held as two code points


@pytest.mark.parametrize(
    "overlay",
    [
        pytest.param({"PATH": "a", "Path": "b"}, id="PATH and Path"),
        pytest.param({PI_SMALL: "a", PI_CAPITAL: "b"}, id="small and capital pi"),
        pytest.param({"foo": None, "FOO": {"default": "x"}}, id="an unset and a default"),
    ],
)
def test_one_windows_overlay_naming_a_variable_twice_is_a_case_conflict(
    overlay: dict[str, Any],
) -> None:
    with pytest.raises(eo.OverlayError) as caught:
        eo.Layer.from_overlay(overlay, kind="hook", id="h", platform="windows")
    assert [d.code for d in caught.value.diagnostics] == ["case-conflict"]
    # The same overlay is two variables on posix.
    posix = eo.Layer.from_overlay(overlay, kind="hook", id="h", platform="posix")
    assert len(posix.ops) == 2


def test_windows_overlay_with_sharp_s_and_ss_is_no_conflict() -> None:
    overlay = {STRASSE_SHARP: "a", "STRASSE": "b"}
    built = eo.Layer.from_overlay(overlay, kind="hook", id="h", platform="windows")
    assert [op.name for op in built.ops] == [STRASSE_SHARP, "STRASSE"]


def test_an_overlay_may_not_create_a_drive_variable() -> None:
    with pytest.raises(eo.OverlayError) as caught:
        eo.Layer.from_overlay({"=C:": "C:\\x"}, kind="hook", id="h", platform="windows")
    assert [(d.code, d.pointer) for d in caught.value.diagnostics] == [("invalid-name", "/=C:")]


OVERLAY_VALIDATION_CASES = [
    pytest.param({"PATH": {"prepend": [1]}}, [("invalid-op", "/PATH/prepend/0")],
                 id="a non-string prepend entry is reported at its index"),
    pytest.param({"PATH": {"append": ["/a", "/b\0"]}}, [("nul", "/PATH/append/1")],
                 id="a NUL in an append entry is reported at its index"),
    pytest.param({"X": {"set": "a\0"}}, [("nul", "/X/set")],
                 id="a NUL in a set value is reported at the set"),
    pytest.param({"X": "a\0"}, [("nul", "/X")], id="a NUL in a plain string value"),
    pytest.param({"A=B": "x"}, [("invalid-name", "/A=B")], id="a name with '='"),
    pytest.param({"": "x"}, [("invalid-name", "/")], id="an empty name"),
    pytest.param({"X": 1}, [("invalid-op", "/X")], id="a number as an op"),
    pytest.param({"X": {"set": "a", "default": "b"}}, [("invalid-op", "/X")],
                 id="two actions in one op"),
    pytest.param({"A=B": "x", "": "y", "C": "\0", "D": "fine"},
                 [("invalid-name", "/A=B"), ("invalid-name", "/"), ("nul", "/C")],
                 id="every problem of one overlay is reported"),
    pytest.param({"X": "x" * POSIX_LIMIT}, [("too-large", "/X")],
                 id="a value over the posix size limit"),
]  # fmt: skip


@pytest.mark.parametrize(("overlay", "problems"), OVERLAY_VALIDATION_CASES)
def test_malformed_overlays_never_become_layers(
    overlay: dict[str, Any], problems: list[tuple[str, str]]
) -> None:
    with pytest.raises(eo.OverlayError) as caught:
        eo.Layer.from_overlay(overlay, kind="hook", id="h", platform="posix")
    assert [(d.code, d.pointer) for d in caught.value.diagnostics] == problems
    assert all(d.severity == "error" for d in caught.value.diagnostics)


def test_json_overlays_cannot_smuggle_bytes_on_posix() -> None:
    with pytest.raises(eo.OverlayError) as info:
        eo.Layer.from_overlay({"X": "a\udcffb"}, kind="hook", id="h", platform="posix")
    assert info.value.diagnostics[0].code == "invalid-value"
    layer = eo.Layer.from_overlay({"X": "a\udcffb"}, kind="hook", id="h", platform="windows")
    assert layer.ops[0].value == "a\udcffb"  # UTF-16 blocks carry lone surrogates


# -- duplicate names under the platform's key ----------------------------------------------

CASE_CONFLICT_CASES = [
    pytest.param({"KEY": "a", KELVIN_KEY: "b"}, None, id="KEY and the Kelvin spelling: two names"),
    pytest.param({"k": "a", "K": "b"}, ("k", "K"), id="k and K: one name"),
    pytest.param({f"X{PAIR}": "a", "x\U0001f600": "b"}, (f"X{PAIR}", "x\U0001f600"),
                 id="a split pair and its character: one name"),
]  # fmt: skip


@pytest.mark.parametrize(("overlay", "conflict"), CASE_CONFLICT_CASES)
def test_windows_case_conflicts_follow_the_name_key(
    overlay: dict[str, Any], conflict: tuple[str, str] | None
) -> None:
    ops, problems = parse_overlay(overlay, platform="windows")
    if conflict is None:
        assert problems == []
        assert len(ops) == 2
        return
    assert ops == []
    assert [(d.code, d.name) for d in problems] == [("case-conflict", conflict[1])]
    assert f"{conflict[0]!r} and {conflict[1]!r} are one variable on Windows" in problems[0].message


# -- sizes -------------------------------------------------------------------------------------

SIZE_CASES = [
    # (platform, overlay value length that just fits for the name "X")
    pytest.param("posix", POSIX_LIMIT - 3, id="posix"),
    pytest.param("windows", WINDOWS_LIMIT - 2, id="windows"),
]


@pytest.mark.parametrize(("platform", "fits"), SIZE_CASES)
@pytest.mark.parametrize(
    "form",
    [
        pytest.param(lambda v: v, id="a string"),
        pytest.param(lambda v: {"set": v}, id="a set"),
        pytest.param(lambda v: {"default": v, "secret": True}, id="a secret default"),
        pytest.param(lambda v: {"prepend": [v]}, id="a prepend"),
    ],
)
def test_a_value_over_the_variable_limit_is_reported_once_with_the_rules_wording(
    platform: eo.Platform, fits: int, form: Any
) -> None:
    assert parse_overlay({"X": form("x" * fits)}, platform=platform)[1] == []
    ops, problems = parse_overlay({"X": form("x" * (fits + 1))}, platform=platform)
    assert ops == []
    assert [(d.code, d.pointer) for d in problems] == [("too-large", "/X")]
    expected = _names.rules_for(platform).variable_too_large(
        "X", "x" * (fits + 1), origin="overlay"
    )
    assert expected is not None
    assert problems[0].message == expected.message
    assert problems[0].hint == expected.hint
    assert "xxx" not in problems[0].message  # never the value (it may be a secret)


def test_a_path_op_measures_its_entries_joined_by_their_separator() -> None:
    entries = ["x" * 20000, "y" * 20000]
    _, problems = parse_overlay({"X": {"append": entries, "separator": "::"}}, platform="windows")
    assert [d.code for d in problems] == ["too-large"]
    assert "40004 UTF-16 code units" in problems[0].message  # X=, the entries, one '::'
