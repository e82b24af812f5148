"""Hook output (``envoverlay.hooks``): the policy part of parsing a SessionStart hook's stdout
— findings from the one judge, located by JSON pointer, never discarding the layer.

Hook output parsing for the SubagentStart event (parse_hook_output(event=...), check --event).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from strategies import PLATFORMS, json_scalars, json_values

import envoverlay as eo
from envoverlay import policy
from envoverlay.cli import main
from envoverlay.hooks import parse_hook_output
from envoverlay.runner import run_hook, subagent_start_input
from envoverlay.schemas import validator


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
    with pytest.raises(eo.ArgumentError, match="sensitive must be 'warn', 'deny' or 'allow'"):
        eo.parse_hook_output("", hook_id="h", sensitive=mode)
    assert issubclass(eo.ArgumentError, ValueError)


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


SUBAGENT_ENV = {
    "hookSpecificOutput": {
        "hookEventName": "SubagentStart",
        "additionalContext": "you run the tests",
        "env": {"PATH": {"prepend": ["/repo/.venv/bin"]}, "AGENT_ROLE": "tester"},
    }
}

#: (event the parser is told, hookEventName the output names, valid?)
EVENT_CASES = [
    ("SubagentStart", "SubagentStart", True),
    ("SessionStart", "SessionStart", True),
    ("SessionStart", "SubagentStart", False),
    ("SubagentStart", "SessionStart", False),
]


@pytest.mark.parametrize(("event", "named", "valid"), EVENT_CASES)
def test_event_selects_the_output_schema(event: str, named: str, valid: bool) -> None:
    document = {"hookSpecificOutput": {"hookEventName": named, "env": {"A": "1"}}}
    result = parse_hook_output(json.dumps(document), hook_id="h", event=event)  # type: ignore[arg-type]
    assert result.ok is valid
    if valid:
        assert result.layer is not None
        assert [op.name for op in result.layer.ops] == ["A"]
    else:
        (problem,) = result.errors
        assert problem.code == "wrong-event"
        assert problem.pointer == "/hookSpecificOutput/hookEventName"
        assert f'"hookEventName": "{event}"' in (problem.hint or "")


def test_subagent_output_gives_the_childs_layer_and_context() -> None:
    result = parse_hook_output(json.dumps(SUBAGENT_ENV), hook_id="role", event="SubagentStart")
    assert result.ok, result.errors
    assert result.additional_context == "you run the tests"
    assert result.layer is not None
    assert {op.name for op in result.layer.ops} == {"PATH", "AGENT_ROLE"}


def test_subagent_continue_false_is_parsed_not_an_error() -> None:
    result = parse_hook_output('{"continue": false}', hook_id="h", event="SubagentStart")
    assert result.ok
    assert result.should_continue is False


def test_unknown_event_is_the_callers_bug() -> None:
    with pytest.raises(ValueError, match="event must be"):
        parse_hook_output("{}", hook_id="h", event="Stop")  # type: ignore[arg-type]


def test_check_event_subagent_start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "out.json"
    path.write_text(json.dumps(SUBAGENT_ENV), encoding="utf-8")
    assert main(["check", "--event", "SubagentStart", str(path)]) == 0
    capsys.readouterr()
    # The same output checked as SessionStart names the wrong event.
    assert main(["check", "--format", "json", str(path)]) == 1
    [report] = json.loads(capsys.readouterr().out)["results"]
    assert [e["code"] for e in report["errors"]] == ["wrong-event"]


def test_run_hook_writes_a_valid_subagent_input(tmp_path: Path) -> None:
    script = "import sys; sys.stdout.write(sys.stdin.read())"
    outcome = run_hook([sys.executable, "-c", script], cwd=str(tmp_path), event="SubagentStart")
    document = json.loads(outcome.stdout)
    assert document == subagent_start_input(cwd=str(tmp_path))
    assert list(validator("subagent-start.input").iter_errors(document)) == []


def test_check_run_event_subagent_start(tmp_path: Path) -> None:
    hook = tmp_path / "hook.py"
    hook.write_text(
        "import json, sys\n"
        "event = json.load(sys.stdin)['hook_event_name']\n"
        "print(json.dumps({'hookSpecificOutput': {'hookEventName': event, 'env': {'A': '1'}}}))\n",
        encoding="utf-8",
    )
    argv = ["check", "--event", "SubagentStart", "--run", "--", sys.executable, str(hook)]
    assert main(argv) == 0


def test_check_run_source_fork(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hook = tmp_path / "hook.py"
    hook.write_text("import sys\nprint(sys.stdin.read())\n", encoding="utf-8")
    argv = ["check", "--run", "--source", "fork", "--format", "json"]
    assert main([*argv, "--", sys.executable, str(hook)]) == 1  # JSON that is no output
    [report] = json.loads(capsys.readouterr().out)["results"]
    assert [e["code"] for e in report["errors"]] == ["unknown-field"] * len(report["errors"])
    outcome = run_hook([sys.executable, str(hook)], source="fork", cwd=str(tmp_path))
    document = json.loads(outcome.stdout)
    assert document["source"] == "fork"
    assert list(validator("session-start.input").iter_errors(document)) == []


# == Fuzzing ===================================================================================
# Nothing a hook prints can make the parser or `check` raise, and the overlay parser agrees
# with the JSON Schema on what is well-formed. Longer runs:
# ``HYPOTHESIS_PROFILE=fuzz python -m pytest tests/unit/test_hooks.py``.

JSON_VALUES = json_values()

# Overlay-shaped JSON, mostly malformed: op objects with wrong keys and values, and names
# no environment can hold (specific to fuzzing the overlay parser).
op_keys = st.sampled_from(
    ["set", "default", "unset", "prepend", "append", "separator", "secret", "x"]
)
op_objects = st.dictionaries(
    op_keys,
    st.one_of(
        st.text(max_size=5),
        st.booleans(),
        st.none(),
        st.integers(),
        st.lists(st.one_of(st.text(max_size=5), st.integers()), max_size=3),
    ),
    max_size=3,
)
names = st.one_of(
    st.sampled_from(["PATH", "A", "A=B", "", "π", "Π", "my-var", "X\x00"]), st.text(max_size=5)
)
overlays = st.dictionaries(
    names, st.one_of(st.text(max_size=6), st.none(), op_objects, JSON_VALUES), max_size=4
)


@st.composite
def documents(draw: st.DrawFn) -> object:
    doc: dict[str, object] = {}
    if draw(st.booleans()):
        doc["continue"] = draw(st.one_of(st.booleans(), json_scalars))
    if draw(st.booleans()):
        doc["systemMessage"] = draw(st.one_of(st.text(max_size=5), json_scalars))
    if draw(st.booleans()):
        specific: dict[str, object] = {
            "hookEventName": draw(st.sampled_from(["SessionStart", "SessionStart", "Stop", None]))
        }
        if draw(st.booleans()):
            specific["env"] = draw(st.one_of(overlays, overlays, JSON_VALUES))
        if draw(st.booleans()):
            specific[draw(st.sampled_from(["additionalContext", "extra"]))] = draw(json_scalars)
        doc["hookSpecificOutput"] = specific
    if draw(st.integers(0, 9)) == 0:
        doc[draw(st.text(max_size=4))] = draw(JSON_VALUES)
    return doc


@given(
    st.binary(max_size=512),
    PLATFORMS,
    st.sampled_from([0, 0, 0, 1, None]),
)
def test_arbitrary_bytes_never_raise(data, platform, exit_code):
    """Any bytes parse to a result: a failed hook contributes nothing, bytes that are not
    UTF-8 are one `invalid-utf8` error, and UTF-8 bytes parse exactly as their text."""
    hook = eo.parse_hook_output(data, hook_id="fuzz", platform=platform, exit_code=exit_code)
    codes = [d.code for d in hook.errors]
    assert hook.ok == (not hook.errors)
    if exit_code != 0:
        assert codes[0] == "hook-failed"
        assert (hook.layer, hook.additional_context) == (None, None)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        assert codes[-1:] == ["invalid-utf8"]
        assert (hook.layer, hook.additional_context) == (None, None)
        return
    as_text = eo.parse_hook_output(text, hook_id="fuzz", platform=platform, exit_code=exit_code)
    assert as_text == hook
    if hook.layer is not None:  # a layer only from a hook that succeeded and broke no rule
        assert hook.exit_code == 0
        assert hook.ok


@given(st.text(max_size=256))
def test_arbitrary_text_never_raises(text):
    """Codex's stdout semantics for any text: empty is nothing, text that does not start like
    JSON is plain context, anything else is one JSON object or an error."""
    hook = eo.parse_hook_output(text, hook_id="fuzz")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: not UTF-8 output
        assert [d.code for d in hook.errors] == ["invalid-utf8"]
        return
    stripped = text.strip()
    if not stripped:
        assert (hook.errors, hook.layer, hook.additional_context) == ((), None, None)
    elif stripped[0] not in "{[":
        assert (hook.errors, hook.layer, hook.additional_context) == ((), None, stripped)
    else:  # JSON: a layer only from output that breaks no rule
        assert hook.layer is None or hook.ok


@given(documents(), PLATFORMS)
def test_structured_documents_never_raise(document, platform):
    stdout = json.dumps(document)
    hook = eo.parse_hook_output(stdout, hook_id="fuzz", platform=platform)
    for diagnostic in hook.errors:
        assert diagnostic.pointer is not None
        assert diagnostic.hint
    if hook.layer is not None:  # a layer only from a whole overlay: one op per name, in order
        assert hook.ok
        assert [op.name for op in hook.layer.ops] == list(document["hookSpecificOutput"]["env"])


@given(documents())
# Regression: found by a 20,000-example run; the parser once treated a null env as absent.
@example({"hookSpecificOutput": {"hookEventName": "SessionStart", "env": None}})
def test_overlay_parser_agrees_with_the_schema(document):
    """A document the schema accepts yields no shape error from the overlay parser, and a
    document whose env the schema rejects yields at least one overlay error."""
    schema_errors = list(validator("session-start.output").iter_errors(document))
    env_schema_errors = [
        e for e in schema_errors if list(e.absolute_path)[:2] == ["hookSpecificOutput", "env"]
    ]
    other_schema_errors = [e for e in schema_errors if e not in env_schema_errors]
    hook = eo.parse_hook_output(json.dumps(document), hook_id="fuzz", platform="posix")
    env_errors = [
        d
        for d in hook.errors
        if d.pointer is not None and d.pointer.startswith("/hookSpecificOutput/env")
    ]
    shape_errors = [d for d in env_errors if d.code in {"invalid-op", "invalid-overlay"}]
    if not schema_errors:
        assert not shape_errors, [d.describe() for d in shape_errors]
    specific = document.get("hookSpecificOutput") if isinstance(document, dict) else None
    if env_schema_errors and not other_schema_errors and isinstance(specific, dict):
        assert env_errors, [e.message for e in env_schema_errors]


@settings(max_examples=60)
@given(st.binary(max_size=256))
def test_check_cli_never_raises(tmp_path_factory, data):
    """`check` answers any output with 0 or 1 and a report: a JSON one is the check report
    naming the file, and its verdict is the exit status."""
    path = tmp_path_factory.mktemp("fuzz") / "out"
    path.write_bytes(data)
    for fmt in ("text", "json"):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            status = main(["check", str(path), "--format", fmt, "--platform", "posix"])
        assert status in (0, 1)
        assert printed.getvalue()
        if fmt == "json":
            report = json.loads(printed.getvalue())
            assert report["format"] == "envoverlay.check"
            assert [r["file"] for r in report["results"]] == [str(path)]
            assert report["valid"] == (status == 0)
