"""Evaluating env files in real bash (envoverlay.envfile_eval), and hooks that publish env
through CLAUDE_ENV_FILE end to end: check --run, the hook runner, compose() and the
lifecycle."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from tools import CLI_SIGNALS, process_gone, signal_once_written, signal_the_cli

import envoverlay as eo
from envoverlay.cli import main
from envoverlay.envfile import attach_env_files
from envoverlay.envfile_eval import evaluate_env_file, read_env_bytes, read_hook_env_files
from envoverlay.runner import run_hook_with_env_files

EVAL = Path(__file__).parent.parent / "envfiles" / "eval"
BASE = {"PATH": "/usr/bin:/bin", "HOME": "/home/dev", "LANG": "C"}


@pytest.fixture(autouse=True)
def _bash() -> None:
    from tools import require_tool

    require_tool("bash")


def _ops(result: eo.EnvFileResult) -> dict[str, Any]:
    return {op.name: (op.action, op.argument(redact=False)) for op in result.ops}


def _not_representable(result: Any) -> list[str]:
    return sorted(d.name for d in result.warnings if d.code == "env-file-not-representable")


def test_functions_and_aliases_are_named_not_applied() -> None:
    result = evaluate_env_file(EVAL / "functions.sh", BASE, platform="posix")
    assert result.ok
    assert _ops(result) == {"TOOL_ACTIVE": ("set", "1")}
    assert _not_representable(result) == ["PROMPT_COMMAND", "_tool_hook", "cd", "tl"]
    assert result.method == "evaluated"


def test_source_of_an_activate_script() -> None:
    result = evaluate_env_file(EVAL / "source-activate.sh", BASE, platform="posix")
    assert result.ok
    assert _ops(result) == {
        "VIRTUAL_ENV": ("set", "/srv/app/.venv"),
        "PATH": ("prepend", ["/srv/app/.venv/bin"]),
    }
    assert _not_representable(result) == ["_OLD_VIRTUAL_PATH", "deactivate"]


def test_eval_of_generated_code() -> None:
    result = evaluate_env_file(EVAL / "eval.sh", BASE, platform="posix")
    assert _ops(result) == {
        "GREETING": ("set", "hello"),
        "PATH": ("prepend", ["/opt/greeter/bin"]),
    }
    # the same file read statically is refused, naming the construct and the way out
    static = read_shell_env_file_of("eval.sh")
    assert [d.code for d in static.errors] == ["env-file-unsupported"]
    assert "--evaluate-env-files" in static.errors[0].hint


def read_shell_env_file_of(name: str) -> Any:
    data = (EVAL / name).read_bytes()
    return read_env_bytes(data, BASE, label=name, platform="posix")


def test_bookkeeping_is_left_out_and_secrets_are_marked() -> None:
    result = evaluate_env_file(EVAL / "bookkeeping.sh", BASE, platform="posix")
    assert _ops(result) == {"REAL": ("set", "1"), "API_TOKEN": ("set", "s3cr3t-value")}
    token = next(op for op in result.ops if op.name == "API_TOKEN")
    assert token.secret
    assert "s3cr3t-value" not in repr(result)


def test_a_file_that_loops_forever_is_an_error_and_nothing_applies() -> None:
    result = evaluate_env_file(EVAL / "loop.sh", BASE, platform="posix", timeout=0.5)
    assert [d.code for d in result.errors] == ["env-file-timeout"]
    assert result.ops == ()
    assert result.layer() is None
    assert f"evaluating {EVAL / 'loop.sh'} did not finish within 0.5 s" in result.errors[0].message
    # joined to a hook: the hook's own stdout overlay does not half-apply either
    stdout = json.dumps(
        {"hookSpecificOutput": {"hookEventName": "SessionStart", "env": {"A": "1"}}}
    )
    hook = eo.parse_hook_output(stdout, hook_id="h", platform="posix")
    joined = attach_env_files(hook, [result], platform="posix")
    assert joined.layer is None
    assert "env-file-timeout" in [d.code for d in joined.errors]


def test_the_timeout_kills_the_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    env = {**BASE, "CHILD_PID_FILE": str(pid_file)}
    result = evaluate_env_file(EVAL / "child.sh", env, platform="posix", timeout=1.0)
    assert [d.code for d in result.errors] == ["env-file-timeout"]
    child = int(pid_file.read_text())
    assert process_gone(child)
    # a grandchild that loops forever (a subshell's own child) is gone too
    looping = tmp_path / "looping.sh"
    looping.write_text(
        f"( sh -c 'echo $$ > {pid_file}; while :; do sleep 0.1; done' ) &\nexport A=1\nwait\n"
    )
    pid_file.unlink()
    result = evaluate_env_file(looping, BASE, platform="posix", timeout=1.0)
    assert [d.code for d in result.errors] == ["env-file-timeout"]
    assert result.ops == ()
    assert process_gone(int(pid_file.read_text()))


def test_background_processes_left_behind_are_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    env = {**BASE, "CHILD_PID_FILE": str(pid_file)}
    result = evaluate_env_file(EVAL / "background.sh", env, platform="posix")
    assert _ops(result) == {"STARTED": ("set", "1")}
    assert [d.code for d in result.warnings] == ["env-file-not-representable"]
    assert "background processes" in result.warnings[0].message
    child = int(pid_file.read_text())
    assert process_gone(child)


# A background process that is a forked bash (a subshell, a group) holds bash's own stdout
# and stderr: the evaluation must not wait for it.
@pytest.mark.parametrize("start", ["sleep 300 &", "( sleep 300; : ) &", "{ sleep 300; : ; } &"])
def test_background_subshells_do_not_hold_the_evaluation(tmp_path: Path, start: str) -> None:
    pid_file = tmp_path / "child.pid"
    env_file = tmp_path / "env.sh"
    env_file.write_text(f'{start}\nprintf %s "$!" > {pid_file}\nexport STARTED=1\n', "utf-8")
    result = evaluate_env_file(env_file, BASE, platform="posix", timeout=5)
    assert result.ok, result.errors
    assert _ops(result) == {"STARTED": ("set", "1")}
    assert "background processes" in result.warnings[0].message
    assert process_gone(int(pid_file.read_text()))


@pytest.mark.parametrize(("signum", "status"), CLI_SIGNALS, ids=[s.name for s, _ in CLI_SIGNALS])
def test_a_signal_during_evaluation_kills_the_process_group(
    tmp_path: Path, signum: int, status: int
) -> None:
    pid_file = tmp_path / "child.pid"
    base = tmp_path / "base.json"
    base.write_text(json.dumps({**BASE, "CHILD_PID_FILE": str(pid_file)}), "utf-8")
    args = ["explain", "--base", str(base), "--platform", "posix", "--evaluate-env-files"]
    code, err, [child] = signal_the_cli(
        [*args, "--env-file", str(EVAL / "child.sh")], pid_file, signum
    )
    assert code == status, err
    assert b"Traceback" not in err
    assert process_gone(child)


def test_a_signal_the_caller_handles_is_an_error_and_nothing_applies(tmp_path: Path) -> None:
    import signal

    pid_file = tmp_path / "child.pid"
    env = {**BASE, "CHILD_PID_FILE": str(pid_file)}
    with signal_once_written(pid_file, signal.SIGTERM) as seen:
        result = evaluate_env_file(EVAL / "child.sh", env, platform="posix", timeout=60)
    assert seen == [signal.SIGTERM]  # delivered to the caller's handler, after the kill
    assert [d.code for d in result.errors] == ["env-file-failed"]
    assert "was stopped by SIGTERM" in result.errors[0].message
    assert result.ops == ()
    assert process_gone(int(pid_file.read_text()))


@pytest.mark.parametrize(
    ("name", "errors", "warnings"),
    [
        ("exits.sh", ["env-file-failed"], []),
        ("fails-last.sh", [], ["env-file-failed"]),
    ],
)
def test_exit_and_failing_status(name: str, errors: list[str], warnings: list[str]) -> None:
    result = evaluate_env_file(EVAL / name, BASE, platform="posix")
    assert [d.code for d in result.errors] == errors
    assert [d.code for d in result.warnings] == warnings
    assert bool(result.ops) is not bool(errors)


def test_functions_shadowing_builtins_do_not_break_the_dump(tmp_path: Path) -> None:
    result = evaluate_env_file(EVAL / "shadows-builtins.sh", BASE, platform="posix")
    assert _ops(result) == {"SHADOWED": ("set", "1")}
    assert _not_representable(result) == ["compgen", "printf"]
    # a file that breaks the dump itself is an error; never a diff that unsets everything
    broken = tmp_path / "broken.sh"
    broken.write_text("export A=1\nbuiltin() { :; }\n", "utf-8")
    result = evaluate_env_file(broken, BASE, platform="posix")
    assert [d.code for d in result.errors] == ["env-file-failed"]
    assert result.ops == ()
    # the folder the dump goes to cannot be moved by the file
    moved = tmp_path / "moved.sh"
    moved.write_text(f"unset __envoverlay_dir\n__envoverlay_dir={tmp_path}\nexport A=1\n", "utf-8")
    result = evaluate_env_file(moved, BASE, platform="posix")
    assert _ops(result) == {"A": ("set", "1")}
    assert not (tmp_path / "status").exists()


def test_missing_bash_is_an_error(tmp_path: Path) -> None:
    result = evaluate_env_file(
        EVAL / "eval.sh", BASE, platform="posix", bash=str(tmp_path / "no-bash")
    )
    assert [d.code for d in result.errors] == ["env-file-failed"]


def test_non_utf8_env_file_is_an_error() -> None:
    result = read_env_bytes(b"export A=1\nexport B=\xff\n", {}, label="F", platform="posix")
    assert [(d.code, d.pointer) for d in result.errors] == [("env-file-syntax", "F:2")]


def test_an_oversized_env_file_is_an_error() -> None:
    from envoverlay.hooks import MAX_OUTPUT_BYTES

    data = b"export A=1\n" + b"#" * MAX_OUTPUT_BYTES
    result = read_env_bytes(data, {}, label="CLAUDE_ENV_FILE", platform="posix")
    assert [(d.code, d.pointer) for d in result.errors] == [("too-large", "CLAUDE_ENV_FILE:1")]


def test_later_env_files_read_over_earlier_ones() -> None:
    written = {
        "CLAUDE_ENV_FILE": b"export ROOT=/opt/app\n",
        "CODEX_ENV_FILE": b"export BIN=$ROOT/bin\n",
        "EMPTY": b"  \n",
    }
    results = read_hook_env_files(written, BASE, platform="posix")
    assert [r.label for r in results] == ["CLAUDE_ENV_FILE", "CODEX_ENV_FILE"]
    assert _ops(results[1]) == {"BIN": ("set", "/opt/app/bin")}


# -- a real hook that writes CLAUDE_ENV_FILE, end to end -----------------------------------

HOOK = """#!/bin/sh
cat > /dev/null
echo 'export PATH="/opt/tool/bin:$PATH"' >> "$CLAUDE_ENV_FILE"
echo "export TOOL_HOME='/opt/tool'" >> "$CLAUDE_ENV_FILE"
echo 'export TOOL_API_KEY=k-123' >> "$CLAUDE_ENV_FILE"
echo 'export FROM_CODEX=1' >> "$CODEX_ENV_FILE"
printf '%s' '{"hookSpecificOutput": {"hookEventName": "SessionStart",'
printf '%s' ' "env": {"TOOL_HOME": "/stdout", "MODE": "dev"}}}'
"""


def _script(tmp_path: Path, text: str) -> str:
    path = tmp_path / "hook.sh"
    path.write_text(text, "utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_check_run_reports_what_the_hook_publishes_via_its_env_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tools import require_tool

    require_tool("dash")  # /bin/sh
    hook = _script(tmp_path, HOOK)
    assert main(["check", "--platform", "posix", "--run", "--", hook]) == 0
    text = capsys.readouterr().out
    assert (
        "valid (publishes env via CLAUDE_ENV_FILE (3 variables), CODEX_ENV_FILE (1 variable))"
        in text
    )
    assert "k-123" not in text
    assert main(["check", "--platform", "posix", "--format", "json", "--run", "--", hook]) == 0
    [report] = json.loads(capsys.readouterr().out)["results"]
    assert report["valid"]
    assert report["overlay"] == {
        "TOOL_HOME": "/opt/tool",
        "MODE": "dev",
        "PATH": {"prepend": ["/opt/tool/bin"]},
        "TOOL_API_KEY": {"set": "***", "secret": True},
        "FROM_CODEX": "1",
    }
    assert [f["file"] for f in report["env_files"]] == ["CLAUDE_ENV_FILE", "CODEX_ENV_FILE"]
    assert report["env_files"][0]["lines"] == [1, 2, 3]


def test_the_hook_runner_env_reaches_compose_and_the_lifecycle(tmp_path: Path) -> None:
    hook = _script(tmp_path, HOOK)
    run, written = run_hook_with_env_files([hook], env={**BASE}, timeout=30)
    assert run.exit_code == 0
    parsed = eo.parse_hook_output(run.stdout, hook_id="tool", platform="posix")
    files = read_hook_env_files(written, BASE, platform="posix")
    joined = attach_env_files(parsed, files, platform="posix")
    assert joined.ok
    env = eo.compose(BASE, [joined.layer], platform="posix").env
    assert env["PATH"] == "/opt/tool/bin:/usr/bin:/bin"
    assert env["TOOL_HOME"] == "/opt/tool"  # the env file comes after stdout: it wins
    assert env["TOOL_API_KEY"] == "k-123"  # real in the spawn map
    assert env["MODE"] == "dev"
    # the lifecycle keeps the layer like any hook layer; a rerun replaces it
    state = eo.ThreadState.new(thread_id="t1", session_id="s1").apply(
        "startup", hook_results=[joined]
    )
    assert eo.compose(BASE, state.layers, platform="posix").env["TOOL_HOME"] == "/opt/tool"
    rerun = attach_env_files(
        eo.parse_hook_output("", hook_id="tool", platform="posix"),
        read_hook_env_files({"CLAUDE_ENV_FILE": b"export TOOL_HOME=/v2\n"}, BASE, platform="posix"),
        platform="posix",
    )
    resumed = state.apply("resume", hook_results=[rerun])
    env = eo.compose(BASE, resumed.layers, platform="posix").env
    assert env["TOOL_HOME"] == "/v2"
    assert "MODE" not in env  # the hook's old layer was replaced, not merged
    assert "k-123" not in eo.dumps(resumed)
    # /clear drops every hook layer, then only what the hooks publish again applies
    cleared = resumed.apply("clear", hook_results=[])
    assert "TOOL_HOME" not in eo.compose(BASE, cleared.layers, platform="posix").env


def test_a_failing_hook_contributes_nothing_env_files_included(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hook = _script(tmp_path, "#!/bin/sh\necho 'export A=1' >> \"$CLAUDE_ENV_FILE\"\nexit 2\n")
    assert main(["check", "--platform", "posix", "--format", "json", "--run", "--", hook]) == 1
    [report] = json.loads(capsys.readouterr().out)["results"]
    assert report["overlay"] is None
    assert [e["code"] for e in report["errors"]] == ["hook-failed"]


def test_every_hook_gets_fresh_empty_env_files(tmp_path: Path) -> None:
    hook = _script(
        tmp_path,
        '#!/bin/sh\ntest -f "$CLAUDE_ENV_FILE" && test ! -s "$CLAUDE_ENV_FILE" && '
        'test -f "$CODEX_ENV_FILE" && echo "x" >> "$CLAUDE_ENV_FILE"\n',
    )
    first, written = run_hook_with_env_files([hook], timeout=30)
    second, again = run_hook_with_env_files([hook], timeout=30)
    assert (first.exit_code, second.exit_code) == (0, 0)
    assert written["CLAUDE_ENV_FILE"] == again["CLAUDE_ENV_FILE"] == b"x\n"


def test_cli_env_file_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = tmp_path / "base.json"
    base.write_text(json.dumps(BASE), "utf-8")
    env_file = tmp_path / "env.sh"
    env_file.write_text('export PATH="/opt/x:$PATH"\nexport WHO=$HOME\n', "utf-8")
    args = ["--base", str(base), "--platform", "posix", "--format", "json"]
    assert main(["explain", *args, "--env-file", str(env_file)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["env"]["PATH"] == "/opt/x:/usr/bin:/bin"
    assert report["variables"]["WHO"]["source"] == {"kind": "hook", "id": str(env_file)}
    reference = next(d for d in report["diagnostics"] if d["code"] == "env-file-reference")
    assert "inherited:file:" in reference["message"]
    assert main(["explain", *args, "--provider", f"envfile={env_file}"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["variables"]["PATH"]["source"]["kind"] == "provider"
    evaluated = tmp_path / "eval.sh"
    evaluated.write_text("export N=$(printf 7)\n", "utf-8")
    assert main(["explain", *args, "--env-file", str(evaluated)]) == 1
    capsys.readouterr()
    assert main(["explain", *args, "--evaluate-env-files", "--env-file", str(evaluated)]) == 0
    assert json.loads(capsys.readouterr().out)["env"]["N"] == "7"
    out = tmp_path / "out.txt"
    code = main(
        ["exec", "--base", str(base), "--platform", "posix", "--env-file", str(env_file),
         "--", "/bin/sh", "-c", f'printf %s "$PATH" > {out}']
    )  # fmt: skip
    assert code == 0
    assert out.read_text() == "/opt/x:/usr/bin:/bin"


def test_check_env_file_prints_the_error_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env_file = tmp_path / "saved.sh"
    env_file.write_text("export A=1\nsource ./more.sh\n", "utf-8")
    assert main(["check", "--platform", "posix", "--env-file", str(env_file)]) == 1
    out = capsys.readouterr().out
    assert f"{env_file}:2: line 2: `source` of another file is not read statically" in out
    assert main(["check", "--platform", "posix", "--env-file", str(env_file), "a", "b"]) == 2


def test_check_run_evaluates_env_files_only_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hook = _script(
        tmp_path, "#!/bin/sh\necho 'export BUILD=$(printf 42)' >> \"$CLAUDE_ENV_FILE\"\n"
    )
    assert main(["check", "--platform", "posix", "--run", "--", hook]) == 1
    out = capsys.readouterr().out
    assert "CLAUDE_ENV_FILE:1: line 1: command substitution ($(…)) is not read statically" in out
    args = ["check", "--platform", "posix", "--format", "json", "--evaluate-env-files"]
    assert main([*args, "--run", "--", hook]) == 0
    [report] = json.loads(capsys.readouterr().out)["results"]
    assert report["overlay"] == {"BUILD": "42"}
    assert report["env_files"][0]["method"] == "evaluated"


def test_check_reports_ops_one_overlay_cannot_show(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out.json"
    output.write_text(
        json.dumps({"hookSpecificOutput": {"hookEventName": "SessionStart",
                                           "env": {"EDITOR": {"default": "vi"}}}}),
        "utf-8",
    )  # fmt: skip
    env_file = tmp_path / "env.sh"
    env_file.write_text('export EDITOR="$EDITOR:/x"\n', "utf-8")
    args = ["check", "--platform", "posix", "--format", "json", "--env-file", str(env_file)]
    assert main([*args, str(output)]) == 0
    [report] = json.loads(capsys.readouterr().out)["results"]
    assert report["overlay"] is None
    (warning,) = [w for w in report["warnings"] if w["code"] == "env-file-not-representable"]
    assert "an append after a default" in warning["message"]
