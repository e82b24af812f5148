"""Policy (``envoverlay.policy``): the one judge of an op's fate (protected names, sensitive
names under warn / deny / allow), the sensitive list of SPEC §1, and the inherit policy
(Codex's ``shell_environment_policy``), on posix and on windows."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

import attrs
import pytest
from compose_cases import LayerSpec, build, found, layer
from hypothesis import given
from hypothesis import strategies as st
from strategies import fold_chars, fold_names

import envoverlay as eo
from envoverlay import _names, policy
from envoverlay._names import windows_fold
from envoverlay.policy import SENSITIVE_NAMES, ProtectedNames, SensitiveMatcher

SensitiveMode = Literal["warn", "deny", "allow"]
S, U, D = eo.Op.set, eo.Op.unset, eo.Op.default
P, A = eo.Op.prepend, eo.Op.append
KELVIN_KEY = "\u212aEY"  # KELVIN SIGN + EY: another variable than KEY, even on Windows
PAIR = "\ud83d\ude00"  # a surrogate pair held as two code points


# ---------------------------------------------------------------------------------------
# the judge
# ---------------------------------------------------------------------------------------

JUDGE_CASES = [
    # (platform, protected, sensitive mode, layer kind, op, fate, codes)
    pytest.param("posix", [], "warn", "hook", S("VIRTUAL_ENV", "/v"), "applied", [],
                 id="an ordinary name is applied"),
    pytest.param("posix", ["HOME"], "warn", "hook", S("HOME", "/x"), "rejected-protected",
                 ["protected"], id="a protected name is rejected"),
    pytest.param("posix", ["HOME"], "warn", "runtime", S("HOME", "/x"), "applied", [],
                 id="the runtime layer may change a protected name"),
    pytest.param("posix", ["HOME"], "warn", "config", U("HOME"), "rejected-protected",
                 ["protected"], id="an unset of a protected name is rejected"),
    pytest.param("posix", ["LD_*"], "deny", "hook", S("LD_PRELOAD", "/x"),
                 "rejected-protected", ["protected"],
                 id="protected wins over sensitive: one finding"),
    pytest.param("posix", [], "warn", "hook", S("LD_PRELOAD", "/x"), "warned-sensitive",
                 ["sensitive"], id="warn: applied with a warning"),
    pytest.param("posix", [], "deny", "provider", P("PYTHONPATH", "/x"), "rejected-sensitive",
                 ["sensitive"], id="deny: rejected"),
    pytest.param("posix", [], "allow", "hook", S("LD_PRELOAD", "/x"), "applied", [],
                 id="allow: applied silently"),
    pytest.param("posix", [], "deny", "hook", U("LD_PRELOAD"), "applied", [],
                 id="an unset of a sensitive name is never flagged"),
    pytest.param("posix", [], "deny", "thread", S("LD_PRELOAD", "/x"), "applied", [],
                 id="thread layers are not judged for sensitive names"),
    pytest.param("windows", ["KEY"], "warn", "hook", S(KELVIN_KEY, "1"), "applied", [],
                 id="windows: KEY does not protect the Kelvin spelling"),
    pytest.param("windows", ["K*"], "warn", "hook", S(KELVIN_KEY, "1"), "applied", [],
                 id="windows: nor does K* (it agrees with KEY)"),
    pytest.param("windows", ["KEY"], "warn", "hook", S("key", "1"), "rejected-protected",
                 ["protected"], id="windows: every spelling with the key is protected"),
    pytest.param("windows", [], "deny", "hook", S("pythonpath", "x"), "rejected-sensitive",
                 ["sensitive"], id="windows: sensitive by the name rule"),
    pytest.param("posix", [], "deny", "hook", S("pythonpath", "x"), "applied", [],
                 id="posix: another spelling is another variable"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("platform", "protected", "mode", "kind", "op", "fate", "codes"), JUDGE_CASES
)
def test_judge_op(
    platform: eo.Platform,
    protected: list[str],
    mode: SensitiveMode,
    kind: eo.LayerKind,
    op: eo.Op,
    fate: str,
    codes: list[str],
) -> None:
    source = eo.Source(kind, "x")
    verdict = policy.judge_op(
        op,
        source,
        rules=_names.rules_for(platform),
        protected=ProtectedNames.build(protected, (), platform),
        sensitive=mode,
    )
    assert verdict.fate == fate
    assert [d.code for d in verdict.diagnostics] == codes
    assert verdict.applies is (fate in ("applied", "warned-sensitive"))
    for diagnostic in verdict.diagnostics:
        assert diagnostic.name == op.name
        assert diagnostic.source == source
        assert diagnostic.hint  # says how to fix it
        assert diagnostic.severity == ("warning" if fate == "warned-sensitive" else "error")


@pytest.mark.parametrize(("platform", "protected", "mode", "kind", "op", "fate", "codes"),
                         JUDGE_CASES)  # fmt: skip
def test_compose_follows_the_judge(
    platform: eo.Platform,
    protected: list[str],
    mode: SensitiveMode,
    kind: eo.LayerKind,
    op: eo.Op,
    fate: str,
    codes: list[str],
) -> None:
    """compose() reports exactly the judge's findings, with the same wording."""
    verdict = policy.judge_op(
        op,
        eo.Source(kind, "x"),
        rules=_names.rules_for(platform),
        protected=ProtectedNames.build(protected, (), platform),
        sensitive=mode,
    )
    result = eo.compose(
        {}, [layer(kind, op, lid="x")], platform=platform, protected=protected, sensitive=mode
    )
    policy_codes = ("protected", "sensitive")
    assert [d for d in result.diagnostics if d.code in policy_codes] == list(verdict.diagnostics)
    status = result.provenance(op.name).history[-1].status if op.action != "unset" else None
    if status is not None:
        assert (status == "applied") is verdict.applies


def test_a_verdict_is_immutable() -> None:
    verdict = policy.Verdict("applied")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        verdict.fate = "rejected-protected"  # type: ignore[misc]


# ---------------------------------------------------------------------------------------
# one finding, reported once
# ---------------------------------------------------------------------------------------


def _hook(env: dict[str, Any]) -> bytes:
    document = {"hookSpecificOutput": {"hookEventName": "SessionStart", "env": env}}
    return json.dumps(document).encode()


@pytest.mark.parametrize("mode", ["warn", "deny"])
@pytest.mark.parametrize("platform", ["posix", "windows"])
def test_parse_then_compose_gives_equal_findings(
    platform: eo.Platform, mode: SensitiveMode
) -> None:
    stdout = _hook({"LD_PRELOAD": "/x.so", "CODEX_THREAD_ID": "forged", "PYTHONPATH": "/p"})
    hook = eo.parse_hook_output(
        stdout, hook_id="h", platform=platform, protected=["CODEX_THREAD_ID"], sensitive=mode
    )
    assert hook.layer is not None
    result = eo.compose(
        {}, [hook.layer], platform=platform, protected=["CODEX_THREAD_ID"], sensitive=mode
    )
    policy = [d for d in hook.diagnostics if d.code in ("protected", "sensitive")]
    assert len(policy) == 3
    assert all(d.pointer is not None for d in policy)  # hook findings point into the output
    composed = set(result.diagnostics)
    assert all(d in composed for d in policy)  # ... and are the findings compose() reports
    assert len(set(policy) | composed) == len(composed)


def test_explain_reports_each_policy_finding_once(tmp_path: Any, capsys: Any) -> None:
    from envoverlay.cli import main

    hook = tmp_path / "hook.json"
    hook.write_bytes(
        _hook({"LD_PRELOAD": "/x.so", "P": {"prepend": "rel"}, "CODEX_THREAD_ID": "forged"})
    )
    base = tmp_path / "base.json"
    base.write_text("{}")
    main(
        ["explain", "--base", str(base), "--hook-output", str(hook), "--protect",
         "CODEX_THREAD_ID", "--platform", "posix", "--format", "json"]
    )  # fmt: skip
    codes = [d["code"] for d in json.loads(capsys.readouterr().out)["diagnostics"]]
    assert sorted(codes) == ["protected", "relative-path-entry", "sensitive"]


# ---------------------------------------------------------------------------------------
# names arguments
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", ["posix", "windows"])
def test_a_bare_string_protects_that_name_not_its_letters(platform: eo.Platform) -> None:
    layers = [layer("hook", S("CODEX_THREAD_ID", "forged"), S("C", "1"), S("O", "2"))]
    result = eo.compose({}, layers, platform=platform, protected="CODEX_THREAD_ID")
    assert result.env == {"C": "1", "O": "2"}
    assert [d.name for d in result.errors] == ["CODEX_THREAD_ID"]


def _excluded(policy: eo.InheritPolicy) -> list[str]:
    base = {"AB": "1", "A": "1", "B": "1"}
    return sorted(eo.compose(base, policy=policy, platform="posix").removed)


def _diffed(ignore: Any) -> list[str]:
    from envoverlay.diff import env_diff

    before, after = {"AB": "1", "A": "1", "B": "1"}, {"AB": "2", "A": "2", "B": "2"}
    return sorted(op.name for op in env_diff(before, after, platform="posix", ignore=ignore))


def _guarded(protect: Any) -> list[str]:
    from envoverlay.shell import reapply_plan

    result = eo.compose({"AB": "1", "A": "1", "B": "1"}, platform="posix")
    return sorted(item.name for item in reapply_plan("bash", result, protect=protect))


def _hook_rejects(protected: Any) -> list[str]:
    stdout = _hook({"AB": "1", "A": "1", "B": "1"})
    result = eo.parse_hook_output(stdout, hook_id="h", platform="posix", protected=protected)
    return sorted(d.name or "" for d in result.errors)


# Every argument that takes names, given the bare string "AB", means the one name AB (never
# the names A and B), exactly as the one-element list does.
BARE_STRING_CASES = [
    pytest.param(lambda v: _excluded(eo.InheritPolicy(exclude=v)), ["AB"], id="exclude"),
    pytest.param(lambda v: _excluded(eo.InheritPolicy(include_only=v)), ["A", "B"],
                 id="include_only"),
    pytest.param(_diffed, ["A", "B"], id="env_diff(ignore=)"),
    pytest.param(_guarded, ["AB"], id="reapply_plan(protect=)"),
    pytest.param(_hook_rejects, ["AB"], id="parse_hook_output(protected=)"),
]  # fmt: skip


@pytest.mark.parametrize(("use", "expected"), BARE_STRING_CASES)
def test_a_bare_string_is_one_name_for_every_names_argument(use: Any, expected: list[str]) -> None:
    assert use("AB") == use(["AB"]) == expected


@pytest.mark.parametrize(
    ("make", "message", "error"),
    [
        pytest.param(lambda: eo.InheritPolicy(exclude="AWS_*"), None, None,
                     id="exclude: a bare str is one pattern"),
        pytest.param(lambda: eo.InheritPolicy(include_only="PATH"), None, None,
                     id="include_only: a bare str is one pattern"),
        pytest.param(lambda: eo.InheritPolicy(exclude=5), "exclude takes a name",  # type: ignore[arg-type]
                     eo.ArgumentTypeError, id="exclude: a number is a type error naming it"),
        pytest.param(lambda: eo.InheritPolicy(include_only=[""]), "include_only: each name",
                     eo.PolicyError, id="include_only: an empty pattern is an error naming it"),
        pytest.param(lambda: ProtectedNames.build(3, (), "posix"), "protected takes a name",  # type: ignore[arg-type]
                     eo.ArgumentTypeError, id="protected: a number is a type error naming it"),
        pytest.param(lambda: eo.parse_hook_output("", hook_id="h", protected=[None]),  # type: ignore[list-item]
                     "protected: each name", eo.ArgumentTypeError,
                     id="parse_hook_output(protected=[None])"),
    ],
)  # fmt: skip
def test_names_arguments(make: Any, message: str | None, error: type[Exception] | None) -> None:
    if error is None:
        made = make()
        assert made.exclude in ((), ("AWS_*",))
        assert made.include_only in ((), ("PATH",))
        return
    with pytest.raises(error, match=message):
        make()


# ---------------------------------------------------------------------------------------
# windows: every spelling with one key gets one decision
# ---------------------------------------------------------------------------------------


def _same_key(char: str) -> list[str]:
    """The spellings of one character (or split pair) that Windows treats as it."""
    candidates = dict.fromkeys([char, windows_fold(char), char.lower(), char.upper()])
    return [c for c in candidates if windows_fold(c) == windows_fold(char)]


@st.composite
def _respelled(draw: st.DrawFn, parts: list[str]) -> str:
    """Another spelling, character by character, with the same Windows key."""
    return "".join(draw(st.sampled_from(_same_key(part))) for part in parts)


def _spellings(name: str) -> list[str]:
    """A few spellings of ``name`` with the same Windows key: its key and whole-name cases."""
    out = [name, windows_fold(name)]
    for variant in (name.lower(), name.upper(), name.swapcase()):
        if windows_fold(variant) == windows_fold(name):
            out.append(variant)
    return out


@given(data=st.data(), mode=st.sampled_from(["warn", "deny"]))
def test_windows_decisions_agree_for_every_spelling_of_a_name(
    data: st.DataObject, mode: SensitiveMode
) -> None:
    parts = data.draw(st.lists(fold_chars.filter(lambda c: c not in "*?"), min_size=1, max_size=6))
    spellings = [data.draw(_respelled(parts)) for _ in range(3)]
    # Patterns that often match: other spellings of the name, some characters made wild.
    wild = st.lists(st.sampled_from(["*", "?", None]), min_size=len(parts), max_size=len(parts))
    patterns: list[str] = []
    for _ in range(data.draw(st.integers(1, 3))):
        masks = data.draw(wild)
        chars = [data.draw(st.sampled_from(_same_key(part))) for part in parts]
        patterns.append("".join(mask or char for mask, char in zip(masks, chars, strict=True)))
    patterns.extend(data.draw(st.lists(fold_names, max_size=2)))
    rules = _names.WINDOWS
    protected = ProtectedNames.build(patterns, (), "windows")
    exclude = eo.InheritPolicy(exclude=patterns)
    include = eo.InheritPolicy(include_only=patterns)
    source = eo.Source("hook", "h")
    decisions = set()
    for spelling in spellings:
        verdict = policy.judge_op(
            S(spelling, "v"), source, rules=rules, protected=protected, sensitive=mode
        )
        decisions.add(
            (
                verdict.fate,
                rules.key(spelling) in protected,
                SensitiveMatcher.for_platform("windows").reason(spelling),
                exclude.why_removed(spelling, "windows"),
                include.why_removed(spelling, "windows"),
            )
        )
    assert len(decisions) == 1


@given(name=fold_names.filter(lambda n: "*" not in n and "?" not in n))
def test_windows_sensitive_names_agree_for_every_spelling(name: str) -> None:
    matcher = SensitiveMatcher.for_platform("windows")
    for pattern in SENSITIVE_NAMES:
        spelled = pattern.replace("*", name).replace("?", "X")
        reasons = {matcher.reason(s) for s in _spellings(spelled)}
        assert len(reasons) == 1
        assert reasons != {None}


# ---------------------------------------------------------------------------------------
# the sensitive list (SPEC §1)
# ---------------------------------------------------------------------------------------

# SPEC §1 and reference §5: every variable through which a value makes later programs load
# or run code, module search paths included.
MUST_BE_SENSITIVE = [
    "LD_PRELOAD", "LD_AUDIT", "LD_LIBRARY_PATH", "DYLD_INSERT_LIBRARIES", "BASH_ENV", "ENV",
    "PROMPT_COMMAND", "BASH_FUNC_ls%%", "SHELLOPTS", "BASHOPTS", "PS4", "IFS", "NODE_OPTIONS",
    "PYTHONSTARTUP", "PERL5OPT", "RUBYOPT", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS",
    "JDK_JAVA_OPTIONS", "GLIBC_TUNABLES", "GIT_SSH_COMMAND", "GIT_CONFIG_COUNT",
    "GIT_CONFIG_PARAMETERS", "DOTNET_STARTUP_HOOKS", "ZDOTDIR",
    # module search paths (new in this round)
    "PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE", "PERL5LIB", "PERLLIB", "RUBYLIB",
    "NODE_PATH", "CLASSPATH", "GCONV_PATH",
    # the rest of reference §5 that loads or runs code
    "GETCONF_DIR", "LIBPATH", "SHLIB_PATH", "KRB5_CONFIG", "FPATH", "NULLCMD",
    "READNULLCMD", "GIT_DIR", "GIT_COMMON_DIR", "GIT_CONFIG_GLOBAL", "GIO_EXTRA_MODULES",
    "GST_PLUGIN_PATH", "GST_PLUGIN_SCANNER", "VK_LAYER_PATH", "VK_ICD_FILENAMES",
    "__EGL_VENDOR_LIBRARY_DIRS", "CORECLR_PROFILER_PATH", "COR_PROFILER", "PSModulePath",
    "ComSpec", "PATHEXT", "SystemRoot", "windir",
]  # fmt: skip
NOT_SENSITIVE = [
    "PATH", "HOME", "VIRTUAL_ENV", "ENVIRONMENT", "EDITOR", "PAGER", "PYTHONDONTWRITEBYTECODE",
    "NODE_ENV", "LANG", "TMPDIR", "CLASSPATHX", "MYPYTHONPATH",
]  # fmt: skip


def assert_sensitive(name: str, platform: eo.Platform) -> None:
    """``name`` is sensitive on ``platform``: its reason is the one the sensitive list gives
    a pattern matching it, and the judge rejects a hook's set of it under ``deny``."""
    reason = SensitiveMatcher.for_platform(platform).reason(name)
    matching = [
        why
        for pattern, why in SENSITIVE_NAMES.items()
        if _names.rules_for(platform).globs([pattern]).matches(name)
    ]
    assert reason in matching, (name, reason)
    verdict = policy.judge_op(
        eo.Op.set(name, "x"),
        eo.Source("hook", "h"),
        rules=_names.rules_for(platform),
        protected=ProtectedNames.build((), (), platform),
        sensitive="deny",
    )
    assert verdict.fate == "rejected-sensitive", (name, verdict)


@pytest.mark.parametrize("name", MUST_BE_SENSITIVE)
def test_sensitive_on_windows(name: str) -> None:
    assert_sensitive(name, "windows")


@pytest.mark.parametrize("name", [n for n in MUST_BE_SENSITIVE if n.upper() == n])
def test_sensitive_on_posix(name: str) -> None:
    assert_sensitive(name, "posix")


@pytest.mark.parametrize("name", NOT_SENSITIVE)
@pytest.mark.parametrize("platform", ["posix", "windows"])
def test_not_sensitive(platform: eo.Platform, name: str) -> None:
    assert SensitiveMatcher.for_platform(platform).reason(name) is None


def test_every_sensitive_entry_says_why() -> None:
    for pattern, reason in SENSITIVE_NAMES.items():
        assert pattern == pattern.upper(), pattern  # names as their programs spell them
        assert len(reason) > 15, pattern


@pytest.mark.parametrize("mode", ["warn", "deny"])
def test_a_hook_setting_pythonpath_is_judged(tmp_path: Any, mode: SensitiveMode) -> None:
    """A hook that sets PYTHONPATH can plant a sitecustomize.py that runs in every later
    python: it is warned about, and rejected under deny."""
    stdout = _hook({"PYTHONPATH": str(tmp_path)})
    hook = eo.parse_hook_output(stdout, hook_id="h", platform="posix", sensitive=mode)
    assert hook.layer is not None
    result = eo.compose({}, [hook.layer], platform="posix", sensitive=mode)
    assert ("PYTHONPATH" in result.env) is (mode == "warn")
    assert [d.code for d in result.diagnostics] == ["sensitive"]


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
    pytest.param("posix", "deny", "hook", U("LD_AUDIT"), True, None,
                 id="posix: a hook's unset of a sensitive name is never flagged, even under deny"),
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
        pytest.param({"filters": {"A": "include"}, "exclude": ["B"]}, "cannot be mixed",
                     id="filters mixed with exclude"),
        pytest.param({"filters": {"A": "include"}, "include_only": ["B"]}, "cannot be mixed",
                     id="filters mixed with include_only"),
        pytest.param({"filters": {"SECRET_*": "exclude", "secret_*": "exclude"}}, "ignoring case",
                     id="filters repeating a pattern ignoring case"),
        pytest.param({"filters": {"A": "keep"}}, "include", id="a filter action that is unknown"),
        pytest.param({"inherit": "some"}, "inherit", id="an unknown inherit mode"),
        pytest.param({"set": {"A": 1}}, "set", id="a set table with a non-string value"),
        pytest.param({"unknown_key": True}, "unknown_key: is not a key Codex knows",
                     id="an unknown key (Codex's --strict-config)"),
    ],
)  # fmt: skip
def test_from_codex_rejects_malformed_tables(table: dict[str, Any], match: str) -> None:
    with pytest.raises(eo.PolicyError, match=match) as caught:
        eo.InheritPolicy.from_codex(table)
    assert isinstance(caught.value, eo.EnvOverlayError)


# from_codex reads the table with envoverlay.codex's parser (measured against Codex 0.169):
# where the two parsers differed, Codex's rule now holds. (table, policy and set table, or
# the error's text); every row failed before.
CODEX_PARSER_CHANGES = [
    pytest.param({"exclude": ["", "AWS_*"], "include_only": ["", "PATH"]},
                 (eo.InheritPolicy(exclude=("AWS_*",), include_only=("PATH",)), {}),
                 id="an empty pattern is accepted and matches nothing"),
    pytest.param({"filters": {"": "exclude", "A*": "exclude"}},
                 (eo.InheritPolicy(exclude=("A*",)), {}),
                 id="an empty filters pattern is accepted and matches nothing"),
    pytest.param({"include_only": [""], "set": {"A": "1"}},
                 (eo.InheritPolicy(inherit="none"), {"A": "1"}),
                 id="an include_only of empty patterns keeps no inherited variable"),
    pytest.param({"experimental_use_profile": "yes"},
                 "experimental_use_profile: must be a boolean, not the string 'yes'",
                 id="experimental_use_profile must be a boolean"),
    pytest.param({"set": {"": "x"}}, "no environment can hold the name ''",
                 id="a set name that is empty"),
    pytest.param({"set": {"A=B": "x"}}, "Codex passes the raw entry 'A=B=x'",
                 id="a set name holding '='"),
    pytest.param({"set": {"A": "x\0y"}}, "NUL", id="a set value holding NUL"),
    pytest.param(["inherit", "all"], "must be a table, not an array",
                 id="a table that is not a table"),
    pytest.param({"exclude": "AWS_*"}, 'write exclude = ["PATTERN", ...]',
                 id="a pattern list that is a string names the fix"),
]  # fmt: skip


@pytest.mark.parametrize(("table", "expected"), CODEX_PARSER_CHANGES)
def test_from_codex_reads_the_table_as_codex_does(table: Any, expected: Any) -> None:
    if isinstance(expected, str):
        with pytest.raises(eo.PolicyError, match=re.escape(expected)):
            eo.InheritPolicy.from_codex(table)
    else:
        assert eo.InheritPolicy.from_codex(table) == expected


def test_from_codex_and_the_codex_profile_read_one_table_alike() -> None:
    from envoverlay.codex import CodexPolicy

    table = {"inherit": "core", "ignore_default_excludes": False,
             "filters": {"AWS_*": "exclude", "PATH": "include", "HOME": "include"},
             "set": {"B": "2", "A": "1"}}  # fmt: skip
    codex = CodexPolicy.from_table(table)
    policy, set_table = eo.InheritPolicy.from_codex(table)
    assert (policy.inherit, policy.exclude, policy.include_only) == (
        codex.inherit, codex.exclude, codex.include_only,
    )  # fmt: skip
    assert policy.default_excludes is not codex.ignore_default_excludes
    assert list(set_table.items()) == list(codex.set)


def test_the_windows_drive_variable_survives_an_inherit_all_policy_with_excludes() -> None:
    result = eo.compose(
        {"=C:": "C:\\work", "API_KEY": "k"},
        [],
        platform="windows",
        policy=eo.InheritPolicy(default_excludes=True),
    )
    assert result.env == {"=C:": "C:\\work"}


def test_core_names_fold_ascii_only_as_codex_does() -> None:
    policy = eo.InheritPolicy(inherit="core")
    result = eo.compose({"\u017fHELL": "x", "shell": "y"}, policy=policy, platform="posix")
    assert result.env == {"shell": "y"}


@pytest.mark.parametrize("platform", ["posix", "windows"])
@pytest.mark.parametrize("pattern", [f"X{PAIR}", f"X{PAIR}*"])
def test_a_protected_pattern_holding_a_split_pair_still_protects(
    platform: eo.Platform, pattern: str
) -> None:
    """Op names hold such a pair as its character; a protected pattern spelled with the two
    code points once missed them on posix, so a hook could set the name."""
    layer = eo.Layer.from_ops([eo.Op.set(f"X{PAIR}", "evil")], kind="hook", id="h")
    result = eo.compose({}, [layer], platform=platform, protected=[pattern])
    assert result.env == {}
    assert [d.code for d in result.errors] == ["protected"]
