"""The real Claude Code 2.1.328 (``claude -p``) against envoverlay's prediction.

Each test runs the released binary offline: a mock Messages API on 127.0.0.1 (started and
stopped by pid by the test) answers with one ``Bash`` tool call that dumps the command's env.
The binary is large and node-based: runs are few and timeouts generous.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from claude_harness import ClaudeRun, ClaudeSandbox, mock_messages_api
from tools import require_npm_tool, require_tool

from envoverlay.claude import EnvFile, env_file_hook_result, session_start_input, thread_state
from envoverlay.claude_session import load_session, run_claude_hook
from envoverlay.cli import main
from envoverlay.composition import compose
from envoverlay.hooks import HookResult
from envoverlay.lifecycle import ThreadState
from envoverlay.schemas import validator

# Real `claude -p` sessions against the mock model: the slow pass of .ci/run runs them.
pytestmark = pytest.mark.slow


SELF_REFERENCING = 'printf \'export PATH="/opt/tool/bin:$PATH"\\n\' >> "$CLAUDE_ENV_FILE"'
PLAIN_EXPORT = "printf 'export GREETING=hello\\n' >> \"$CLAUDE_ENV_FILE\""


@pytest.fixture
def sandbox(tmp_path: Path) -> ClaudeSandbox:
    return ClaudeSandbox(tmp_path, require_npm_tool("claude"))


@contextlib.contextmanager
def started(
    sandbox: ClaudeSandbox, tmp_path: Path, hooks: list[str], session: str
) -> Iterator[tuple[int, ClaudeRun]]:
    """A fresh session whose SessionStart runs ``hooks`` in order; yields the mock API's
    port (still listening) and the run, whose Bash command dumped its env."""
    sandbox.write_settings(
        {"hooks": {"SessionStart": [{"hooks": [
            {"type": "command", "command": command} for command in hooks
        ]}]}}
    )  # fmt: skip
    with mock_messages_api(sandbox.dump_command, tmp_path / "requests.jsonl") as port:
        run = sandbox.run(port, "--session-id", session)
        assert run.exit_code == 0, run.stderr
        assert run.dumped is not None, run.stdout[-2000:]
        yield port, run


def predicted(
    sandbox: ClaudeSandbox, port: int, session: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> dict[str, Any]:
    """`envoverlay explain --runtime claude --format json` for the sandbox's session, over
    the env the sandbox starts claude with, from the project folder."""
    base = sandbox.root / "base.json"
    base.write_text(json.dumps(sandbox.base_env(port)), encoding="utf-8")
    monkeypatch.chdir(sandbox.project)
    capsys.readouterr()
    code = main(["explain", "--runtime", "claude", "--config-dir", str(sandbox.config_dir),
                 "--session", session, "--base", str(base), "--format", "json",
                 "--show-secrets"])  # fmt: skip
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert code == 0, report["diagnostics"]
    return report


def assert_prediction_matches(report: dict[str, Any], dumped: dict[str, str]) -> None:
    """Every variable exactly; the per-run ones by presence."""
    per_run = set(report["runtime"]["per_run"])
    env = report["env"]
    assert set(dumped) - per_run == set(env), "names differ"
    assert {name: dumped[name] for name in env} == env
    assert per_run <= set(dumped)


def test_prediction_equals_what_a_bash_command_gets_fresh_and_after_two_resumes(
    sandbox: ClaudeSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    stdin_log = tmp_path / "stdin.jsonl"
    capture = f"cat >> {shlex.quote(str(stdin_log))}; echo >> {shlex.quote(str(stdin_log))}"
    sandbox.write_settings(
        {"env": {"PROJECT_MODE": "dev"}, "hooks": {"SessionStart": [
            {"matcher": "resume", "hooks": [{"type": "command", "command": capture}]},
            {"hooks": [
                {"type": "command", "command": SELF_REFERENCING},
                {"type": "command", "command": PLAIN_EXPORT},
            ]},
        ]}}
    )  # fmt: skip
    session = str(uuid.uuid4())
    runs = []
    reports = []
    with mock_messages_api(sandbox.dump_command, tmp_path / "requests.jsonl") as port:
        for args in (["--session-id", session], ["--resume", session], ["--resume", session]):
            run = sandbox.run(port, *args)
            assert run.exit_code == 0, run.stderr
            assert run.dumped is not None, run.stdout[-2000:]
            runs.append(run.dumped)
            reports.append(predicted(sandbox, port, session, monkeypatch, capsys))
    for report, dumped in zip(reports, runs, strict=True):
        assert_prediction_matches(report, dumped)
    # The "resume" matcher shifts N: at startup the PATH hook writes hook-0 and the export
    # hook-1; on resume the PATH hook appends to hook-1 and the export to hook-2.
    folder = sandbox.config_dir / "session-env" / session
    assert sorted(p.name for p in folder.iterdir()) == [
        f"sessionstart-hook-{n}.sh" for n in (0, 1, 2)
    ]
    # What the resumed hooks read on stdin is what envoverlay gives a hook for "resume".
    documents = [json.loads(line) for line in stdin_log.read_text().splitlines() if line]
    assert len(documents) == 2
    expected = session_start_input(
        source="resume", session_id=session, cwd=str(sandbox.project),
        config_dir=str(sandbox.config_dir),
    )  # fmt: skip
    for document in documents:
        assert list(validator("claude-session-start.input").iter_errors(document)) == []
        assert set(document) == set(expected)
        assert document["transcript_path"] == expected["transcript_path"]
    # Claude Code re-ran both hooks on each resume, appending to the same files.
    assert runs[2]["PATH"].split(":")[:3] == ["/opt/tool/bin"] * 3  # one file per position

    assert runs[2]["GREETING"] == "hello"
    warnings = [d for d in reports[2]["diagnostics"] if d["code"] == "claude-repeated-entry"]
    assert [(d["name"], "/opt/tool/bin 3 times" in d["message"]) for d in warnings] == [
        ("PATH", True)
    ]
    assert not [d for d in reports[0]["diagnostics"] if d["code"] == "claude-repeated-entry"]
    # An imported thread state, resumed through envoverlay's lifecycle, holds it once.
    state = import_state(sandbox, session, port)
    assert [layer.id for layer in state.layers if layer.kind == "hook"] == [
        str(folder / f"sessionstart-hook-{n}.sh") for n in (0, 1, 2)
    ]
    resumed = state.apply("resume", [rerun_hook(sandbox, session, "sessionstart-hook-1.sh")])
    assert [layer.id for layer in resumed.layers] == [layer.id for layer in state.layers]
    env = compose(sandbox.base_env(port), resumed.layers, platform="posix").env
    assert env["PATH"].split(":").count("/opt/tool/bin") == 1
    assert env["GREETING"] == "hello"


def import_state(sandbox: ClaudeSandbox, session: str, port: int) -> ThreadState:
    environ = sandbox.base_env(port)
    loaded = load_session(
        config_dir=str(sandbox.config_dir), session_id=session,
        project_dir=str(sandbox.project), environ=environ,
    )  # fmt: skip
    return thread_state(loaded, environ)


def rerun_hook(sandbox: ClaudeSandbox, session: str, name: str) -> HookResult:
    """The self-referencing hook run again the envoverlay way: into a fresh, empty file."""
    fresh = sandbox.root / "rerun" / name
    fresh.parent.mkdir(exist_ok=True)
    fresh.write_text("")
    bash = require_tool("bash")
    subprocess.run([bash, "-c", SELF_REFERENCING], env={"CLAUDE_ENV_FILE": str(fresh)}, check=True)
    path = str(sandbox.config_dir / "session-env" / session / name)
    file = EnvFile(path, "sessionstart", 0, fresh.read_text())
    return env_file_hook_result(file, {"PATH": "/usr/bin:/bin"})


FAILING = "printf 'export FROM_FAILED_HOOK=1\\n' >> \"$CLAUDE_ENV_FILE\"; exit 1"
READS_STDIN = """#!/bin/sh
source=$(sed -n 's/.*"source": *"\\([a-z]*\\)".*/\\1/p')
printf 'export SEEN_SOURCE=%s\\nexport SEEN_PROJECT=%s\\n' "$source" "$CLAUDE_PROJECT_DIR" \\
  >> "$CLAUDE_ENV_FILE"
"""


def test_outer_file_first_a_failed_hooks_file_still_applies_and_check_run_agrees(
    sandbox: ClaudeSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    hook = tmp_path / "reads-stdin.sh"
    hook.write_text(READS_STDIN)
    hook.chmod(0o755)
    outer = tmp_path / "outer.sh"  # a CLAUDE_ENV_FILE in Claude Code's own env applies first
    outer.write_text("export FROM_OUTER=1\nexport SEEN_SOURCE=outer\n")
    sandbox.extra_env["CLAUDE_ENV_FILE"] = str(outer)
    session = str(uuid.uuid4())
    with started(sandbox, tmp_path, [FAILING, str(hook)], session) as (port, run):
        report = predicted(sandbox, port, session, monkeypatch, capsys)
    assert_prediction_matches(report, run.dumped)
    assert run.dumped["FROM_FAILED_HOOK"] == "1"  # Claude Code applies it all the same
    assert run.dumped["SEEN_SOURCE"] == "startup"  # the session's files come after it
    assert run.dumped["FROM_OUTER"] == "1"
    events = [f["event"] for f in report["runtime"]["files"]]
    assert events == ["outer", "sessionstart", "sessionstart"]
    # The same hook under `check --runtime claude --run`, in a config dir of its own, writes
    # what Claude Code's run wrote (position 1: the second hook).
    written = (sandbox.config_dir / "session-env" / session / "sessionstart-hook-1.sh").read_text()
    outcome = run_claude_hook(
        [str(hook)], config_dir=str(tmp_path / "check-config"), session_id=session,
        cwd=str(sandbox.project), position=1, environ=sandbox.base_env(port),
    )  # fmt: skip
    assert outcome.env_file.text == written
    assert outcome.env_file.name == "sessionstart-hook-1.sh"
    assert outcome.result.ok
