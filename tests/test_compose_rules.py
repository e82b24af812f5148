"""The composition rules of SPEC §1 and §2, as tables, on posix and on windows.

The cases are written from the SPEC and the OS facts it cites, not from the implementation,
so they double as a review of it. A case the implementation disagrees with is kept and marked
``xfail(strict=True)`` with the reason, so fixing the code turns it into a failure to clean up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

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

SensitiveMode = Literal["warn", "deny", "allow"]

# ---------------------------------------------------------------------------------------
# §2 Windows names (and their posix counterparts)
# ---------------------------------------------------------------------------------------

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


def test_an_overlay_may_not_create_a_drive_variable() -> None:
    with pytest.raises(eo.OverlayError) as caught:
        eo.Layer.from_overlay({"=C:": "C:\\x"}, kind="hook", id="h", platform="windows")
    assert [(d.code, d.pointer) for d in caught.value.diagnostics] == [("invalid-name", "/=C:")]


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


# ---------------------------------------------------------------------------------------
# §1 protected names
# ---------------------------------------------------------------------------------------

PROTECTED_CASES = [
    pytest.param("posix", ["CODEX_THREAD_ID"], {}, [("hook", "h", [S("CODEX_THREAD_ID", "x")])],
                 {"OTHER": "1"}, ["CODEX_THREAD_ID"],
                 id="posix: a hook setting an exact protected name is rejected"),
    pytest.param("posix", ["CODEX_*"], {}, [("hook", "h", [S("CODEX_SESSION_ID", "x")])],
                 {"OTHER": "1"}, ["CODEX_SESSION_ID"],
                 id="posix: a star glob protects every matching name"),
    pytest.param("posix", ["RUNNER_?"], {},
                 [("hook", "h", [S("RUNNER_A", "x"), S("RUNNER_AB", "y")])],
                 {"RUNNER_AB": "y", "OTHER": "1"}, ["RUNNER_A"],
                 id="posix: a question-mark glob matches exactly one character"),
    pytest.param("posix", ["HOME"], {}, [("hook", "h", [S("HOMEDIR", "x")])],
                 {"HOMEDIR": "x", "OTHER": "1"}, [],
                 id="posix: an exact protected name does not protect longer names"),
    pytest.param("posix", ["CODEX_THREAD_ID"], {}, [("hook", "h", [S("codex_thread_id", "x")])],
                 {"codex_thread_id": "x", "OTHER": "1"}, [],
                 id="posix: another spelling is another, unprotected variable"),
    pytest.param("posix", ["CODEX_*"], {}, [("hook", "h", [S("codex_x", "x")])],
                 {"codex_x": "x", "OTHER": "1"}, [],
                 id="posix: protected globs are case-sensitive"),
    pytest.param("windows", ["CODEX_THREAD_ID"], {}, [("hook", "h", [S("codex_thread_id", "x")])],
                 {"OTHER": "1"}, ["codex_thread_id"],
                 id="windows: another spelling of a protected name is rejected"),
    pytest.param("windows", ["codex_*"], {}, [("hook", "h", [S("CODEX_X", "x")])],
                 {"OTHER": "1"}, ["CODEX_X"],
                 id="windows: protected globs ignore case"),
    pytest.param("posix", ["HOME"], {"HOME": "/h"}, [("hook", "h", [U("HOME")])],
                 {"HOME": "/h", "OTHER": "1"}, ["HOME"],
                 id="posix: an unset of a protected name is rejected and the value kept"),
    pytest.param("posix", ["PATH"], {"PATH": "/a"}, [("provider", "p", [P("PATH", "/n")])],
                 {"PATH": "/a", "OTHER": "1"}, ["PATH"],
                 id="posix: a provider's prepend to a protected name is rejected"),
    pytest.param("posix", ["HOME"], {"HOME": "/h"}, [("config", "c", [S("HOME", "/x")])],
                 {"HOME": "/h", "OTHER": "1"}, ["HOME"],
                 id="posix: a config layer may not change a protected name"),
    pytest.param("posix", ["HOME"], {"HOME": "/h"}, [("thread", "t", [D("HOME", "/x")])],
                 {"HOME": "/h", "OTHER": "1"}, ["HOME"],
                 id="posix: a thread layer may not change a protected name"),
    pytest.param("posix", [], {}, [("runtime", "rt", [S("CODEX_THREAD_ID", "t1")]),
                                   ("hook", "h", [S("CODEX_THREAD_ID", "evil")])],
                 {"CODEX_THREAD_ID": "t1", "OTHER": "1"}, ["CODEX_THREAD_ID"],
                 id="posix: a name the runtime layer sets is protected automatically"),
    pytest.param("posix", [], {"X": "1"}, [("runtime", "rt", [U("X")]),
                                           ("thread", "t", [S("X", "2")])],
                 {"OTHER": "1"}, ["X"],
                 id="posix: a name the runtime layer unsets is protected automatically"),
    pytest.param("windows", [], {}, [("runtime", "rt", [S("CODEX_THREAD_ID", "t1")]),
                                     ("hook", "h", [S("Codex_Thread_Id", "evil")])],
                 {"CODEX_THREAD_ID": "t1", "OTHER": "1"}, ["Codex_Thread_Id"],
                 id="windows: runtime protection covers every spelling"),
    pytest.param("posix", ["CODEX_THREAD_ID"], {},
                 [("runtime", "rt", [S("CODEX_THREAD_ID", "t1")])],
                 {"CODEX_THREAD_ID": "t1"}, [],
                 id="posix: the runtime layer itself may change a protected name"),
    pytest.param("posix", [], {"PATH": "/usr/bin"},
                 [("runtime", "rt", [P("PATH", ["/rt/bin"])]),
                  ("hook", "venv", [P("PATH", ["/venv/bin"])])],
                 {"PATH": "/rt/bin:/venv/bin:/usr/bin", "OTHER": "1"}, [],
                 id="posix: a runtime prepend protects nothing; the hook's prepend applies"),
    pytest.param("windows", [], {},
                 [("runtime", "rt", [D("PAGER", "cat")]), ("hook", "h", [S("PAGER", "less")])],
                 {"PAGER": "less", "OTHER": "1"}, [],
                 id="windows: a runtime default protects nothing; the hook's value stands"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("platform", "protected", "base", "specs", "expected", "rejected"), PROTECTED_CASES
)
def test_protected_names(
    platform: eo.Platform,
    protected: list[str],
    base: dict[str, str],
    specs: list[LayerSpec],
    expected: dict[str, str],
    rejected: list[str],
) -> None:
    # Every non-runtime layer also sets OTHER: the rest of a layer with a rejected op applies.
    layers = build(
        [(kind, lid, [*ops] if kind == "runtime" else [*ops, S("OTHER", "1")])
         for kind, lid, ops in specs]
    )  # fmt: skip
    result = eo.compose(base, layers, platform=platform, protected=protected)
    assert result.env == expected
    errors = found(result, "protected")
    assert [d.name for d in errors] == rejected
    assert all(d.severity == "error" and d.source is not None for d in errors)
    assert all(d.source.kind != "runtime" for d in errors if d.source is not None)
    for d in errors:
        assert d.name is not None
        steps = [c for c in result.provenance(d.name).history if c.source == d.source]
        assert [c.status for c in steps] == ["rejected"]


# ---------------------------------------------------------------------------------------
# §1 sensitive names
# ---------------------------------------------------------------------------------------

SENSITIVE_CASES = [
    pytest.param("posix", "warn", "hook", S("LD_PRELOAD", "/x.so"), True, "warning",
                 id="posix: a hook's LD_PRELOAD is applied with a warning by default"),
    pytest.param("posix", "warn", "provider", A("LD_LIBRARY_PATH", "/l"), True, "warning",
                 id="posix: a provider's LD_LIBRARY_PATH append is applied with a warning"),
    pytest.param("posix", "deny", "hook", S("LD_PRELOAD", "/x.so"), False, "error",
                 id="posix: a hook's LD_PRELOAD is rejected under deny"),
    pytest.param("posix", "deny", "provider", S("BASH_ENV", "/x.sh"), False, "error",
                 id="posix: a provider's BASH_ENV is rejected under deny"),
    pytest.param("posix", "deny", "hook", U("LD_AUDIT"), False, "error",
                 id="posix: even a hook's unset of a sensitive name is rejected under deny"),
    pytest.param("posix", "allow", "hook", S("LD_PRELOAD", "/x.so"), True, None,
                 id="posix: a hook's LD_PRELOAD is applied silently under allow"),
    pytest.param("posix", "deny", "config", S("LD_PRELOAD", "/x.so"), True, None,
                 id="posix: config layers are not checked for sensitive names"),
    pytest.param("posix", "deny", "thread", S("NODE_OPTIONS", "--x"), True, None,
                 id="posix: thread layers are not checked for sensitive names"),
    pytest.param("posix", "deny", "runtime", S("PS4", "+ "), True, None,
                 id="posix: the runtime layer is not checked for sensitive names"),
    pytest.param("posix", "deny", "hook", S("BASH_FUNC_ls%%", "() { :; }"), False, "error",
                 id="posix: an exported bash function is sensitive"),
    pytest.param("posix", "deny", "hook", S("GIT_CONFIG_COUNT", "1"), False, "error",
                 id="posix: GIT_CONFIG_ variables are sensitive"),
    pytest.param("posix", "deny", "hook", S("DYLD_INSERT_LIBRARIES", "/x"), False, "error",
                 id="posix: DYLD_ variables are sensitive"),
    pytest.param("posix", "deny", "hook", S("PROMPT_COMMAND", "x"), False, "error",
                 id="posix: PROMPT_COMMAND is sensitive"),
    pytest.param("posix", "deny", "hook", S("PYTHONSTARTUP", "/x.py"), False, "error",
                 id="posix: PYTHONSTARTUP is sensitive"),
    pytest.param("posix", "deny", "hook", S("JAVA_TOOL_OPTIONS", "-javaagent:x"), False, "error",
                 id="posix: JAVA_TOOL_OPTIONS is sensitive"),
    pytest.param("posix", "deny", "hook", S("GLIBC_TUNABLES", "x"), False, "error",
                 id="posix: GLIBC_TUNABLES is sensitive"),
    pytest.param("posix", "deny", "hook", S("ZDOTDIR", "/x"), False, "error",
                 id="posix: ZDOTDIR is sensitive"),
    pytest.param("posix", "deny", "hook", S("DOTNET_STARTUP_HOOKS", "x.dll"), False, "error",
                 id="posix: DOTNET_STARTUP_HOOKS is sensitive"),
    pytest.param("posix", "deny", "hook", S("ENVIRONMENT", "prod"), True, None,
                 id="posix: ENVIRONMENT is not ENV (sensitive names are whole names)"),
    pytest.param("posix", "deny", "hook", S("ld_preload", "x"), True, None,
                 id="posix: ld_preload is not the loader's LD_PRELOAD"),
    pytest.param("posix", "deny", "hook", S("VIRTUAL_ENV", "/v"), True, None,
                 id="posix: an ordinary name is applied under deny"),
    pytest.param("windows", "deny", "hook", S("comspec", "x.exe"), False, "error",
                 id="windows: sensitive names are matched ignoring case"),
    pytest.param("windows", "warn", "provider", S("NODE_OPTIONS", "--x"), True, "warning",
                 id="windows: a provider's NODE_OPTIONS is applied with a warning"),
    pytest.param("windows", "deny", "hook", A("PATHEXT", ".PY"), False, "error",
                 id="windows: PATHEXT is sensitive"),
    pytest.param("windows", "deny", "config", S("ComSpec", "x.exe"), True, None,
                 id="windows: config layers are not checked for sensitive names"),
]  # fmt: skip


@pytest.mark.parametrize(("platform", "mode", "kind", "op", "applied", "severity"), SENSITIVE_CASES)
def test_sensitive_names(
    platform: eo.Platform,
    mode: SensitiveMode,
    kind: eo.LayerKind,
    op: eo.Op,
    applied: bool,
    severity: str | None,
) -> None:
    base = {op.name: "inherited"}
    result = eo.compose(
        base,
        [layer(kind, op, S("OTHER", "1"))],
        platform=platform,
        sensitive=mode,
    )
    assert result.env["OTHER"] == "1"  # the rest of the layer applies either way
    reported = found(result, "sensitive")
    if severity is None:
        assert reported == []
    else:
        assert [(d.severity, d.name, d.source) for d in reported] == [
            (severity, op.name, eo.Source(kind, kind))
        ]
    last = result.provenance(op.name).history[-1]
    if applied:
        assert last.status == "applied"
    else:
        assert last.status == "rejected"
        assert result.env[op.name] == "inherited"


@pytest.mark.parametrize("platform", ["posix", "windows"])
@pytest.mark.parametrize("mode", ["warn", "deny", "allow"], ids=lambda m: f"sensitive={m}")
@pytest.mark.parametrize(
    ("specs", "a_hook_sets_it"),
    [
        pytest.param([], False, id="with no layers"),
        pytest.param([("hook", "h", [S("OTHER", "1")])], False,
                     id="with a hook touching something else"),
        pytest.param([("config", "c", [S("LD_PRELOAD", "/x.so")])], False,
                     id="with a config layer setting another loader variable"),
        pytest.param([("hook", "h", [S("LD_LIBRARY_PATH", "/evil")])], True,
                     id="with a hook setting it"),
    ],
)  # fmt: skip
def test_inherited_ld_library_path_is_never_stripped(
    platform: eo.Platform, mode: SensitiveMode, specs: list[LayerSpec], a_hook_sets_it: bool
) -> None:
    base = {"LD_LIBRARY_PATH": "/usr/local/cuda/lib64", "HOME": "/h"}
    result = eo.compose(base, build(specs), platform=platform, sensitive=mode)
    # Only an op may change it (and under deny a hook's op is rejected); nothing strips it.
    changed = a_hook_sets_it and mode != "deny"
    assert result.env["LD_LIBRARY_PATH"] == ("/evil" if changed else "/usr/local/cuda/lib64")
    assert "LD_LIBRARY_PATH" not in result.removed


# ---------------------------------------------------------------------------------------
# §2 validation
# ---------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------
# §1 inherit policy
# ---------------------------------------------------------------------------------------

POSIX_BASE = {
    "PATH": "/bin", "HOME": "/h", "LANG": "C", "FOO": "1", "Path": "/x",
    "AWS_SECRET_ACCESS_KEY": "k", "GITHUB_TOKEN": "t", "api_key": "a", "MONKEY": "m",
    "AWS_REGION": "eu", "XAWS_REGION": "x", "PATHEXT": "p", "MYPATH": "m", "AB": "1",
    "A": "1", "ABC": "1", "LC_ALL": "C", "X[1]": "b", "X1": "c",
}  # fmt: skip
WINDOWS_BASE = {
    "Path": "C:\\w", "SystemRoot": "C:\\Windows", "ProgramFiles(x86)": "C:\\p", "ComSpec": "c",
    "USERPROFILE": "C:\\u", "FOO": "1", "=C:": "C:\\", "HOME": "C:\\h",
}  # fmt: skip

POLICY_CASES = [
    pytest.param("posix", eo.InheritPolicy(), POSIX_BASE, list(POSIX_BASE),
                 id="posix: inherit all keeps everything"),
    pytest.param("posix", eo.InheritPolicy(inherit="none"), POSIX_BASE, [],
                 id="posix: inherit none keeps nothing"),
    pytest.param("posix", eo.InheritPolicy(inherit="core"), POSIX_BASE,
                 ["PATH", "HOME", "LANG", "Path", "LC_ALL"],
                 id="posix: inherit core keeps the CORE names, matched ignoring case"),
    pytest.param("windows", eo.InheritPolicy(inherit="core"),
                 {k: v for k, v in WINDOWS_BASE.items() if k != "=C:"},
                 ["ComSpec", "Path", "ProgramFiles(x86)", "SystemRoot", "USERPROFILE"],
                 id="windows: inherit core keeps the windows CORE names"),
    pytest.param("posix", eo.InheritPolicy(default_excludes=True),
                 {k: POSIX_BASE[k] for k in ("PATH", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN",
                                             "api_key", "MONKEY", "FOO")},
                 ["PATH", "FOO"],
                 id="posix: default excludes drop KEY, SECRET and TOKEN names ignoring case"),
    pytest.param("posix", eo.InheritPolicy(),
                 {"GITHUB_TOKEN": "t", "api_key": "a"}, ["GITHUB_TOKEN", "api_key"],
                 id="posix: default excludes are off unless asked for"),
    pytest.param("posix", eo.InheritPolicy(exclude=["AWS_*"]),
                 {"AWS_REGION": "eu", "XAWS_REGION": "x", "aws_x": "y"}, ["XAWS_REGION"],
                 id="posix: exclude globs match whole names ignoring case"),
    pytest.param("posix", eo.InheritPolicy(exclude=["aws_*"]),
                 {"AWS_REGION": "eu", "HOME": "/h"}, ["HOME"],
                 id="posix: a lower-case exclude glob removes an upper-case name"),
    pytest.param("posix", eo.InheritPolicy(exclude=["A?"]),
                 {"AB": "1", "A": "1", "ABC": "1"}, ["A", "ABC"],
                 id="posix: a question mark matches exactly one character"),
    pytest.param("posix", eo.InheritPolicy(exclude=["PATH"]),
                 {"PATH": "/b", "PATHEXT": "p", "MYPATH": "m"}, ["PATHEXT", "MYPATH"],
                 id="posix: an exclude without wildcards matches only that name"),
    pytest.param("posix", eo.InheritPolicy(exclude=["X[1]"]),
                 {"X[1]": "b", "X1": "c"}, ["X1"],
                 id="posix: brackets in a glob are literal characters"),
    pytest.param("posix", eo.InheritPolicy(include_only=["PATH", "HOME"]), POSIX_BASE,
                 ["PATH", "HOME", "Path"],
                 id="posix: include_only keeps only matching names, ignoring case"),
    pytest.param("posix", eo.InheritPolicy(include_only=["lc_*"]), POSIX_BASE, ["LC_ALL"],
                 id="posix: an include_only glob ignores case"),
    pytest.param("posix", eo.InheritPolicy(exclude=["AWS_*"], include_only=["AWS_*", "HOME"]),
                 POSIX_BASE, ["HOME"],
                 id="posix: include_only does not re-add what exclude removed"),
    pytest.param("posix", eo.InheritPolicy(inherit="core", include_only=["PATH", "FOO"]),
                 POSIX_BASE, ["PATH", "Path"],
                 id="posix: include_only narrows inherit core further"),
    pytest.param("windows", eo.InheritPolicy(exclude=["path"]), WINDOWS_BASE,
                 ["=C:", "ComSpec", "FOO", "HOME", "ProgramFiles(x86)", "SystemRoot",
                  "USERPROFILE"],
                 id="windows: exclude ignores case"),
    pytest.param("windows", eo.InheritPolicy(exclude=["programfiles(*)"]), WINDOWS_BASE,
                 ["=C:", "ComSpec", "FOO", "HOME", "Path", "SystemRoot", "USERPROFILE"],
                 id="windows: parentheses in a glob are literal characters"),
]  # fmt: skip


@pytest.mark.parametrize(("platform", "policy", "base", "kept"), POLICY_CASES)
def test_inherit_policy(
    platform: eo.Platform, policy: eo.InheritPolicy, base: dict[str, str], kept: list[str]
) -> None:
    result = eo.compose(base, [], platform=platform, policy=policy)
    assert list(result.env) == kept
    assert result.ok
    assert sorted(result.removed) == sorted(set(base) - set(kept))
    for name in result.removed:
        assert result.removed[name].source.id == "inherit-policy"


@pytest.mark.parametrize("platform", ["posix", "windows"])
@pytest.mark.parametrize(
    "policy",
    [
        pytest.param(eo.InheritPolicy(include_only=["PATH"]), id="include_only"),
        pytest.param(eo.InheritPolicy(inherit="none"), id="inherit none"),
        pytest.param(eo.InheritPolicy(inherit="core"), id="inherit core"),
        pytest.param(eo.InheritPolicy(exclude=["*"], default_excludes=True),
                     id="exclude everything"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("kind", ["config", "provider", "hook", "thread", "runtime"])
def test_the_inherit_policy_never_removes_overlay_values(
    platform: eo.Platform, policy: eo.InheritPolicy, kind: eo.LayerKind
) -> None:
    result = eo.compose(
        {"MY_TOKEN": "inherited", "PATH": "/bin"},
        [layer(kind, S("MY_TOKEN", "overlay"), S("NEW_VAR", "v"))],
        platform=platform,
        policy=policy,
    )
    assert result.env["MY_TOKEN"] == "overlay"
    assert result.env["NEW_VAR"] == "v"


def test_an_excluded_inherited_value_is_invisible_to_later_ops() -> None:
    result = eo.compose(
        {"PATH": "/secret/bin", "X": "v"},
        [layer("hook", P("PATH", "/n"), D("X", "d"))],
        platform="posix",
        policy=eo.InheritPolicy(exclude=["PATH", "X"]),
    )
    assert result.env == {"PATH": "/n", "X": "d"}
    actions = [step.action for step in result.provenance("PATH").history]
    assert actions == ["inherit", "exclude", "prepend"]


CODEX_CASES = [
    pytest.param({}, eo.InheritPolicy(), {},
                 id="an empty table inherits all with default excludes off"),
    pytest.param({"inherit": "core", "ignore_default_excludes": False,
                  "exclude": ["AWS_*"], "include_only": ["PATH", "HOME"],
                  "set": {"FOO": "bar"}},
                 eo.InheritPolicy(inherit="core", exclude=("AWS_*",),
                                  include_only=("PATH", "HOME"), default_excludes=True),
                 {"FOO": "bar"},
                 id="every legacy field maps 1:1 and set is returned for a config layer"),
    pytest.param({"inherit": "none", "ignore_default_excludes": True},
                 eo.InheritPolicy(inherit="none"), {},
                 id="ignore_default_excludes true turns the default excludes off"),
    pytest.param({"filters": {"AWS_*": "exclude", "PATH": "include"}, "set": {"A": "1"}},
                 eo.InheritPolicy(exclude=("AWS_*",), include_only=("PATH",)), {"A": "1"},
                 id="filters fold into exclude and include_only"),
]  # fmt: skip


@pytest.mark.parametrize(("table", "policy", "set_table"), CODEX_CASES)
def test_from_codex_maps_a_shell_environment_policy(
    table: dict[str, Any], policy: eo.InheritPolicy, set_table: dict[str, str]
) -> None:
    assert eo.InheritPolicy.from_codex(table) == (policy, set_table)


def test_a_codex_set_table_becomes_a_config_layer_that_include_only_keeps() -> None:
    policy, set_table = eo.InheritPolicy.from_codex(
        {"include_only": ["PATH"], "set": {"FOO": "bar", "PATH": "/set"}}
    )
    config = eo.Layer.from_overlay(set_table, kind="config", id="shell_environment_policy",
                                   platform="posix")  # fmt: skip
    result = eo.compose({"PATH": "/bin", "HOME": "/h"}, [config], platform="posix", policy=policy)
    assert result.env == {"PATH": "/set", "FOO": "bar"}
    assert str(result.provenance("FOO").source) == "config:shell_environment_policy"


@pytest.mark.parametrize(
    ("table", "match"),
    [
        pytest.param({"filters": {"A": "include"}, "exclude": ["B"]}, "cannot mix",
                     id="filters mixed with exclude"),
        pytest.param({"filters": {"A": "include"}, "include_only": ["B"]}, "cannot mix",
                     id="filters mixed with include_only"),
        pytest.param({"filters": {"SECRET_*": "exclude", "secret_*": "exclude"}}, "ignoring case",
                     id="filters repeating a pattern ignoring case"),
        pytest.param({"filters": {"A": "keep"}}, "include", id="a filter action that is unknown"),
        pytest.param({"inherit": "some"}, "inherit", id="an unknown inherit mode"),
        pytest.param({"set": {"A": 1}}, "set", id="a set table with a non-string value"),
        pytest.param({"unknown_key": True}, "unknown", id="an unknown key"),
    ],
)  # fmt: skip
def test_from_codex_rejects_malformed_tables(table: dict[str, Any], match: str) -> None:
    with pytest.raises(eo.PolicyError, match=match) as caught:
        eo.InheritPolicy.from_codex(table)
    assert isinstance(caught.value, eo.EnvOverlayError)


def test_the_windows_drive_variable_survives_an_inherit_all_policy_with_excludes() -> None:
    result = eo.compose(
        {"=C:": "C:\\work", "API_KEY": "k"},
        [],
        platform="windows",
        policy=eo.InheritPolicy(default_excludes=True),
    )
    assert result.env == {"=C:": "C:\\work"}
