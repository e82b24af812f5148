"""Hook output (``envoverlay.hooks``): the policy part of parsing a SessionStart hook's stdout
— findings from the one judge, located by JSON pointer, never discarding the layer."""

from __future__ import annotations

import json
from typing import Any

import pytest

import envoverlay as eo
from envoverlay import policy


def output(env: dict[str, Any]) -> bytes:
    document = {"hookSpecificOutput": {"hookEventName": "SessionStart", "env": env}}
    return json.dumps(document).encode()


POLICY_CASES = [
    # (env, protected, mode, errors, warnings) as (code, name, pointer)
    pytest.param({"CODEX_THREAD_ID": "x", "A": "1"}, ["CODEX_THREAD_ID"], "warn",
                 [("protected", "CODEX_THREAD_ID", "/hookSpecificOutput/env/CODEX_THREAD_ID")],
                 [], id="a protected name is an error"),
    pytest.param({"CODEX_THREAD_ID": "x"}, "CODEX_THREAD_ID", "warn",
                 [("protected", "CODEX_THREAD_ID", "/hookSpecificOutput/env/CODEX_THREAD_ID")],
                 [], id="protected= as a bare str is one name"),
    pytest.param({"C": "x"}, "CODEX_THREAD_ID", "warn", [], [],
                 id="protected= as a bare str does not protect its letters"),
    pytest.param({"LD_PRELOAD": "/x.so"}, [], "warn", [],
                 [("sensitive", "LD_PRELOAD", "/hookSpecificOutput/env/LD_PRELOAD")],
                 id="a sensitive name is a warning by default"),
    pytest.param({"PYTHONPATH": "/p"}, [], "deny",
                 [("sensitive", "PYTHONPATH", "/hookSpecificOutput/env/PYTHONPATH")], [],
                 id="a module search path is an error under deny"),
    pytest.param({"LD_PRELOAD": None, "PYTHONHOME": {"unset": True}}, [], "deny", [], [],
                 id="an unset of a sensitive name is never flagged"),
    pytest.param({"LD_PRELOAD": "/x.so"}, [], "allow", [], [], id="allow: nothing"),
    pytest.param({"a/b": "x"}, [], "warn", [],
                 [("non-portable-name", "a/b", "/hookSpecificOutput/env/a~1b")],
                 id="pointers are escaped"),
]  # fmt: skip


@pytest.mark.parametrize(("env", "protected", "mode", "errors", "warnings"), POLICY_CASES)
def test_policy_findings(
    env: dict[str, Any],
    protected: Any,
    mode: Any,
    errors: list[tuple[str, str, str]],
    warnings: list[tuple[str, str, str]],
) -> None:
    result = eo.parse_hook_output(
        output(env), hook_id="h", platform="posix", protected=protected, sensitive=mode
    )
    assert [(d.code, d.name, d.pointer) for d in result.errors] == errors
    assert [(d.code, d.name, d.pointer) for d in result.warnings] == warnings
    # Policy findings reject their own op at compose time; the layer is kept whole.
    assert result.layer is not None
    assert len(result.layer.ops) == len(env)


def test_policy_findings_have_the_judges_wording() -> None:
    source = eo.Source("hook", "h")
    result = eo.parse_hook_output(
        output({"CODEX_THREAD_ID": "x", "BASH_ENV": "/x"}),
        hook_id="h",
        platform="posix",
        protected=["CODEX_THREAD_ID"],
        sensitive="deny",
    )
    reason = eo.SENSITIVE_NAMES["BASH_ENV"]
    assert list(result.errors) == [
        policy.protected_diagnostic("CODEX_THREAD_ID", source),
        policy.sensitive_diagnostic("BASH_ENV", reason, "deny", source),
    ]


def test_a_bad_protected_argument_is_refused_even_without_an_overlay() -> None:
    with pytest.raises(eo.PolicyError, match="protected: each name"):
        eo.parse_hook_output("plain context", hook_id="h", protected=[""])


def test_windows_policy_findings_follow_the_name_rule() -> None:
    result = eo.parse_hook_output(
        output({"codex_thread_id": "x", "\u212aEY": "k"}),
        hook_id="h",
        platform="windows",
        protected=["CODEX_THREAD_ID", "K*"],
    )
    assert [(d.code, d.name) for d in result.errors] == [("protected", "codex_thread_id")]


def test_failed_hook_contributes_no_context_of_either_form() -> None:
    doc = b'{"hookSpecificOutput": {"hookEventName": "SessionStart", "additionalContext": "c"}}'
    assert eo.parse_hook_output(doc, hook_id="h", exit_code=1).additional_context is None
    assert eo.parse_hook_output(b"plain", hook_id="h", exit_code=1).additional_context is None


@pytest.mark.parametrize(
    "kwargs", [{"kind": "runtime"}, {"sensitive": "maybe"}], ids=["runtime kind", "unknown mode"]
)
def test_parse_hook_output_refuses_wrong_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        eo.parse_hook_output("", hook_id="h", **kwargs)


@pytest.mark.parametrize("mode", ["maybe", "", "WARN", None, ["warn"]])
def test_an_unknown_sensitive_mode_is_a_clear_error(mode: Any) -> None:
    with pytest.raises(eo.PolicyError, match="sensitive must be 'warn', 'deny' or 'allow'"):
        eo.parse_hook_output("", hook_id="h", sensitive=mode)


@pytest.mark.parametrize(
    ("stdout", "unit"),
    [(b'{"a": "' + b"x" * 40 + b'"}', "bytes"), ('{"a": "' + "x" * 40 + '"}', "characters")],
    ids=["bytes", "text"],
)
def test_output_over_the_size_limit_is_refused_with_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, stdout: Any, unit: str
) -> None:
    from envoverlay import hooks

    monkeypatch.setattr(hooks, "MAX_OUTPUT_BYTES", 32)
    result = eo.parse_hook_output(stdout, hook_id="h")
    assert [(d.code, d.pointer) for d in result.errors] == [("too-large", "")]
    assert result.errors[0].message == f"hook output is {len(stdout)} {unit}; at most 32 are parsed"
    assert "stderr" in result.errors[0].hint
    assert result.layer is None
    monkeypatch.setattr(hooks, "MAX_OUTPUT_BYTES", len(stdout))
    at_the_limit = eo.parse_hook_output(stdout, hook_id="h")
    assert "too-large" not in [d.code for d in at_the_limit.errors]
