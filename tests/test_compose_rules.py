"""The composition rules of SPEC §1 and §2, as tables, on posix and on windows.

The cases are written from the SPEC and the OS facts it cites, not from the implementation,
so they double as a review of it. A case the implementation disagrees with is kept and marked
``xfail(strict=True)`` with the reason, so fixing the code turns it into a failure to clean up.
"""

from __future__ import annotations

from collections.abc import Callable
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

import envoverlay as eo

NAME_CASES = [
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


@pytest.mark.parametrize(("platform", "base", "specs", "expected"), NAME_CASES)
def test_names(
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


@pytest.mark.parametrize(
    ("platform", "lookup", "expected_name"),
    [
        pytest.param("windows", "PATH", "Path", id="windows: provenance is found by any spelling"),
        pytest.param("windows", "path", "Path", id="windows: provenance by lower case too"),
        pytest.param("posix", "Path", "Path", id="posix: provenance is found by the exact name"),
    ],
)
def test_provenance_lookup_follows_the_name_rule(
    platform: eo.Platform, lookup: str, expected_name: str
) -> None:
    result = eo.compose({"Path": "a"}, [], platform=platform)
    assert result.provenance(lookup).name == expected_name


def test_posix_provenance_lookup_is_case_sensitive() -> None:
    result = eo.compose({"Path": "a"}, [], platform="posix")
    with pytest.raises(KeyError):
        result.provenance("PATH")


OP_VALIDATION_CASES = [
    pytest.param(lambda: S("", "x"), "invalid-name", id="an op on an empty name"),
    pytest.param(lambda: U(""), "invalid-name", id="an unset of an empty name"),
    pytest.param(lambda: S("A=B", "x"), "invalid-name", id="an op on a name with '='"),
    pytest.param(lambda: S("A=", "x"), "invalid-name", id="an op on a name ending with '='"),
    pytest.param(lambda: S("A\0B", "x"), "nul", id="an op on a name with NUL"),
    pytest.param(lambda: S("A", "x\0y"), "nul", id="a set value with NUL"),
    pytest.param(lambda: S("A", "x\0y", secret=True), "nul", id="a secret set value with NUL"),
    pytest.param(lambda: D("A", "\0"), "nul", id="a default value with NUL"),
    pytest.param(lambda: P("A", ["/a", "/b\0"]), "nul", id="a prepend entry with NUL"),
    pytest.param(lambda: A("A", "\0"), "nul", id="an append entry with NUL"),
    pytest.param(lambda: S("A", 1), "invalid-value",  # type: ignore[arg-type]
                 id="a set value that is not a string"),
    pytest.param(lambda: D("A", None), "invalid-value",  # type: ignore[arg-type]
                 id="a default value that is None"),
    pytest.param(lambda: P("A", []), "invalid-op", id="a prepend without entries"),
    pytest.param(lambda: P("A", "/a", separator=""), "invalid-op",
                 id="a prepend with an empty separator"),
]  # fmt: skip


@pytest.mark.parametrize(("make", "code"), OP_VALIDATION_CASES)
def test_invalid_ops_cannot_be_built(make: Callable[[], eo.Op], code: str) -> None:
    with pytest.raises(eo.OverlayError) as caught:
        make()
    assert isinstance(caught.value, eo.EnvOverlayError)
    assert isinstance(caught.value, ValueError)
    assert [d.code for d in caught.value.diagnostics] == [code]


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


SIZE_CASES = [
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


@pytest.mark.parametrize(("platform", "value", "too_large"), SIZE_CASES)
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


@pytest.mark.parametrize(("platform", "value", "too_large"), SIZE_CASES)
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


GROWING_OP_CASES = [
    pytest.param("posix", "/" + "a" * (POSIX_LIMIT - 10), P("X", "/bbbbbbbbb"),
                 id="posix: a prepend that pushes a value over the limit is rejected"),
    pytest.param("posix", "/" + "a" * (POSIX_LIMIT - 10), A("X", "/bbbbbbbbb"),
                 id="posix: an append that pushes a value over the limit is rejected"),
    pytest.param("windows", "C:\\" + "a" * (WINDOWS_LIMIT - 10), P("X", "C:\\bbbbbb"),
                 id="windows: a prepend that pushes a value over the limit is rejected"),
    pytest.param("windows", "C:\\" + "a" * (WINDOWS_LIMIT - 10), A("x", "C:\\bbbbbb"),
                 id="windows: an append through another spelling is measured too"),
]  # fmt: skip


@pytest.mark.parametrize(("platform", "before", "op"), GROWING_OP_CASES)
def test_an_op_that_would_grow_a_value_over_the_limit_is_rejected(
    platform: eo.Platform, before: str, op: eo.Op
) -> None:
    result = eo.compose({"X": before}, [layer("provider", op, S("OTHER", "1"))], platform=platform)
    assert result.env == {"X": before, "OTHER": "1"}
    assert [(d.code, d.source) for d in result.errors] == [
        ("too-large", eo.Source("provider", "provider"))
    ]


@pytest.mark.parametrize("platform", ["posix", "windows"])
def test_a_default_that_does_not_fire_on_an_oversize_value_is_skipped(
    platform: eo.Platform,
) -> None:
    big = "x" * (POSIX_LIMIT if platform == "posix" else WINDOWS_LIMIT)
    result = eo.compose({"X": big}, [layer("hook", D("X", "small"))], platform=platform)
    assert result.env["X"] == big
    assert result.provenance("X").history[-1].status == "skipped"
    assert [d.source for d in found(result, "too-large")] == [eo.Source("inherited", "launcher")]


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


WARNING_CASES = [
    pytest.param("posix", {}, S("MY-VAR", "1"), [("non-portable-name", "MY-VAR")],
                 id="posix: a name with a dash is non-portable"),
    pytest.param("posix", {}, S("1ABC", "1"), [("non-portable-name", "1ABC")],
                 id="posix: a name starting with a digit is non-portable"),
    pytest.param("posix", {}, S("A.B", "1"), [("non-portable-name", "A.B")],
                 id="posix: a name with a dot is non-portable"),
    pytest.param("posix", {}, S(PI_SMALL, "1"), [("non-portable-name", PI_SMALL)],
                 id="posix: a non-ASCII name is non-portable"),
    pytest.param("windows", {}, S("MY-VAR", "1"), [("non-portable-name", "MY-VAR")],
                 id="windows: a name with a dash is non-portable too"),
    pytest.param("posix", {}, S("_a1_B", "1"), [], id="posix: a portable name is not warned"),
    pytest.param("posix", {}, S("_", "1"), [], id="posix: a lone underscore is portable"),
    pytest.param("posix", {"A-B": "1"}, S("X", "1"), [],
                 id="posix: an inherited non-portable name is not warned"),
    pytest.param("posix", {}, P("PATH", "bin"), [("relative-path-entry", "PATH")],
                 id="posix: prepending a relative entry is warned"),
    pytest.param("posix", {}, A("PATH", "./x"), [("relative-path-entry", "PATH")],
                 id="posix: appending a dot-relative entry is warned"),
    pytest.param("posix", {}, P("PATH", "~/bin"), [("relative-path-entry", "PATH")],
                 id="posix: a tilde entry is relative, as nothing expands it"),
    pytest.param("posix", {}, P("PATH", "$HOME/bin"), [("relative-path-entry", "PATH")],
                 id="posix: a dollar entry is relative, as nothing expands it"),
    pytest.param("posix", {"PATH": "/a"}, P("PATH", ["", "/n"]), [("empty-path-entry", "PATH")],
                 id="posix: an empty prepended entry is warned (and skipped)"),
    pytest.param("posix", {}, S("PATH", "/a::/b"), [("empty-path-entry", "PATH")],
                 id="posix: a set PATH with an empty entry is warned"),
    pytest.param("posix", {}, S("PATH", "/a:"), [("empty-path-entry", "PATH")],
                 id="posix: a set PATH with a trailing colon is warned"),
    pytest.param("posix", {}, S("PYTHONPATH", "src:/x"), [("relative-path-entry", "PYTHONPATH")],
                 id="posix: a set PYTHONPATH with a relative entry is warned"),
    pytest.param("posix", {}, P("PATH", "/usr/bin"), [],
                 id="posix: an absolute entry is not warned"),
    pytest.param("posix", {"PATH": "/a::rel"}, P("PATH", "/n"), [],
                 id="posix: empty or relative entries already inherited are not warned"),
    pytest.param("windows", {}, P("Path", "x\\y"), [("relative-path-entry", "Path")],
                 id="windows: a relative entry is warned"),
    pytest.param("windows", {}, P("Path", ["C:\\x", "D:/y", "\\\\srv\\share"]), [],
                 id="windows: drive and UNC entries are absolute"),
    pytest.param("windows", {}, S("Path", "C:\\a;;C:\\b"), [("empty-path-entry", "Path")],
                 id="windows: a set Path with an empty entry is warned"),
]  # fmt: skip


@pytest.mark.parametrize(("platform", "base", "op", "expected"), WARNING_CASES)
def test_warnings(
    platform: eo.Platform, base: dict[str, str], op: eo.Op, expected: list[tuple[str, str]]
) -> None:
    result = eo.compose(base, [layer("thread", op)], platform=platform)
    assert result.ok, result.errors
    assert [(d.code, d.name) for d in result.warnings] == expected
    assert all(d.source == eo.Source("thread", "thread") for d in result.warnings)
    assert op.name in result.env  # warnings never stop an op
