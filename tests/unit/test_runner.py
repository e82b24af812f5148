"""`envoverlay check --run`: real hook scripts run with a SessionStart input on stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from envoverlay.runner import run_hook, session_start_input
from envoverlay.schemas import validator

ROOT = Path(__file__).resolve().parents[2]


def script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    path.chmod(0o755)
    return str(path)


def check(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "envoverlay", "check", *args],
        capture_output=True,
        env=env,
        cwd=cwd,
        check=False,
        timeout=60,
    )


def test_input_document_is_valid_under_the_input_schema(tmp_path):
    for source in ("startup", "resume", "clear", "compact"):
        document = session_start_input(source=source, cwd=str(tmp_path))
        assert list(validator("session-start.input").iter_errors(document)) == []


def test_valid_hook(tmp_path):
    hook = script(
        tmp_path,
        "venv-hook",
        """\
        cat >/dev/null
        echo '{"hookSpecificOutput": {"hookEventName": "SessionStart",'
        echo '  "env": {"PATH": {"prepend": "/repo/.venv/bin"}, "VIRTUAL_ENV": "/repo/.venv"}}}'
        """,
    )
    proc = check("--run", "--", hook)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout.decode()
    assert "valid" in out
    assert "add /repo/.venv/bin to the front of PATH" in out
    assert "set VIRTUAL_ENV=/repo/.venv" in out


def test_hook_exiting_non_zero_fails_with_stderr_tail(tmp_path):
    hook = script(
        tmp_path,
        "failing-hook",
        """\
        echo '{"hookSpecificOutput": {"hookEventName": "SessionStart", "env": {"A": "1"}}}'
        echo "could not find the venv" >&2
        exit 3
        """,
    )
    proc = check("--run", "--format", "json", "--", hook)
    assert proc.returncode == 1
    [report] = json.loads(proc.stdout)["results"]
    assert report["valid"] is False
    assert report["exit_code"] == 3
    assert [e["code"] for e in report["errors"]] == ["hook-failed"]
    assert "could not find the venv" in report["stderr_tail"]
    assert report["overlay"] is None
    text = check("--run", "--", hook).stdout.decode()
    assert "exited with code 3" in text
    assert "could not find the venv" in text


def test_hanging_hook_and_its_children_are_killed_within_the_timeout(tmp_path):
    marker = tmp_path / "child.pid"
    hook = script(
        tmp_path,
        "hanging-hook",
        f"""\
        sleep 300 &
        echo $! > {marker}
        sleep 300
        """,
    )
    started = time.monotonic()
    proc = check("--run", "--timeout", "1", "--format", "json", "--", hook)
    elapsed = time.monotonic() - started
    assert proc.returncode == 1
    [report] = json.loads(proc.stdout)["results"]
    # One error: the timeout says why there is no exit status.
    assert [e["code"] for e in report["errors"]] == ["hook-timeout"]
    assert elapsed < 30  # generous: the point is that it did not wait for the 300 s sleeps
    child = int(marker.read_text())
    for _ in range(50):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(child, 9)
        pytest.fail("the hook's child survived the timeout")


@pytest.mark.parametrize("source", ["startup", "resume", "clear", "compact"])
def test_hook_reads_stdin_and_answers_by_source(tmp_path, source):
    hook = tmp_path / "by-source.py"
    hook.write_text(
        textwrap.dedent(
            """\
            import json, sys
            event = json.load(sys.stdin)
            assert event["hook_event_name"] == "SessionStart"
            env = {"HOOK_SOURCE": event["source"], "HOOK_CWD": event["cwd"]}
            if event["source"] == "clear":
                env = {"HOOK_SOURCE": None}
            print(json.dumps({"hookSpecificOutput": {"hookEventName": "SessionStart", "env": env}}))
            """
        )
    )
    proc = check(
        "--run",
        "--source",
        source,
        "--cwd",
        str(tmp_path),
        "--format",
        "json",
        "--",
        sys.executable,
        str(hook),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    overlay = json.loads(proc.stdout)["results"][0]["overlay"]
    if source == "clear":
        assert overlay == {"HOOK_SOURCE": None}
    else:
        assert overlay == {"HOOK_SOURCE": source, "HOOK_CWD": str(tmp_path)}


def test_missing_executable_is_a_usage_error(tmp_path):
    proc = check("--run", "--", str(tmp_path / "no-such-hook"))
    assert proc.returncode == 2
    assert b"hook command not found" in proc.stderr
    assert b"Traceback" not in proc.stderr


def test_hook_that_does_not_read_stdin(tmp_path):
    hook = script(tmp_path, "ignores-stdin", "echo 'plain context'\n")
    outcome = run_hook([hook], timeout=30)
    assert outcome.exit_code == 0
    assert outcome.stdout == b"plain context\n"


def test_run_and_files_are_exclusive(tmp_path):
    proc = check("somefile.json", "--run", "--", "true")
    assert proc.returncode == 2
    assert b"not both" in proc.stderr


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--cwd", "."], "--cwd only applies"),
        (["--source", "resume"], "--source only applies"),
        (["--timeout", "5"], "--timeout only applies"),
        (["--source", "clear", "--timeout", "5"], "--source and --timeout only apply"),
    ],
)
def test_run_only_flags_without_run_are_usage_errors(flags, named):
    """Nothing is silently ignored: a flag that only a hook run uses, given for files."""
    proc = check(*flags, str(ROOT / "examples" / "hooks" / "venv.json"))
    assert proc.returncode == 2
    assert named in proc.stderr.decode()
    assert "--run" in proc.stderr.decode()
    assert b"Traceback" not in proc.stderr
