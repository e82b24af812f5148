"""`envoverlay check --run`: real hook scripts run with a SessionStart input on stdin."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tools import CLI_SIGNALS, process_gone, signal_once_written, signal_the_cli

import envoverlay as eo
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


def valid_report(stdout: bytes) -> dict:
    """A `check --format json` report, checked against the schema the package ships."""
    document = json.loads(stdout)
    assert [e.message for e in validator("check-report").iter_errors(document)] == []
    return document


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
    [report] = valid_report(proc.stdout)["results"]
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
    # check() gives up after 60 s: the 300 s sleeps must not be waited for.
    proc = check("--run", "--timeout", "1", "--format", "json", "--", hook)
    assert proc.returncode == 1
    [report] = valid_report(proc.stdout)["results"]
    # One error: the timeout says why there is no exit status.
    assert [e["code"] for e in report["errors"]] == ["hook-timeout"]
    child = int(marker.read_text())
    if not process_gone(child):
        os.kill(child, signal.SIGKILL)
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
    overlay = valid_report(proc.stdout)["results"][0]["overlay"]
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


@pytest.mark.parametrize(("signum", "status"), CLI_SIGNALS, ids=[s.name for s, _ in CLI_SIGNALS])
def test_a_signal_kills_the_hooks_whole_process_group(tmp_path, signum, status):
    marker = tmp_path / "child.pid"
    hook = script(
        tmp_path,
        "daemonizing-hook",
        f"""\
        sleep 300 &
        echo $! > {marker}
        sleep 300
        """,
    )
    code, err, [child] = signal_the_cli(["check", "--run", "--", hook], marker, signum)
    assert code == status, err
    assert b"Traceback" not in err
    if not process_gone(child):
        os.kill(child, signal.SIGKILL)
        pytest.fail(f"the hook's background process outlived {signum.name}")


def test_a_signal_the_caller_handles_is_one_hook_interrupted_error(tmp_path):
    marker = tmp_path / "child.pid"
    hook = script(tmp_path, "slow-hook", f"sleep 300 &\necho $! > {marker}\nsleep 300\n")
    with signal_once_written(marker, signal.SIGTERM) as seen:
        result = eo.run_session_start_hook(
            [hook], session_id="s", model="m", cwd=str(tmp_path), timeout=60
        )
    assert seen == [signal.SIGTERM]  # the caller's handler got it, after the kill
    [error] = result.errors
    assert error.code == "hook-interrupted"
    assert error.message == "the hook was stopped by SIGTERM; it and its children were killed"
    assert result.layer is None
    assert process_gone(int(marker.read_text()))


def test_run_session_start_hook_gives_the_session_input_env_and_a_hook_result(tmp_path):
    seen = tmp_path / "stdin.json"
    hook = script(
        tmp_path,
        "runtime-hook",
        f"""\
        cat > {seen}
        printf '{{"hookSpecificOutput": {{"hookEventName": "SessionStart", '
        printf '"env": {{"FROM_ENV": "%s", "PWD_SEEN": "%s"}}}}}}' "$HOOK_SECRET" "$(pwd)"
        """,
    )
    workdir = tmp_path / "repo"
    workdir.mkdir()
    result = eo.run_session_start_hook(
        [hook],
        session_id="sess-1",
        model="gpt-test",
        cwd=str(workdir),
        source="resume",
        env={"PATH": os.environ["PATH"], "HOOK_SECRET": "given-env"},
        transcript_path=str(tmp_path / "t.jsonl"),
        timeout=30,
        hook_id="venv",
        platform="posix",
    )
    assert isinstance(result, eo.HookResult)
    assert result.ok, result.errors
    assert result.hook_id == "venv"
    assert result.layer is not None
    values = {op.name: op.value for op in result.layer.ops}
    assert values == {"FROM_ENV": "given-env", "PWD_SEEN": str(workdir)}
    document = json.loads(seen.read_text())
    assert list(validator("session-start.input").iter_errors(document)) == []
    assert (document["session_id"], document["model"], document["source"]) == (
        "sess-1", "gpt-test", "resume",
    )  # fmt: skip
    assert document["cwd"] == str(workdir)
    assert document["transcript_path"] == str(tmp_path / "t.jsonl")


def test_run_session_start_hook_reports_a_failure_and_a_timeout_once(tmp_path):
    failing = script(tmp_path, "failing", "cat >/dev/null; echo nope >&2; exit 3\n")
    result = eo.run_session_start_hook(
        [failing], session_id="s", model="m", cwd=str(tmp_path), timeout=30
    )
    assert [e.code for e in result.errors] == ["hook-failed"]
    assert result.layer is None
    hanging = script(tmp_path, "hanging", "sleep 300\n")
    result = eo.run_session_start_hook(
        [hanging], session_id="s", model="m", cwd=str(tmp_path), timeout=0.5
    )
    [error] = result.errors
    assert error.code == "hook-timeout"
    assert error.source == eo.Source("hook", hanging)


def test_the_runner_restores_signal_handlers_and_works_off_the_main_thread(tmp_path):
    import threading

    hook = script(tmp_path, "quick", "cat >/dev/null; echo context\n")
    before = signal.getsignal(signal.SIGTERM)
    assert run_hook([hook], timeout=30).stdout == b"context\n"
    assert signal.getsignal(signal.SIGTERM) is before
    outcome: list[bytes] = []
    thread = threading.Thread(target=lambda: outcome.append(run_hook([hook], timeout=30).stdout))
    thread.start()
    thread.join(60)
    assert outcome == [b"context\n"]


# run_in_process_group, the one way envoverlay runs a program: (sh code, timeout,
# expected returncode, timed_out, leader_exited).
GROUP_RUNS = [
    ("echo out; echo err >&2", 30, 0, False, False),
    ("exit 4", 30, 4, False, False),
    ("sleep 300", 0.5, None, True, False),
    # done at once, but a background child holds stdout: the group is killed at the timeout
    ("sleep 300 & echo started", 0.5, 0, True, True),
]


@pytest.mark.parametrize(("code", "timeout", "status", "timed_out", "leader_exited"), GROUP_RUNS)
def test_run_in_process_group(code, timeout, status, timed_out, leader_exited):
    from envoverlay.runner import run_in_process_group

    run = run_in_process_group(["sh", "-c", code], timeout=timeout)
    assert (run.returncode, run.timed_out, run.leader_exited) == (status, timed_out, leader_exited)
    assert run.interrupted is None
    assert not run.pipes_held
    if code.startswith("echo out"):
        assert (run.stdout, run.stderr) == (b"out\n", b"err\n")


def test_run_in_process_group_gives_stdin_and_env(tmp_path):
    from envoverlay.runner import run_in_process_group

    run = run_in_process_group(
        ["sh", "-c", 'cat; printf "|%s|%s" "$ONLY" "$(pwd)"'],
        stdin=b"in", cwd=str(tmp_path), env={"ONLY": "this", "PATH": os.environ["PATH"]},
        timeout=30,
    )  # fmt: skip
    assert run.stdout == f"in|this|{tmp_path}".encode()


# capture=False (output to the null device: only the program itself is waited for) and
# kill_leftovers=True (what it leaves in its group is killed): (sh code, capture,
# kill_leftovers, expected returncode, timed_out, leftovers_killed).
GROUP_OPTIONS = [
    ("echo out", False, False, 0, False, False),
    ("exit 5", False, True, 5, False, False),
    ("sleep 300", False, False, None, True, False),
    # a background child holding stdout does not keep a capture=False run waiting
    ("sleep 300 & echo $! > {pid}", False, True, 0, False, True),
    ("sleep 300 > /dev/null 2>&1 & echo $! > {pid}", True, True, 0, False, True),
]


@pytest.mark.parametrize(
    ("code", "capture", "kill_leftovers", "status", "timed_out", "leftovers"), GROUP_OPTIONS
)
def test_run_in_process_group_options(
    tmp_path, code, capture, kill_leftovers, status, timed_out, leftovers
):
    from envoverlay.runner import run_in_process_group

    pid_file = tmp_path / "child.pid"
    run = run_in_process_group(
        ["sh", "-c", code.format(pid=pid_file)], timeout=1.0, capture=capture,
        kill_leftovers=kill_leftovers,
    )  # fmt: skip
    assert (run.returncode, run.timed_out, run.leftovers_killed) == (status, timed_out, leftovers)
    if not capture:
        assert (run.stdout, run.stderr) == (b"", b"")
    if leftovers:
        assert process_gone(int(pid_file.read_text()))


@pytest.mark.parametrize("capture", [True, False], ids=["captured", "null device"])
def test_the_timeout_kills_a_grandchild_that_loops_forever(tmp_path, capture):
    from envoverlay.runner import run_in_process_group

    pid_file = tmp_path / "grandchild.pid"
    code = f"( sh -c 'echo $$ > {pid_file}; while :; do sleep 0.1; done' ) & wait"
    run = run_in_process_group(["sh", "-c", code], timeout=0.5, capture=capture)
    assert (run.returncode, run.timed_out) == (None, True)
    assert process_gone(int(pid_file.read_text()))


def test_a_program_without_captured_output_takes_no_stdin():
    from envoverlay.runner import run_in_process_group

    with pytest.raises(eo.ArgumentError, match="capture=True"):
        run_in_process_group(["true"], stdin=b"x", timeout=5, capture=False)


def test_run_in_process_groups_runs_programs_at_once_under_one_deadline(tmp_path):
    from envoverlay.runner import run_in_process_groups

    # Each waits for the other's file: run one after the other, neither would finish.
    first, second = tmp_path / "first", tmp_path / "second"
    wait_for = "touch {}; while [ ! -e {} ]; do sleep 0.05; done; echo {}"
    runs = run_in_process_groups(
        [["sh", "-c", wait_for.format(first, second, "one")],
         ["sh", "-c", wait_for.format(second, first, "two")],
         ["sh", "-c", "sleep 300"]],
        timeout=5,
    )  # fmt: skip
    assert [(r.stdout, r.returncode, r.timed_out) for r in runs] == [
        (b"one\n", 0, False), (b"two\n", 0, False), (b"", None, True),
    ]  # fmt: skip


def test_run_in_process_groups_kills_the_started_ones_when_one_cannot_start(tmp_path):
    from envoverlay.runner import run_in_process_groups

    token = f"envoverlay-test-{os.getpid()}-{tmp_path.name}"  # the started program's $0
    started = ["sh", "-c", "sleep 300; sleep 300", token]
    with pytest.raises(FileNotFoundError):
        run_in_process_groups([started, [str(tmp_path / "no-such-program")]], timeout=30)
    assert all(process_gone(pid) for pid in _token_processes(token))


# GroupRun.stopped: why a run did not finish, as the providers' messages say it.
STOPPED = [
    ({"returncode": 0}, None),
    ({"returncode": 3}, None),
    ({"returncode": None, "timed_out": True}, "did not finish within 2.5 s"),
    ({"returncode": 0, "timed_out": True, "leader_exited": True}, "did not finish within 2.5 s"),
    ({"returncode": None, "interrupted": "SIGTERM"}, "was stopped by SIGTERM"),
]


@pytest.mark.parametrize(("fields", "why"), STOPPED)
def test_group_run_says_why_it_stopped(fields, why):
    from envoverlay.runner import GroupRun

    assert GroupRun(b"", b"", **fields).stopped(2.5) == why


def _token_processes(token: str) -> list[int]:
    """The pids of the processes whose command line holds ``token``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if token.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:  # it exited meanwhile
            continue
    return found


def test_a_signal_during_a_programs_start_is_held_until_it_has_a_pid(tmp_path, monkeypatch):
    from envoverlay import runner

    token = f"envoverlay-test-{os.getpid()}-{tmp_path.name}"
    real_start = runner._start

    def start_then_signal(*args):
        process = real_start(*args)
        signal.raise_signal(signal.SIGTERM)  # after the fork, before the runner has the pid
        return process

    monkeypatch.setattr(runner, "_start", start_then_signal)
    seen: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda number, _frame: seen.append(number))
    try:
        [run] = runner.run_in_process_groups([["sh", "-c", "sleep 300", token]], timeout=60)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert seen == [signal.SIGTERM]  # delivered once, after the kill
    assert run.interrupted == "SIGTERM"
    assert all(process_gone(pid) for pid in _token_processes(token))
