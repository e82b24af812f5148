"""Hook output parsing for the SubagentStart event (parse_hook_output(event=...), check --event)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from envoverlay.cli import main
from envoverlay.hooks import parse_hook_output
from envoverlay.runner import run_hook, subagent_start_input
from envoverlay.schemas import validator

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
    report = json.loads(capsys.readouterr().out)
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
    report = json.loads(capsys.readouterr().out)
    assert [e["code"] for e in report["errors"]] == ["unknown-field"] * len(report["errors"])
    outcome = run_hook([sys.executable, str(hook)], source="fork", cwd=str(tmp_path))
    document = json.loads(outcome.stdout)
    assert document["source"] == "fork"
    assert list(validator("session-start.input").iter_errors(document)) == []
