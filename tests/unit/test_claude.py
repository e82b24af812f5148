"""The Claude Code 2.1 runtime profile: settings, session folders, env files as Claude Code
applies them, and the warnings about what breaks inside Claude Code.

Session folders are built by each test from a table (or read from ``tests/data/claude/``):
they reproduce what Claude Code 2.1.328 writes, never a published hook.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from claude_cases import HOOK, SESSION, build_session
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import claude_env_file_lines, json_values

import envoverlay as eo
from envoverlay.claude import (
    ENV_FILE_EVENTS,
    ClaudeHook,
    ClaudeSession,
    EnvFile,
    SettingsFile,
    as_claude_applies,
    breaking_line,
    claude_code_variables,
    env_file_name,
    judge_hook,
    matched_hooks,
    order_env_files,
    output_findings,
    parse_settings,
    per_command_values,
    per_run_variables,
    powershell_verdict,
    predict,
    repeated_entries,
    session_start_input,
    shell_start_variables,
    snapshot_exports,
    thread_state,
)
from envoverlay.claude_session import load_session
from envoverlay.cli import main
from envoverlay.ops import Op

DATA = Path(__file__).resolve().parent.parent / "data" / "claude"

# -- which files apply, in which order ------------------------------------------------------

ORDER_CASES = [
    # (files in the folder, the names Claude Code applies in order, the names it ignores)
    (["sessionstart-hook-0.sh"], ["sessionstart-hook-0.sh"], []),
    (
        ["sessionstart-hook-1.sh", "setup-hook-0.sh", "filechanged-hook-0.sh",
         "cwdchanged-hook-3.sh", "sessionstart-hook-0.sh"],
        ["setup-hook-0.sh", "sessionstart-hook-0.sh", "sessionstart-hook-1.sh",
         "cwdchanged-hook-3.sh", "filechanged-hook-0.sh"],
        [],
    ),
    # N is compared as a number, not as text
    (["sessionstart-hook-10.sh", "sessionstart-hook-2.sh"],
     ["sessionstart-hook-2.sh", "sessionstart-hook-10.sh"], []),
    # events without env files, other names, near misses
    (
        ["pretooluse-hook-0.sh", "notes.txt", "SessionStart-hook-0.sh", "sessionstart-hook-.sh",
         "sessionstart-hook-0.sh.bak", "subagentstart-hook-0.sh", "sessionstart-hook-1.sh"],
        ["sessionstart-hook-1.sh"],
        ["SessionStart-hook-0.sh", "notes.txt", "pretooluse-hook-0.sh",
         "sessionstart-hook-.sh", "sessionstart-hook-0.sh.bak", "subagentstart-hook-0.sh"],
    ),
    ([], [], []),
]  # fmt: skip


@pytest.mark.parametrize(("names", "applied", "ignored"), ORDER_CASES)
def test_order_env_files(names: list[str], applied: list[str], ignored: list[str]) -> None:
    assert order_env_files(names) == (applied, ignored)


# -- settings.json --------------------------------------------------------------------------


SETTINGS_CASES = [
    # (settings text, env pairs, error pointers)
    ('{"env": {"A": "1", "N": 2, "B": true}}', [("A", "1"), ("N", "2"), ("B", "true")], []),
    ('{"env": {"F": 1.0, "G": 0.5}}', [("F", "1"), ("G", "0.5")], []),
    ('{"env": {"A": ["x"], "C": "3"}}', [("C", "3")], ["/env/A"]),
    ('{"env": "A=1"}', [], ["/env"]),
    ("[1]", [], [""]),
    ('{"env": {"A": "1",}}', [], [""]),
    ('{"env": {"A": "1", "A": "2"}}', [], ["/env/A"]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "env", "pointers"), SETTINGS_CASES)
def test_parse_settings_env(text: str, env: list[tuple[str, str]], pointers: list[str]) -> None:
    parsed, problems = parse_settings(text, level="user", path="/c/settings.json")
    assert list(parsed.env) == env
    assert [p.pointer for p in problems] == pointers
    for problem in problems:
        assert problem.code == "claude-settings"
        assert "/c/settings.json" in problem.message
        assert problem.hint


HOOKS = {
    "SessionStart": [
        {"matcher": "startup", "hooks": [{"type": "command", "command": "a", "timeout": 5}]},
        {"hooks": [{"type": "command", "command": "b"}, {"type": "command", "command": "c"}]},
        {"matcher": "resume|compact", "hooks": [{"type": "command", "command": "d"}]},
    ],
    "SubagentStart": [{"hooks": [{"type": "command", "command": "s"}]}],
    "PreToolUse": [{"hooks": [{"type": "command", "command": "ignored"}]}],
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("startup", [(0, "a"), (1, "b"), (2, "c")]),
        ("resume", [(0, "b"), (1, "c"), (2, "d")]),
        ("clear", [(0, "b"), (1, "c")]),
        ("compact", [(0, "b"), (1, "c"), (2, "d")]),
    ],
)
def test_hook_positions_name_the_env_files(source: str, expected: list[tuple[int, str]]) -> None:
    parsed, problems = parse_settings(json.dumps({"hooks": HOOKS}), level="user", path="s.json")
    assert problems == []
    found = matched_hooks([parsed], "SessionStart", source)
    assert [(n, hook.command) for n, hook in found] == expected
    assert [h.event for h in parsed.hooks] == ["SessionStart"] * 4 + ["SubagentStart"]
    assert parsed.hooks[0].timeout == 5.0
    assert (
        env_file_name("SessionStart", expected[-1][0]) == f"sessionstart-hook-{expected[-1][0]}.sh"
    )


def test_hook_positions_continue_across_settings_levels() -> None:
    user = SettingsFile("user", "u", hooks=(ClaudeHook("SessionStart", None, "u", None, "u"),))
    local = SettingsFile("local", "l", hooks=(ClaudeHook("SessionStart", "*", "l", None, "l"),))
    assert [(n, h.command) for n, h in matched_hooks([user, local], "SessionStart", "x")] == [
        (0, "u"),
        (1, "l"),
    ]


@pytest.mark.parametrize(
    ("hooks", "pointer"),
    [
        ({"SessionStart": {"hooks": []}}, "/hooks/SessionStart"),
        ({"SessionStart": [{"matcher": 1, "hooks": []}]}, "/hooks/SessionStart/0"),
        ({"SessionStart": [{"hooks": [{"type": "command"}]}]}, "/hooks/SessionStart/0/hooks/0"),
        (
            {"SessionStart": [{"hooks": [{"type": "command", "command": "x", "timeout": -1}]}]},
            "/hooks/SessionStart/0/hooks/0/timeout",
        ),
        ([], "/hooks"),
    ],
)
def test_bad_hooks_are_reported_with_their_pointer(hooks: object, pointer: str) -> None:
    _, problems = parse_settings(json.dumps({"hooks": hooks}), level="user", path="s.json")
    assert [p.pointer for p in problems] == [pointer]


# -- what Claude Code and its shell add -----------------------------------------------------


def test_claude_code_variables_and_per_run_names() -> None:
    variables = claude_code_variables(SESSION)
    assert variables["CLAUDECODE"] == "1"
    assert variables["CLAUDE_CODE_SESSION_ID"] == SESSION
    assert variables["AI_AGENT"] == "claude-code_2-1-328_agent"
    assert variables["CLAUDE_CODE_ENTRYPOINT"] == "sdk-cli"
    assert "CLAUDE_CODE_EXECPATH" not in variables
    assert "CLAUDE_CODE_EXECPATH" in per_run_variables()
    assert "CLAUDE_CODE_EXECPATH" not in per_run_variables(executable="/bin/claude")
    assert claude_code_variables(SESSION, executable="/c")["CLAUDE_CODE_EXECPATH"] == "/c"
    interactive = claude_code_variables(SESSION, entrypoint="cli")
    assert "CLAUDE_CODE_SESSION_ATTENDED" not in interactive
    assert "CLAUDE_CODE_SESSION_ATTENDED" in per_run_variables("cli")
    assert set(variables).isdisjoint(per_run_variables())


@pytest.mark.parametrize(("level", "expected"), [(None, "1"), ("3", "4"), ("x", "1"), ("", "1")])
def test_shell_start_variables(level: str | None, expected: str) -> None:
    base = {} if level is None else {"SHLVL": level}
    assert shell_start_variables(base, "/p") == {"PWD": "/p", "SHLVL": expected}


# -- env files as Claude Code applies them --------------------------------------------------

APPLY_CASES = [
    # (ops, env before, the values after, as re-running the lines in bash gives them)
    ([Op.prepend("PATH", "/t")], {"PATH": "/b"}, {"PATH": "/t:/b"}),
    ([Op.prepend("PATH", "/t")] * 3, {"PATH": "/b"}, {"PATH": "/t:/t:/t:/b"}),
    ([Op.prepend("PATH", "/t")], {"PATH": "/t:/b"}, {"PATH": "/t:/t:/b"}),
    ([Op.append("PATH", ["/x", "/y"])], {"PATH": "/b"}, {"PATH": "/b:/x:/y"}),
    ([Op.prepend("PATH", "/t")], {}, {"PATH": "/t:"}),
    ([Op.append("LIST", "/a", separator=";")], {"LIST": "c"}, {"LIST": "c;/a"}),
    ([Op.set("A", "1"), Op.default("A", "2"), Op.default("B", "3")], {}, {"A": "1", "B": "3"}),
    ([Op.unset("A"), Op.prepend("A", "/x")], {"A": "/y"}, {"A": "/x:"}),
]  # fmt: skip


@pytest.mark.parametrize(("ops", "env", "expected"), APPLY_CASES)
def test_as_claude_applies(ops: list[Op], env: dict[str, str], expected: dict[str, str]) -> None:
    from envoverlay.composition import compose

    rewritten = as_claude_applies(ops, env, "posix")
    assert all(op.action in ("set", "unset", "default") for op in rewritten)
    from envoverlay.layers import Layer

    result = compose(env, [Layer.from_ops(rewritten, kind="hook", id="f")], platform="posix")
    assert {name: result.env[name] for name in expected} == expected


BREAKING_CASES = [
    # (file text, the line that breaks every command, a word of its effect) — None: fine
    ("export A=1\nexit 3\n", (2, "exit with 3")),
    ("export A=1\n  exit\n", (2, "exit with the last status")),
    ("return 1\nlogout\nexport A=1\n", None),  # bash -c reports these and goes on
    ("export 1BAD=x\nexport OK=1\n", (1, "not a valid identifier")),
    ("declare -x A-B=1\n", (1, "not a valid identifier")),
    ("export A='unterminated\nexport B=2\n", (1, "unexpected EOF")),
    ('export A=1\nexport B="x\n', (2, "unexpected EOF")),
    ("export A=$'it\\'s'\nexport B=\"q\\\"\"\n", None),
    ("export A='x'  # it's fine\n", None),
    ("# exit 1\nexport EXITCODE=1\nexport A=\"exit\"\n", None),
    ("export A=1 \\\n  B=2\n", None),
]  # fmt: skip


def assert_verdict(found: tuple[int, str] | None, expected: tuple[int, str] | None) -> None:
    """``found`` names ``expected``'s line and holds its words (or both are None)."""
    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert found[0] == expected[0]
        assert expected[1] in found[1]


@pytest.mark.parametrize(("text", "expected"), BREAKING_CASES)
def test_breaking_line(text: str, expected: tuple[int, str] | None) -> None:
    assert_verdict(breaking_line(text), expected)


def test_per_command_values() -> None:
    text = 'export STAMP="$(date +%s)"\n# $(not this)\nexport OLD=`hostname`\nexport A=1\n'
    assert per_command_values(text) == [(1, "STAMP"), (3, "OLD")]


POWERSHELL_CASES = [
    ("export A=1\ndeclare -x B='two words'\nexport C=\"x y\"\n\n# note\n", None),
    ('export PATH="/x:$PATH"\n', (1, "drops the whole file")),
    ("export A=1\nB=2\n", (2, "drops the whole file")),
    ("export HOME_DIR=/home/me\n", (1, "holds '/'")),
    ("export WIN='C:\\tools'\n", (1, "holds '/'")),
    ('export A="`id`"\n', (1, "drops the whole file")),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), POWERSHELL_CASES)
def test_powershell_verdict(text: str, expected: tuple[int, str] | None) -> None:
    assert_verdict(powershell_verdict(text), expected)


def test_snapshot_exports_and_repeated_entries() -> None:
    profiles = [("/h/.bashrc", "alias ll='ls -l'\nexport RC=1\n  export PATH=/rc:$PATH\n")]
    assert snapshot_exports(profiles) == [("/h/.bashrc", 2, "RC"), ("/h/.bashrc", 3, "PATH")]
    env = {"PATH": "/t:/t:/b:/t::", "OTHER": "/t:/t"}
    assert repeated_entries(env, ["PATH", "MISSING"], ":") == [("PATH", "/t", 3)]


def test_fixture_sessions_exist() -> None:
    assert (DATA / "unterminated-quote" / "config" / "session-env").is_dir()


@pytest.mark.parametrize(("text", "expected"), BREAKING_CASES)
def test_breaking_line_agrees_with_real_bash(text: str, expected: tuple[int, str] | None) -> None:
    """What Claude Code does: the file's text, then the command, in one `bash -c`."""
    import subprocess

    from tools import require_tool

    bash = require_tool("bash")
    script = f"{text}\neval 'echo command-ran'"
    done = subprocess.run([bash, "-c", script], capture_output=True, text=True, check=False)
    ran = "command-ran" in done.stdout
    if expected is None:
        assert (done.returncode, ran) == (0, True)
    elif "exit" in expected[1]:
        assert not ran
    elif "identifier" in expected[1]:
        assert ran
        assert "not a valid identifier" in done.stderr
    else:
        assert (done.returncode, ran) == (2, False)
        assert "unexpected EOF" in done.stderr


# -- predictions over fixture sessions ------------------------------------------------------

BASE = {"PATH": "/usr/bin:/bin", "HOME": "/home/user", "SHELL": "/bin/bash", "SHLVL": "1"}


def fixture_session(name: str, project: Path) -> ClaudeSession:
    return load_session(
        config_dir=str(DATA / name / "config"), session_id=SESSION, project_dir=str(project),
        environ=BASE,
    )  # fmt: skip


def test_explain_names_the_file_the_line_and_the_effect_of_an_unterminated_quote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = tmp_path / "base.json"
    base.write_text(json.dumps(BASE))
    monkeypatch.chdir(tmp_path)
    config = str(DATA / "unterminated-quote" / "config")
    code = main(["explain", "--runtime", "claude", "--config-dir", config, "--base", str(base)])
    out = capsys.readouterr().out
    assert code == 1
    assert (
        "error[claude-breaks-commands] from hook:"
        f"{config}/session-env/{SESSION}/sessionstart-hook-1.sh: sessionstart-hook-1.sh line 2: "
        "a quote opened here is never closed: every Bash command of the session fails "
        "(exit 2, 'unexpected EOF')"
    ) in out
    assert "sessionstart-hook-1.sh: refused" in out
    assert f"hook:{config}/session-env/{SESSION}/sessionstart-hook-0.sh:1 " in out  # PATH's row
    assert (
        "line 1: PATH prepend ['/opt/tool/bin'] "
        "(re-run, it gives set '/opt/tool/bin:/usr/bin:/bin')" in out
    )
    main(["explain", "--runtime", "claude", "--config-dir", config, "--base", str(base),
          "--format", "json"])  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    from envoverlay.schemas import validator

    assert list(validator("explain-report").iter_errors(report)) == []
    assert report["env"]["PROJECT_MODE"] == "dev"
    # the op names the session file Claude Code sources, and its line
    hook_file = f"{config}/session-env/{SESSION}/sessionstart-hook-0.sh"
    assert report["variables"]["PATH"]["history"][-1]["origin"] == {"file": hook_file, "line": 1}
    assert report["env"]["PWD"] == str(tmp_path)
    assert "GREETING" not in report["env"]  # the refused file applies nothing here
    assert [f["status"] for f in report["runtime"]["files"]] == ["applied", "refused"]
    assert {d["code"] for d in report["diagnostics"] if d["severity"] == "error"} >= {
        "claude-breaks-commands", "claude-env-file", "env-file-syntax",
    }  # fmt: skip


def test_prediction_after_resumes_keeps_the_duplicates_and_warns(tmp_path: Path) -> None:
    prediction = predict(fixture_session("resumed", tmp_path), BASE)
    env = prediction.result.env
    assert env["PATH"] == "/opt/tool/bin:/opt/tool/bin:/opt/tool/bin:/usr/bin:/bin"
    assert env["GREETING"] == "hello"
    [warning] = [d for d in prediction.diagnostics if d.code == "claude-repeated-entry"]
    assert warning.name == "PATH"
    assert "/opt/tool/bin 3 times" in warning.message
    assert warning.source is not None
    assert warning.source.id.endswith("sessionstart-hook-0.sh")


def test_a_file_no_configured_hook_writes_is_reported_and_still_applied(tmp_path: Path) -> None:
    settings = {"hooks": {"SessionStart": [
        {"matcher": "resume", "hooks": [{"type": "command", "command": "a"}]},
        {"hooks": [{"type": "command", "command": "b"}]},
    ]}}  # fmt: skip
    files = {f"sessionstart-hook-{n}.sh": f"export V{n}=1\n" for n in range(3)}
    config = build_session(tmp_path, files, settings)
    session = load_session(config_dir=str(config), session_id=SESSION, environ={})
    prediction = predict(session, {})
    stale = [d for d in prediction.diagnostics if d.code == "claude-stale-file"]
    # b writes hook-0 at startup and hook-1 on resume; nothing writes hook-2 now
    assert [d.source.id.rsplit("/", 1)[-1] for d in stale if d.source] == ["sessionstart-hook-2.sh"]
    assert prediction.result.env["V2"] == "1"


def test_an_imported_thread_state_holds_each_directory_once(tmp_path: Path) -> None:
    from envoverlay.composition import compose

    state = thread_state(fixture_session("resumed", tmp_path), BASE)
    env = compose(BASE, state.layers, platform="posix").env
    assert env["PATH"] == "/opt/tool/bin:/usr/bin:/bin"
    assert env["CLAUDE_CODE_SESSION_ID"] == SESSION
    assert env["CLAUDECODE"] == "1"
    again = eo.loads(eo.dumps(state))  # the imported state persists like any other
    assert compose(BASE, again.layers, platform="posix").env == env
    refused = thread_state(fixture_session("unterminated-quote", tmp_path), BASE)
    assert [d.pointer for d in refused.diagnostics if d.code == "env-file-syntax"] == [
        f"{DATA}/unterminated-quote/config/session-env/{SESSION}/sessionstart-hook-1.sh:2"
    ]


@pytest.mark.parametrize(
    "extra", [["--hook-output", "x.json"], ["--set", "A=1"], ["--provider", "venv=."]]
)
def test_runtime_claude_refuses_inputs_it_does_not_use(
    extra: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(DATA / "resumed" / "config")
    assert main(["explain", "--runtime", "claude", "--config-dir", config, *extra]) == 2
    assert "cannot be combined with --runtime claude" in capsys.readouterr().err


def test_exec_runs_the_command_under_the_prediction(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    import sys

    base = tmp_path / "base.json"
    base.write_text(json.dumps(BASE))
    config = str(DATA / "resumed" / "config")
    script = "import os, sys; sys.stdout.write(os.environ['PATH'])"
    code = main(["exec", "--runtime", "claude", "--config-dir", config, "--base", str(base),
                 "--", sys.executable, "-c", script])  # fmt: skip
    assert code == 0
    assert capfd.readouterr().out == "/opt/tool/bin:/opt/tool/bin:/opt/tool/bin:/usr/bin:/bin"


# -- hooks, the way Claude Code runs them ---------------------------------------------------


@pytest.mark.parametrize(
    ("source", "extra"),
    [
        ("startup", set()),
        ("clear", set()),
        ("resume", {"seconds_since_last_response", "context_tokens",
                    "prompt_cache_likely_expired", "estimated_cache_write_usd"}),
        ("compact", {"model", "prompt_id"}),
    ],
)  # fmt: skip
def test_session_start_input_per_source(source: str, extra: set[str]) -> None:
    from envoverlay.schemas import validator

    document = session_start_input(
        source=source, session_id=SESSION, cwd="/tmp/cc2/proj", config_dir="/c"
    )
    common = {"session_id", "transcript_path", "cwd", "hook_event_name", "source"}
    assert set(document) == common | extra
    assert document["transcript_path"] == f"/c/projects/-tmp-cc2-proj/{SESSION}.jsonl"
    assert list(validator("claude-session-start.input").iter_errors(document)) == []
    # the Codex profile's schema requires model and permission_mode: not Claude Code's startup
    if source == "startup":
        assert list(validator("session-start.input").iter_errors(document)) != []
    without = {key: value for key, value in document.items() if key not in extra}
    if extra:
        assert list(validator("claude-session-start.input").iter_errors(without)) != []


OUTPUT_CASES = [
    # (stdout, context Claude Code takes, pointers of what it ignores)
    ("", None, []),
    ("Using the venv\n", "Using the venv", []),
    ('{"hookSpecificOutput": {"hookEventName": "SessionStart", "additionalContext": "ctx"}}',
     "ctx", []),
    ('{"hookSpecificOutput": {"hookEventName": "SessionStart", "env": {"A": "1"}}}',
     None, ["/hookSpecificOutput/env"]),
    ('{"continue": true, "env": {}, "suppressOutput": false}', None, ["/env"]),
    ('{"systemMessage": "x", "async": true, "asyncTimeout": 5}', None, []),
    ("{not json", "{not json", [None]),
]  # fmt: skip


@pytest.mark.parametrize(("stdout", "context", "pointers"), OUTPUT_CASES)
def test_output_findings(stdout: str, context: str | None, pointers: list[str | None]) -> None:
    from envoverlay.sources import Source

    found_context, findings = output_findings(stdout, Source("hook", "h"))
    assert found_context == context
    assert [f.pointer for f in findings] == pointers
    assert all(f.code == "claude-ignored-output" and f.hint for f in findings)
    if pointers == ["/hookSpecificOutput/env"]:
        assert "envoverlay emit --format claude-env-file" in findings[0].hint


JUDGE_CASES = [
    # (stdout, exit code, env file text, codes of errors, codes of warnings, ops, context)
    ("", 0, "export A=1\n", [], [], [("A", "set")], None),
    ("ready\n", 0, "", [], [], [], "ready"),
    ('{"hookSpecificOutput": {"hookEventName": "SessionStart", "env": {"A": "1"}}}', 0, "",
     [], ["claude-ignored-output"], [], None),
    ("", 1, 'export PATH="/t:$PATH"\n', ["hook-failed"], [], [("PATH", "prepend")], None),
    ("", 0, "export A='x\n", ["env-file-syntax", "claude-breaks-commands"], [], [], None),
    ("", 0, "export A=$(date)\n",
     ["env-file-unsupported"], ["claude-per-command-value"], [], None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("stdout", "code", "text", "errors", "warnings", "ops", "context"), JUDGE_CASES
)
def test_judge_hook(
    stdout: str,
    code: int,
    text: str,
    errors: list[str],
    warnings: list[str],
    ops: list[tuple[str, str]],
    context: str | None,
) -> None:
    file = EnvFile("/c/session-env/s/sessionstart-hook-0.sh", "sessionstart", 0, text)
    result = judge_hook(stdout, exit_code=code, env_file=file, env={"PATH": "/b"}, platform="posix")
    assert [d.code for d in result.errors] == errors
    assert [d.code for d in result.warnings] == warnings
    layer_ops = result.layer.ops if result.layer is not None else ()
    assert [(op.name, op.action) for op in layer_ops] == ops
    assert result.additional_context == context
    assert result.hook_id == file.path


def test_check_runtime_claude_runs_the_hook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = tmp_path / "hook.sh"
    hook.write_text(HOOK)
    hook.chmod(0o755)
    monkeypatch.setenv("STDIN_COPY", str(tmp_path / "stdin.json"))
    code = main(["check", "--runtime", "claude", "--run", "--format", "json", "--", str(hook)])
    document = json.loads(capsys.readouterr().out)
    from envoverlay.schemas import validator

    assert list(validator("check-report").iter_errors(document)) == []
    [report] = document["results"]
    assert code == 0
    assert report["valid"] is True
    assert report["overlay"] == {"PATH": {"prepend": ["/opt/tool/bin"]}}
    assert report["additionalContext"] == "Using the tool"
    assert report["runtime"]["env_file_text"] == 'export PATH="/opt/tool/bin:$PATH"\n'
    assert set(report["runtime"]["stdin"]) == {
        "session_id", "transcript_path", "cwd", "hook_event_name", "source",
    }  # fmt: skip
    assert not Path(report["runtime"]["env_file"]).exists()  # the throwaway config dir is gone
    assert main(["check", "--runtime", "claude", "--run", "--", str(hook)]) == 0
    out = capsys.readouterr().out
    assert "    add /opt/tool/bin to the front of PATH\n" in out
    assert "Claude Code: publishes env via CLAUDE_ENV_FILE (1 variable); it runs that file " in out
    assert main(["check", "--runtime", "claude", "--", str(hook)]) == 2
    assert "envoverlay check --runtime claude --run -- CMD" in capsys.readouterr().err


@pytest.mark.parametrize("runtime", [[], ["--runtime", "claude"]], ids=["default", "claude"])
def test_check_run_labels_the_hook_shell_quoted_for_either_runtime(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], runtime: list[str]
) -> None:
    command = ["sh", "-c", "cat > /dev/null; echo 'a context'", "hook name"]
    code = main(["check", *runtime, "--run", "--format", "json", "--", *command])
    [report] = json.loads(capsys.readouterr().out)["results"]
    assert code == 0
    assert report["file"] == shlex.join(command)


# -- property: the prediction is what re-running the file in bash gives ---------------------


@settings(max_examples=60)
@given(
    lines=st.lists(claude_env_file_lines, min_size=1, max_size=6),
    path=st.sampled_from(["", "/usr/bin", "/a:/usr/bin", "/b:/a"]),
    a=st.sampled_from([None, "", "set"]),
)
def test_as_claude_applies_equals_bash_re_running_the_file(
    lines: list[str], path: str, a: str | None
) -> None:
    import shutil
    import subprocess

    from tools import require_tool

    from envoverlay.claude import read_env_file
    from envoverlay.composition import compose
    from envoverlay.layers import Layer

    bash = require_tool("bash")
    env_program = shutil.which("env")
    assert env_program is not None
    base = {"PATH": path} if a is None else {"PATH": path, "A": a}
    text = "\n".join(lines) + "\n"
    read = read_env_file(text, path="f.sh", env=base, platform="posix")
    assert not read.errors, text
    ops = read.ops
    forms = [lines[n - 1] for n in read.lines]
    layer = Layer.from_ops(as_claude_applies(ops, base, "posix", forms), kind="hook", id="f")
    predicted = compose(base, [layer], platform="posix").env
    done = subprocess.run(
        [bash, "--noprofile", "--norc", "-c", f"{text}\n{env_program} -0"],
        env=base, capture_output=True, check=True,
    )  # fmt: skip
    real = dict(item.decode().split("=", 1) for item in done.stdout.split(b"\0") if item)
    for name in ("PATH", "A", "B"):
        assert predicted.get(name) == real.get(name), (text, base)


_JSON = json_values()
# Settings-shaped documents: the keys Claude Code reads, holding any JSON (specific to it).
_SETTINGS = st.fixed_dictionaries(
    {},
    optional={
        "env": st.dictionaries(st.text(max_size=6), _JSON, max_size=4) | _JSON,
        "hooks": st.dictionaries(
            st.sampled_from(["SessionStart", "Setup", "CwdChanged", "SubagentStart", "Stop"]),
            st.lists(st.fixed_dictionaries({}, optional={"matcher": _JSON, "hooks": _JSON})),
            max_size=3,
        ) | _JSON,
    },
)  # fmt: skip


@given(document=_SETTINGS | _JSON)
def test_parse_settings_never_raises_and_keeps_only_strings(document: object) -> None:
    parsed, problems = parse_settings(json.dumps(document), level="user", path="s.json")
    assert all(isinstance(n, str) and isinstance(v, str) for n, v in parsed.env)
    assert all(isinstance(h.command, str) and h.event in (*ENV_FILE_EVENTS, "SubagentStart")
               for h in parsed.hooks)  # fmt: skip
    assert all(p.code == "claude-settings" and p.pointer is not None for p in problems)
    for source in ("startup", "resume"):
        positions = [n for n, _ in matched_hooks([parsed], "SessionStart", source)]
        assert positions == list(range(len(positions)))


@given(text=st.text(alphabet=st.sampled_from("ex it'\"$\\`#(){}:=\n AB1-"), max_size=60))
def test_line_checks_never_raise(text: str) -> None:
    found = breaking_line(text)
    assert found is None or 1 <= found[0] <= max(1, text.count("\n") + 1)
    verdict = powershell_verdict(text)
    assert verdict is None or 1 <= verdict[0] <= text.count("\n") + 1
    for line, _name in per_command_values(text):
        assert "$(" in text.splitlines()[line - 1] or "`" in text.splitlines()[line - 1]


@given(names=st.lists(st.from_regex(
    r"(setup|sessionstart|cwdchanged|filechanged|pretooluse)-hook-[0-9]{1,3}\.sh|[a-z.]{1,8}",
    fullmatch=True), unique=True))  # fmt: skip
def test_order_env_files_partitions_the_folder(names: list[str]) -> None:
    applied, ignored = order_env_files(names)
    assert sorted(applied + ignored) == sorted(names)
    ranks = [(ENV_FILE_EVENTS_LOWER.index(n.split("-")[0]), int(n.split("-")[2][:-3]))
             for n in applied]  # fmt: skip
    assert ranks == sorted(ranks)
    assert not any(n.startswith("pretooluse") for n in applied)


ENV_FILE_EVENTS_LOWER = [event.lower() for event in ENV_FILE_EVENTS]


SESSION_CASES = [
    # (folder files, expected values in the prediction, expected (code, file, line) findings)
    ({"sessionstart-hook-0.sh": 'export PATH="/t:$PATH"\n',
      "sessionstart-hook-1.sh": 'export PATH="$PATH:/u"\n', "setup-hook-0.sh": "export PATH=/s\n"},
     {"PATH": "/t:/s:/u"}, []),
    ({"sessionstart-hook-0.sh": "", "sessionstart-hook-1.sh": "export A=1\n"}, {"A": "1"}, []),
    ({"sessionstart-hook-0.sh": "export A=1\n", "notes.sh": "export A=2\n"}, {"A": "1"},
     [("claude-ignored-file", None, None)]),
    ({"sessionstart-hook-0.sh": "export A=1\nexit 3\n", "sessionstart-hook-1.sh": "export B=1\n"},
     {"B": "1"}, [("claude-breaks-commands", "sessionstart-hook-0.sh", 2),
                  ("env-file-unsupported", "sessionstart-hook-0.sh", 2)]),
    ({"sessionstart-hook-0.sh": "export OK=1\nexport 1BAD=x\n"}, {},
     [("claude-breaks-commands", "sessionstart-hook-0.sh", 2),
      ("env-file-syntax", "sessionstart-hook-0.sh", 2)]),
    ({"cwdchanged-hook-0.sh": 'export WHEN="$(date)"\n'}, {},
     [("claude-per-command-value", "cwdchanged-hook-0.sh", 1),
      ("env-file-unsupported", "cwdchanged-hook-0.sh", 1)]),
    ({"sessionstart-hook-0.sh": "export A='open\n"}, {},
     [("claude-breaks-commands", "sessionstart-hook-0.sh", 1),
      ("env-file-syntax", "sessionstart-hook-0.sh", 1)]),
]  # fmt: skip


@pytest.mark.parametrize(("files", "values", "findings"), SESSION_CASES)
def test_predictions_over_session_folders(
    tmp_path: Path,
    files: dict[str, str],
    values: dict[str, str],
    findings: list[tuple[str, str | None, int | None]],
) -> None:
    config = build_session(tmp_path, files)
    session = load_session(config_dir=str(config), session_id=SESSION, environ={})
    prediction = predict(session, {"PATH": "/b"}, platform="posix")
    env = prediction.result.env
    assert {name: env.get(name) for name in values} == values
    found = []
    for d in prediction.diagnostics:
        if d.code in ("claude-stale-file", "claude-env-file"):
            continue
        file = d.source.id.rsplit("/", 1)[-1] if d.source else None
        where = d.pointer if d.pointer else d.message
        line = None if file is None else int(re.search(r"(?:line |:)(\d+)", where).group(1))
        found.append((d.code, file, line))
    assert sorted(found) == sorted(findings)
    refused = [r.file.name for r in prediction.files if r.status == "refused"]
    assert refused == [f for c, f, _ in findings if c.startswith("env-file-")]


def test_judge_hook_judges_the_file_ops_like_any_hooks() -> None:
    text = "export CLAUDECODE=0\nexport LD_PRELOAD=/x.so\n"
    file = EnvFile("/c/session-env/s/sessionstart-hook-0.sh", "sessionstart", 0, text)
    result = judge_hook(
        "", exit_code=0, env_file=file, env={}, platform="posix", protected=["CLAUDE*"],
        sensitive="deny",
    )  # fmt: skip
    assert sorted((d.code, d.pointer) for d in result.errors) == [
        ("protected", f"{file.path}:1"),
        ("sensitive", f"{file.path}:2"),
    ]


def test_an_emitted_block_dedupes_as_envoverlay_does() -> None:
    op = Op.prepend("PATH", "/v/bin")
    form = '# envoverlay op: {"PATH":{"prepend":["/v/bin"]}}'
    [kept] = as_claude_applies([op], {"PATH": "/usr/bin:/v/bin"}, "posix", [form])
    assert kept == op
    [literal] = as_claude_applies(
        [op], {"PATH": "/usr/bin:/v/bin"}, "posix", ['export PATH="/v/bin:$PATH"']
    )
    assert literal == Op.set("PATH", "/v/bin:/usr/bin:/v/bin")
