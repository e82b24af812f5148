"""The command line, run as a real process where it matters."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envoverlay.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def run_cli(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None):
    """Run ``python -m envoverlay`` as a child process."""
    child_env = dict(os.environ if env is None else env)
    child_env["PYTHONPATH"] = str(ROOT) + os.pathsep + child_env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "envoverlay", *args],
        input=stdin,
        capture_output=True,
        env=child_env,
        check=False,
    )


def write_json(path: Path, document: object) -> str:
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


#: explain over the example base and the venv hook (the README's Quick start).
VENV_EXPLAIN = (
    "explain", "--base", str(EXAMPLES / "base.json"),
    "--hook-output", str(EXAMPLES / "hooks" / "venv.json"), "--platform", "posix",
)  # fmt: skip


def test_explain_json_shape_and_provenance(tmp_path):
    proc = run_cli(*VENV_EXPLAIN, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    validate_report(report, "explain-report")
    assert set(report) == {
        "format", "version", "platform", "env", "variables", "removed", "diagnostics"
    }  # fmt: skip
    assert (report["format"], report["version"]) == ("envoverlay.explain", 1)
    assert report["platform"] == "posix"
    assert report["env"]["PATH"] == "/repo/.venv/bin:/usr/local/bin:/usr/bin:/bin"
    path = report["variables"]["PATH"]
    assert path["source"] == {"kind": "hook", "id": str(EXAMPLES / "hooks" / "venv.json")}
    assert [step["op"] for step in path["history"]] == ["inherit", "prepend"]
    assert report["removed"]["PYTHONHOME"]["source"]["kind"] == "hook"
    assert report["env"]["LD_LIBRARY_PATH"] == "/opt/cuda/lib64"
    # the secret is redacted everywhere in the report
    assert report["env"]["DB_PASSWORD"] == "***"
    assert b"hunter2" not in proc.stdout


def test_explain_text_table_redacts_secrets():
    proc = run_cli(*VENV_EXPLAIN)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode()
    assert out.splitlines()[0].split() == ["VARIABLE", "VALUE", "SOURCE", "OVERRODE"]
    assert "hunter2" not in out
    assert "DB_PASSWORD" in out
    assert "***" in out
    row = next(line for line in out.splitlines() if line.startswith("PATH "))
    assert "hook:" in row
    assert "/usr/local/bin:/usr/bin:/bin" in row  # what it overrode
    assert "removed:" in out
    assert re.search(r"^  PYTHONHOME +by hook:", out, re.MULTILINE)


def test_explain_reports_invalid_hook_and_exits_1():
    proc = run_cli(
        "explain",
        "--base",
        str(EXAMPLES / "base.json"),
        "--hook-output",
        str(EXAMPLES / "hooks" / "bad.json"),
        "--protect",
        "CODEX_THREAD_ID",
        "--platform",
        "posix",
    )
    assert proc.returncode == 1
    out = proc.stdout.decode()
    assert "invalid-op" in out
    assert "/hookSpecificOutput/env/PATH" in out
    assert b"Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["explain", "--base", "/nonexistent/base.json"], "does not exist"),
        (["explain", "--base", "."], "is a directory"),
        (["explain", "--platform", "beos"], "invalid choice"),
        (["explain", "--set", "NOEQUALS"], "--set takes NAME=VALUE"),
        (["exec", "--base", "/nonexistent"], "exec needs a command"),
        (["frobnicate"], "invalid choice"),
        (["check", "--run", "--cwd", "/nonexistent-dir", "--", "true"], "is not a directory"),
        (["check", "--run", "--timeout", "nan", "--", "true"], "above zero"),
        (["check", "--run", "--timeout", "-1", "--", "true"], "above zero"),
        (["explain", "--set", "=x"], "--set/--unset"),
        (["explain", "--exclude", ""], "--exclude"),
        (["explain", "--protect", ""], "--protect"),
        # check --run, for either runtime: one set of checks on the hook command
        (["check", "--run"], "--run needs a command"),
        (["check", "--run", "out.json", "--", "true"], "either FILEs or --run"),
        (["check", "--run", "--", "/nonexistent-program"], "hook command not found"),
        (["check", "--runtime", "claude", "--run"], "--runtime claude checks a hook by running"),
        (["check", "--runtime", "claude", "--", "true"], "--runtime claude checks a hook by"),
        (["check", "--runtime", "claude", "--run", "out.json", "--", "true"], "either FILEs"),
        (
            ["check", "--runtime", "claude", "--run", "--cwd", "/nonexistent-dir", "--", "true"],
            "is not a directory",
        ),
        (["check", "--runtime", "claude", "--protect", "", "--run", "--", "true"], "--protect"),
        (
            ["check", "--runtime", "claude", "--run", "--", "/nonexistent-program"],
            "hook command not found",
        ),
        (["check", "--runtime", "claude", "--run", "--", "/"], "hook command is not executable"),
    ],
    ids=[
        "missing base",
        "directory base",
        "bad platform",
        "bad --set",
        "exec without command",
        "unknown command",
        "missing cwd",
        "nan timeout",
        "negative timeout",
        "empty --set name",
        "empty --exclude",
        "empty --protect",
        "check --run without a command",
        "check --run with FILEs",
        "check --run of a missing program",
        "check --runtime claude --run without a command",
        "check --runtime claude without --run",
        "check --runtime claude --run with FILEs",
        "check --runtime claude --run with a missing cwd",
        "check --runtime claude with an empty --protect",
        "check --runtime claude --run of a missing program",
        "check --runtime claude --run of a directory",
    ],
)
def test_usage_errors_exit_2_without_traceback(args, expected):
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert expected in proc.stderr.decode()
    assert b"Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"A": "1", "A": "2"}', "duplicate-key"),
        (b'{"A": ', "not valid JSON"),
        (b'["A"]', "must hold a JSON object"),
        (b"\xff\xfe", "not UTF-8"),
        (b'{"A": NaN}', "not valid JSON"),
    ],
    ids=["duplicate keys", "truncated", "array", "not utf-8", "NaN"],
)
def test_bad_base_files_are_named(tmp_path, content, expected):
    base = tmp_path / "base.json"
    base.write_bytes(content)
    proc = run_cli("explain", "--base", str(base))
    assert proc.returncode == 2
    assert expected in proc.stderr.decode()
    assert str(base) in proc.stderr.decode()
    assert b"Traceback" not in proc.stderr


def test_base_with_non_string_value_is_an_error_naming_it(tmp_path, capsys):
    base = write_json(tmp_path / "base.json", {"GOOD": "1", "BAD": 5})
    code = main(["explain", "--base", base, "--platform", "posix", "--format", "json"])
    captured = capsys.readouterr()
    # A malformed --base is a usage error, never a table composed from what was left.
    assert code == 2
    assert captured.out == ""
    assert "/BAD (5)" in captured.err
    assert 'quote them (e.g. "1")' in captured.err


def _env0(output: bytes) -> dict[str, str]:
    pairs = [item.split(b"=", 1) for item in output.split(b"\0") if item]
    return {k.decode(): v.decode() for k, v in pairs}


def test_exec_child_sees_exactly_the_composed_map(tmp_path):
    base = {"PATH": "/usr/bin:/bin", "KEEP": "kept", "PYTHONHOME": "/x", "LD_LIBRARY_PATH": "/l"}
    base_file = write_json(tmp_path / "base.json", base)
    inputs = ["--base", base_file, "--hook-output", str(EXAMPLES / "hooks" / "venv.json")]
    inputs += ["--set", "THREAD_VAR=t", "--platform", "posix"]
    explain = run_cli("explain", *inputs, "--format", "json")
    assert explain.returncode == 0, explain.stderr
    expected = json.loads(explain.stdout)["env"]
    proc = run_cli("exec", *inputs, "--", "env", "-0")
    assert proc.returncode == 0, proc.stderr
    seen = _env0(proc.stdout)
    assert seen["DB_PASSWORD"] == "hunter2"  # the secret is real in the child
    expected["DB_PASSWORD"] = "hunter2"
    assert seen == expected


# SPEC §6: an env with errors is not run (exit 125, as `env`), unless --keep-going.
EXEC_ON_ERRORS = [([], 125), (["--strict"], 125), (["--keep-going"], 7)]


@pytest.mark.parametrize(("flags", "status"), EXEC_ON_ERRORS)
def test_exec_returns_the_commands_status_and_reports_errors(tmp_path, flags, status):
    base_file = write_json(tmp_path / "base.json", {"PATH": os.environ.get("PATH", "/usr/bin")})
    bad = str(EXAMPLES / "hooks" / "bad.json")
    proc = run_cli(
        "exec", *flags, "--base", base_file, "--hook-output", bad,
        "--", sys.executable, "-c", "import sys; sys.exit(7)",
    )  # fmt: skip
    assert proc.returncode == status
    assert b"invalid-op" in proc.stderr
    refused = b"not running the command" in proc.stderr and b"--keep-going" in proc.stderr
    assert refused is (status == 125)


def test_exec_missing_command_is_127(tmp_path):
    base_file = write_json(tmp_path / "base.json", {"PATH": "/usr/bin:/bin"})
    proc = run_cli("exec", "--base", base_file, "--", "no-such-command-envoverlay")
    assert proc.returncode == 127
    assert b"command not found" in proc.stderr


def test_exec_resolves_the_command_on_the_composed_path(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    tool = bindir / "hello-envoverlay"
    tool.write_text("#!/bin/sh\necho from-overlay\n")
    tool.chmod(0o755)
    hook = write_json(
        tmp_path / "hook.json",
        {
            "hookSpecificOutput": {
                "hookEventName": "SessionStart",
                "env": {"PATH": {"prepend": str(bindir)}},
            }
        },
    )
    base_file = write_json(tmp_path / "base.json", {"PATH": "/usr/bin:/bin"})
    proc = run_cli("exec", "--base", base_file, "--hook-output", hook, "--", "hello-envoverlay")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"from-overlay\n"


def test_import_and_compose_load_neither_jsonschema_nor_cattrs():
    code = (
        "import sys, os, envoverlay as eo\n"
        "eo.compose(base=os.environ, layers=[eo.Layer.from_overlay("
        "{'PATH': {'prepend': ['/x']}}, kind='hook', id='h')])\n"
        "print(sorted(m for m in ('jsonschema', 'cattrs', 'referencing') if m in sys.modules))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, check=True)
    assert proc.stdout.strip() == b"[]"


def test_explain_state_composes_a_saved_thread(tmp_path, capsys):
    import envoverlay as eo

    hook = eo.parse_hook_output(
        json.dumps(
            {
                "hookSpecificOutput": {
                    "hookEventName": "SessionStart",
                    "env": {
                        "PATH": {"prepend": "/v/bin"},
                        "TOKEN": {"set": "s3cret", "secret": True},
                    },
                }
            }
        ),
        hook_id="venv",
        platform="posix",
    )
    state = eo.ThreadState.new(thread_id="t1", session_id="s1", runtime=eo.CODEX_RUNTIME)
    state_file = tmp_path / "t1.json"
    state_file.write_text(eo.dumps(state.apply("startup", [hook])))
    base = write_json(tmp_path / "base.json", {"PATH": "/bin", "CODEX_THREAD_ID": "stale"})
    code = main(
        [
            "explain",
            "--state",
            str(state_file),
            "--base",
            base,
            "--platform",
            "posix",
            "--format",
            "json",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    validate_report(report, "explain-report")
    assert code == 1  # the secret was not persisted: reported, not silently empty
    assert report["env"] == {
        "PATH": "/v/bin:/bin",
        "CODEX_THREAD_ID": "t1",
        "CODEX_SESSION_ID": "s1",
    }
    assert [d["code"] for d in report["diagnostics"]] == ["missing-secret"]
    assert report["variables"]["CODEX_THREAD_ID"]["source"] == {"kind": "runtime", "id": "runtime"}


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"{}", "not an envoverlay thread state"), (b"{", "not valid JSON")],
    ids=["wrong format", "truncated"],
)
def test_bad_state_files_are_usage_errors(tmp_path, content, expected):
    path = tmp_path / "state.json"
    path.write_bytes(content)
    proc = run_cli("explain", "--state", str(path))
    assert proc.returncode == 2
    assert expected in proc.stderr.decode()
    assert b"Traceback" not in proc.stderr


def _login_home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bash_profile").write_text(
        'export PATH="/profile/bin:$PATH"\n'
        "export PYTHONHOME=/profile/python\n"
        "export FROM_PROFILE=1\n"
    )
    return home


def test_exec_login_shell_keeps_the_overlay(tmp_path):
    from tools import require_tool

    require_tool("bash")
    home = _login_home(tmp_path)
    base = write_json(
        tmp_path / "base.json", {"PATH": "/usr/bin:/bin", "HOME": str(home), "PYTHONHOME": "/x"}
    )
    proc = run_cli(
        "exec",
        "--base",
        base,
        "--hook-output",
        str(EXAMPLES / "hooks" / "venv.json"),
        "--platform",
        "posix",
        "--login-shell",
        "bash",
        "--",
        "env",
        "-0",
    )
    assert proc.returncode == 0, proc.stderr
    seen = _env0(proc.stdout)
    assert seen["PATH"].split(":")[0] == "/repo/.venv/bin"  # the overlay's entry first
    assert "/profile/bin" in seen["PATH"].split(":")  # the profile keeps the rest
    assert "PYTHONHOME" not in seen  # the overlay's unset survives the profile
    assert seen["FROM_PROFILE"] == "1"
    assert not any(name.startswith("ENVOVERLAY_") for name in seen)


def test_explain_login_shell_reports_profile_drift(tmp_path, capsys):
    from tools import require_tool

    require_tool("bash")
    home = _login_home(tmp_path)
    base = write_json(tmp_path / "base.json", {"PATH": "/usr/bin:/bin", "HOME": str(home)})
    code = main(
        [
            "explain",
            "--base",
            base,
            "--platform",
            "posix",
            "--login-shell",
            "bash",
            "--format",
            "json",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    validate_report(report, "explain-report")  # the login_shell member included
    assert code == 0
    drift = {d["name"]: d for d in report["login_shell"]["drift"]}
    assert drift["PATH"]["source"] == "login-shell:bash"
    assert drift["PATH"]["after"].startswith("/profile/bin:")  # (/etc/profile may add more)
    assert drift["FROM_PROFILE"]["change"] == "added"
    assert main(["explain", "--base", base, "--platform", "posix", "--login-shell", "bash"]) == 0
    text = capsys.readouterr().out
    assert "login shell drift (bash" in text
    assert "login-shell:bash" in text


# -- what a user meets: hints, help, usage errors, output layout, colour, completion -------

HOOK = {"hookSpecificOutput": {"hookEventName": "SessionStart", "env": {"A": "b"}}}
HOOK_TEXT = json.dumps(HOOK)


class Outcome:
    """What one in-process run of the CLI printed (``run_cli``'s shape, without a process)."""

    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        # As a real stream would write them: an undecodable byte echoed back stays visible.
        self.returncode = returncode
        self.stdout = stdout.encode("utf-8", "backslashreplace")
        self.stderr = stderr.encode("utf-8", "backslashreplace")


def invoke(*argv: str) -> Outcome:
    """Run the CLI in this process (cheaper than ``run_cli`` where no real process matters)."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse's usage errors, --help, --version
            code = exc.code if isinstance(exc.code, int) else 2
    return Outcome(code, out.getvalue(), err.getvalue())


def validate_report(document: object, name: str) -> None:
    """A JSON report is valid under the schema the package ships for it."""
    from envoverlay.schemas import validator

    problems = [error.message for error in validator(name).iter_errors(document)]
    assert problems == []


# Plain-text output that hides an overlay: (stdout, warning code). Codex reads each as context.
HIDDEN = [
    (f"starting hook...\n{HOOK_TEXT}\n", "hidden-json"),
    (f"Activating the venv {HOOK_TEXT}", "hidden-json"),
    ("\ufeff" + HOOK_TEXT, "byte-order-mark"),
    ("\ufeff  \n" + HOOK_TEXT, "byte-order-mark"),
    ('note: {"continue": true} is the default', "hidden-json"),
]


@pytest.mark.parametrize(("stdout", "code"), HIDDEN)
def test_check_warns_when_plain_text_hides_a_hook_document(tmp_path, capsys, stdout, code):
    path = tmp_path / "out.txt"
    path.write_bytes(stdout.encode("utf-8"))
    # Codex's rule stays: plain text is context, so the check passes, with a warning and a fix.
    assert main(["check", "--platform", "posix", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"warning[{code}]" in out
    assert "(fix: " in out
    assert "publishes no env" in out
    # The CI gate fails on it.
    assert main(["check", "--strict", "--platform", "posix", str(path)]) == 1
    assert "invalid under --strict" in capsys.readouterr().out
    assert main(["check", "--strict", "--format", "json", str(path)]) == 1
    document = json.loads(capsys.readouterr().out)
    validate_report(document, "check-report")
    assert document["valid"] is False
    assert [w["code"] for w in document["results"][0]["warnings"]] == [code]


@pytest.mark.parametrize(
    "stdout",
    [
        "Remember: run make first.",
        "sets {braces} in prose",
        'a {"json": 1} object, not a hook',
        "deep " + '{"a":' * 100_000,  # past the JSON decoder's recursion limit
    ],
)
def test_plain_text_without_a_hook_document_passes_strict(tmp_path, capsys, stdout):
    path = tmp_path / "out.txt"
    path.write_text(stdout, encoding="utf-8")
    assert main(["check", "--strict", "--platform", "posix", str(path)]) == 0
    assert "warning[" not in capsys.readouterr().out


# Fix hints that fit the mistake: (overlay env, code, words in the fix, words not in it).
HINTS = [
    ({"N": 1}, "invalid-op", 'values are strings: "1"', "exactly one of"),
    ({"N": True}, "invalid-op", 'values are strings: "true"', "exactly one of"),
    ({"N": 2.5}, "invalid-op", 'values are strings: "2.5"', "exactly one of"),
    ({"PATH": "/opt/bin"}, "path-replaced", '"prepend"', None),
    ({"EDITOR": "vim"}, None, None, None),  # a plain string elsewhere is fine
]


@pytest.mark.parametrize(("env", "code", "fix", "not_in_fix"), HINTS)
def test_fix_hints_fit_the_mistake(tmp_path, capsys, env, code, fix, not_in_fix):
    document = {"hookSpecificOutput": {"hookEventName": "SessionStart", "env": env}}
    path = write_json(tmp_path / "hook.json", document)
    main(["check", "--platform", "posix", "--format", "json", path])
    document = json.loads(capsys.readouterr().out)
    validate_report(document, "check-report")
    [report] = document["results"]
    found = [p for p in report["errors"] + report["warnings"] if p["code"] == code]
    if code is None:
        assert report["errors"] == report["warnings"] == []
        return
    [problem] = found
    assert fix in problem["hint"]
    assert problem["name"] == next(iter(env))
    if not_in_fix is not None:
        assert not_in_fix not in problem["hint"]


def test_truncated_json_says_it_ends_early(tmp_path, capsys):
    path = tmp_path / "hook.json"
    path.write_text(HOOK_TEXT[:-7], encoding="utf-8")
    assert main(["check", str(path)]) == 1
    assert "the JSON ends early" in capsys.readouterr().out


def test_version_and_bare_help():
    version = run_cli("--version")
    assert version.returncode == 0
    assert version.stdout.decode().strip() == f"envoverlay {__import__('envoverlay').__version__}"
    bare = run_cli()
    assert bare.returncode == 0, bare.stderr
    text = bare.stdout.decode()
    for command in ("explain", "check", "schema", "exec", "completion"):
        assert re.search(rf"^    {command}\b", text, re.MULTILINE), command
    assert "exit codes:" in text


def _subparsers():
    import argparse

    from envoverlay.cli import build_parser

    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def test_every_flag_has_help_and_its_default():
    missing = []
    for name, sub in _subparsers().items():
        formatter = sub._get_formatter()
        for action in sub._actions:
            if action.dest == "help":
                continue
            text = formatter._get_help_string(action) if action.help else ""
            if not text:
                missing.append(f"{name} {action.dest}: no help")
            trivial = action.default in (None, False, [])
            if not trivial and "default" not in text:
                missing.append(f"{name} {action.dest}: default {action.default!r} not said")
        if "exit codes:" not in sub.format_help():
            missing.append(f"{name}: no exit codes")
    assert missing == []


def test_schema_help_lists_every_schema_name():
    from envoverlay.schemas import SCHEMA_NAMES

    proc = invoke("schema", "--help")
    assert proc.returncode == 0
    text = "".join(proc.stdout.decode().split())  # argparse wraps lines, at hyphens too
    for name in SCHEMA_NAMES:
        assert name in text


# Usage errors come from the subcommand's parser: (argv, words in stderr).
USAGE = [
    (["exec", "env"], ["usage: envoverlay exec", "put the command after '--'", "-- env"]),
    (["exec", "env", "-i"], ["usage: envoverlay exec", "put the command after '--'", "-- env -i"]),
    (["exec", "--provider", "venv", "--", "true"], ["usage: envoverlay exec", "KIND=ARG"]),
    (["explain", "--provider", "bogus=x"], ["usage: envoverlay explain", "'bogus=x'"]),
    (["explain", "--bogus"], ["usage: envoverlay explain", "unrecognized arguments: --bogus"]),
    (["check", "--bogus"], ["usage: envoverlay check", "unrecognized arguments: --bogus"]),
    (["exec", "-c", "echo hi"], ["-c CODE", "--login-shell SHELL"]),
    (["completion", "tcsh"], ["usage: envoverlay completion", "invalid choice"]),
]


@pytest.mark.parametrize(("argv", "words"), USAGE, ids=[" ".join(a) for a, _ in USAGE])
def test_usage_errors_name_the_subcommand_and_exit_2(argv, words):
    proc = invoke(*argv)
    assert proc.returncode == 2
    err = proc.stderr.decode()
    for word in words:
        assert word in err
    assert "Traceback" not in err
    assert proc.stdout == b""


@pytest.mark.parametrize(
    ("base", "shown"),
    [({"N": 1}, "/N (1)"), ({"A": "ok", "L": ["x"]}, '/L (["x"])'), ({"B": None}, "/B (null)")],
)
def test_base_with_non_string_values_is_a_usage_error(tmp_path, base, shown):
    path = write_json(tmp_path / "base.json", base)
    proc = invoke("explain", "--base", path, "--platform", "posix")
    assert proc.returncode == 2
    assert shown in proc.stderr.decode()
    assert proc.stdout == b""  # never an empty table


def test_exec_does_not_run_in_an_env_with_errors(tmp_path):
    marker = tmp_path / "ran"
    hook = write_json(
        tmp_path / "hook.json",
        {"hookSpecificOutput": {"hookEventName": "SessionStart", "env": {"CODEX_THREAD_ID": "x"}}},
    )
    base = write_json(tmp_path / "base.json", {"PATH": os.environ["PATH"]})
    argv = ["exec", "--base", base, "--hook-output", hook, "--protect", "CODEX_THREAD_ID"]
    proc = run_cli(*argv, "--", "touch", str(marker))
    assert proc.returncode == 125
    assert b"error[protected]" in proc.stderr
    assert not marker.exists()
    kept = run_cli(*argv, "--keep-going", "--", "touch", str(marker))
    assert kept.returncode == 0
    assert marker.exists()


def test_exec_login_shell_runs_shell_code(tmp_path):
    from tools import require_tool

    require_tool("bash")
    base = write_json(tmp_path / "base.json", {"PATH": os.environ["PATH"], "HOME": str(tmp_path)})
    proc = run_cli(
        "exec", "--base", base, "--set", "GREETING=hello world", "--login-shell", "bash",
        "-c", 'printf "%s|%s" "$GREETING" "$0"',
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    greeting, _, zeroth = proc.stdout.decode().partition("|")
    assert greeting == "hello world"
    assert "bash" in zeroth


SECRETS_BASE = {
    "PATH": "/usr/bin",
    "MY_API_TOKEN": "tok-123456",
    "AWS_SECRET_ACCESS_KEY": "aws-abcdef",
    "github_webhook_url": "https://hooks.example/xyz",
    "EDITOR": "vim",
}


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_inherited_secrets_are_masked_unless_asked(tmp_path, fmt):
    base = write_json(tmp_path / "base.json", SECRETS_BASE)
    hook = write_json(
        tmp_path / "hook.json",
        {"hookSpecificOutput": {"hookEventName": "SessionStart",
                                "env": {"MY_API_TOKEN": "tok-override"}}},
    )  # fmt: skip
    argv = ["explain", "--base", base, "--hook-output", hook, "--platform", "posix"]
    masked = invoke(*argv, "--format", fmt)
    assert masked.returncode == 0, masked.stderr
    for value in ("tok-123456", "tok-override", "aws-abcdef", "hooks.example"):
        assert value.encode() not in masked.stdout
    assert b"vim" in masked.stdout
    shown = invoke(*argv, "--format", fmt, "--show-secrets")
    for value in ("tok-123456", "tok-override", "aws-abcdef", "hooks.example"):
        assert value.encode() in shown.stdout
    if fmt == "json":
        for proc in (masked, shown):
            validate_report(json.loads(proc.stdout), "explain-report")


def test_result_repr_and_redacted_env_mask_secret_names():
    import envoverlay as eo

    result = eo.compose(SECRETS_BASE, platform="posix")
    assert result.env["MY_API_TOKEN"] == "tok-123456"  # the spawn map is real
    for shown in (repr(result), str(result.redacted_env()), repr(result.variables)):
        assert "tok-123456" not in shown
        assert "aws-abcdef" not in shown
    assert result.redacted_env()["AWS_SECRET_ACCESS_KEY"] == "***"
    assert result.redacted_env()["EDITOR"] == "vim"


def explain_lines(*argv: str, env: dict[str, str] | None = None) -> list[str]:
    proc = run_cli("explain", "--platform", "posix", *argv, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode().splitlines()


def test_explain_rows_are_sorted_and_counts_match_changed(tmp_path):
    base = write_json(tmp_path / "base.json", {"ZED": "1", "PATH": "/bin", "ALPHA": "2", "b": "3"})
    hook = tmp_path / "hook.json"
    hook.write_text(
        json.dumps({"hookSpecificOutput": {"hookEventName": "SessionStart",
                                           "env": {"MID": "m", "ZED": "z", "ALPHA": None}}}),
        encoding="utf-8",
    )  # fmt: skip
    relative = os.path.relpath(hook)
    lines = explain_lines("--base", base, "--hook-output", relative)
    names = [line.split()[0] for line in lines[1 : lines.index("")]]
    assert names == sorted(names) == ["MID", "PATH", "ZED", "b"]
    assert f"hook:{relative}" in "\n".join(lines)  # the id as given, not made absolute
    assert lines[-1] == "4 variables (posix), 1 removed, 0 errors, 0 warnings"
    changed = explain_lines("--base", base, "--hook-output", relative, "--changed")
    shown = [line.split()[0] for line in changed[1 : changed.index("")]]
    assert shown == ["MID", "ZED"]
    assert changed[-1] == "2 of 4 variables changed (posix), 1 removed, 0 errors, 0 warnings"


def test_explain_sections_align_and_undecodable_bytes_keep_the_columns(tmp_path):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin"),
        "PYTHONIOENCODING": "utf-8",
        "X_BYTES": "a\udcffb",
        "X_CONTROL": "bell\x07 esc\x1b[31m",
        "X_PLAIN": "plain",
    }
    lines = explain_lines(env=env)
    header = lines[0]
    source_column = header.index("SOURCE")
    rows = {line.split()[0]: line for line in lines if line.startswith("X_")}
    assert "a\\xffb" in rows["X_BYTES"]
    assert "\\x07" in rows["X_CONTROL"]
    assert "\x1b" not in "".join(lines)
    for row in rows.values():
        assert row[source_column:].startswith("inherited:launcher")


def test_explain_removed_section_lines_up_with_the_table(tmp_path):
    base = write_json(tmp_path / "base.json", {"A": "1", "LONG_NAME_HERE": "2"})
    hook = write_json(
        tmp_path / "hook.json",
        {"hookSpecificOutput": {"hookEventName": "SessionStart",
                                "env": {"LONG_NAME_HERE": None, "A": None, "B": "x"}}},
    )  # fmt: skip
    lines = explain_lines("--base", base, "--hook-output", hook)
    removed = lines[lines.index("removed:") + 1 :][:2]
    assert [line.split()[0] for line in removed] == ["A", "LONG_NAME_HERE"]
    assert len({line.index(" by ") for line in removed}) == 1
    assert removed[0].index(" by ") >= lines[0].index("VALUE") - 2


def _pty_run(argv: list[str], env: dict[str, str]) -> bytes:
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execve(sys.executable, [sys.executable, "-m", "envoverlay", *argv], env)
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.waitpid(pid, 0)
    os.close(fd)
    return b"".join(chunks)


@pytest.mark.parametrize(
    ("terminal", "extra_env", "argv", "coloured"),
    [
        (True, {}, [], True),
        (True, {"NO_COLOR": "1"}, [], False),
        (True, {"TERM": "dumb"}, [], False),
        (True, {}, ["--color", "never"], False),
        (True, {}, ["--format", "json"], False),
        (False, {}, [], False),
        (False, {}, ["--color", "always"], True),
    ],
)
def test_colour_only_on_a_terminal(tmp_path, terminal, extra_env, argv, coloured):
    path = tmp_path / "hook.json"
    path.write_text('{"hookSpecificOutput": {"hookEventName": "SessionStart", '
                    '"env": {"PATH": {"prepend": "rel/bin"}}}}', encoding="utf-8")  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update({"TERM": "xterm", "PYTHONPATH": str(ROOT)}, **extra_env)
    args = ["check", "--platform", "posix", str(path), *argv]
    if terminal:
        out = _pty_run(args, env)
    else:
        out = subprocess.run(
            [sys.executable, "-m", "envoverlay", *args], capture_output=True, env=env, check=False
        ).stdout
    assert b"relative-path-entry" in out
    assert (b"\x1b[" in out) is coloured


def _bash_complete(script: str, words: list[str]) -> list[str]:
    from tools import require_tool

    bash = require_tool("bash")
    line = " ".join(words)
    program = (
        f"{script}\nCOMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; _envoverlay; "
        'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    proc = subprocess.run(
        [bash, "--norc", "-c", program], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


# (words typed, the last one being completed; completions expected among the answers)
COMPLETIONS = [
    (["envoverlay", "ex"], {"explain", "exec"}),
    (["envoverlay", "check", "--st"], {"--strict"}),
    (["envoverlay", "explain", "--platform", "w"], {"windows"}),
    (["envoverlay", "exec", "--login-shell", "z"], {"zsh"}),
    (["envoverlay", "schema", "check"], {"check-report"}),
    (["envoverlay", "completion", "f"], {"fish"}),
]


@pytest.mark.parametrize(("words", "expected"), COMPLETIONS)
def test_bash_completion(words, expected):
    proc = run_cli("completion", "bash")
    assert proc.returncode == 0
    assert expected <= set(_bash_complete(proc.stdout.decode(), words))


def test_zsh_completion_loads_and_completes():
    from tools import require_tool

    zsh = require_tool("zsh")
    script = run_cli("completion", "zsh").stdout.decode()
    program = (  # bashcompinit calls the function with zero-based arrays (ksharrays)
        f"{script}\nsetopt ksharrays; COMP_WORDS=(envoverlay check --fo); COMP_CWORD=2; "
        "_envoverlay; "
        'print -l -- "${COMPREPLY[@]}"'
    )
    proc = subprocess.run(
        [zsh, "-f", "-c", program], capture_output=True, text=True, check=False,
        env=dict(os.environ, HOME=os.environ.get("TMPDIR", "/tmp")),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "--format" in proc.stdout.split()


@pytest.mark.parametrize(
    ("line", "expected"),
    [("envoverlay ex", {"explain", "exec"}), ("envoverlay check --pl", {"--platform"}),
     ("envoverlay explain --inherit ", {"all", "core", "none"})],
)  # fmt: skip
def test_fish_completion(line, expected):
    from tools import require_tool

    fish = require_tool("fish")
    script = run_cli("completion", "fish").stdout.decode()
    proc = subprocess.run(
        [fish, "--no-config", "-c", f"{script}\ncomplete -C '{line}'"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    found = {row.split("\t")[0] for row in proc.stdout.splitlines()}
    assert expected <= found


def test_check_json_is_one_report_for_any_number_of_files(tmp_path):
    good = write_json(tmp_path / "good.json", HOOK)
    bad = write_json(
        tmp_path / "bad.json",
        {"hookSpecificOutput": {"hookEventName": "SessionStart", "env": {"X": {"sett": "1"}}}},
    )
    for files, valid in (([good], True), ([good, bad], False), ([bad], False)):
        proc = invoke("check", "--format", "json", *files)
        document = json.loads(proc.stdout)
        validate_report(document, "check-report")
        assert (document["format"], document["version"]) == ("envoverlay.check", 1)
        assert [r["file"] for r in document["results"]] == files
        assert document["valid"] is valid
        assert proc.returncode == (0 if valid else 1)
        for result in document["results"]:
            for problem in result["errors"]:
                if problem["path"].startswith("/hookSpecificOutput/env/"):
                    assert problem["name"] == "X"


def test_check_json_on_a_missing_file_still_prints_a_report(tmp_path):
    good = write_json(tmp_path / "good.json", HOOK)
    missing = str(tmp_path / "missing.json")
    proc = invoke("check", "--format", "json", missing, good)
    assert proc.returncode == 2
    assert b"missing.json" in proc.stderr
    document = json.loads(proc.stdout)
    validate_report(document, "check-report")
    first, second = document["results"]
    assert (first["file"], first["valid"]) == (missing, False)
    assert first["errors"][0]["code"] == "unreadable"
    assert second["valid"] is True
    assert document["valid"] is False


def test_check_run_label_is_shell_quoted(tmp_path):
    proc = run_cli(
        "check", "--format", "json", "--run", "--", "sh", "-c", f"printf '%s' '{HOOK_TEXT}'"
    )
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    validate_report(document, "check-report")
    label = document["results"][0]["file"]
    import shlex

    assert shlex.split(label) == ["sh", "-c", f"printf '%s' '{HOOK_TEXT}'"]


def test_every_explain_report_is_valid(tmp_path):
    argv = [
        "explain", "--format", "json", "--platform", "posix",
        "--base", str(EXAMPLES / "base.json"),
        "--hook-output", str(EXAMPLES / "hooks" / "venv.json"),
        "--hook-output", str(EXAMPLES / "hooks" / "bad.json"),
        "--exclude", "LANG", "--set", "X=1",
    ]  # fmt: skip
    proc = invoke(*argv)
    document = json.loads(proc.stdout)
    validate_report(document, "explain-report")
    assert document["diagnostics"]
    assert document["removed"]


def test_check_of_a_valid_file_loads_only_what_it_needs(tmp_path):
    """`envoverlay check FILE` is a process hook authors run in CI: its start-up is measured
    (benchmarks' check_cli_vs_check_jsonschema), so nothing of other commands is loaded."""
    hook = write_json(
        tmp_path / "hook.json",
        {"hookSpecificOutput": {"hookEventName": "SessionStart", "env": {"A": "1"}}},
    )
    unneeded = (
        "shlex", "subprocess", "cattrs", "envoverlay.shell", "envoverlay.runner",
        "envoverlay.envfile", "envoverlay.composition", "envoverlay.lifecycle",
        "envoverlay.store", "envoverlay.codex", "envoverlay.codex_runtime",
    )  # fmt: skip
    code = (
        "import sys\n"
        "from envoverlay.cli import main\n"
        f"assert main(['check', {hook!r}]) == 0\n"
        f"print(sorted(m for m in {unneeded!r} if m in sys.modules), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, check=False,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == b"[]"


def test_package_attributes_load_lazily():
    code = (
        "import sys, envoverlay as eo\n"
        "assert 'envoverlay.providers' not in sys.modules\n"
        "assert 'envoverlay.shell' not in sys.modules\n"
        "assert callable(eo.providers.venv) and callable(eo.shell.login_shell_argv)\n"
        "assert callable(eo.run_session_start_hook)\n"
        "print('ok')"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, check=False,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )  # fmt: skip
    assert proc.stdout == b"ok\n", proc.stderr


def test_help_of_the_package_shows_no_machinery():
    import pydoc

    import envoverlay

    text = pydoc.render_doc(envoverlay, renderer=pydoc.plaintext)
    for machinery in ("__getattr__", "__dir__", "__annotations__", "__all__", "TYPE_CHECKING"):
        # At the package's level (four spaces in): class bodies have their own dunders.
        assert not re.search(rf"^    {machinery}\b", text, re.MULTILINE), machinery
    assert "compose(" in text
    assert "run_session_start_hook(" in text


def test_hook_and_provider_ids_are_shown_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "project.env").write_text("FROM_DOTENV=1\n", encoding="utf-8")
    write_json(tmp_path / "hook.json", HOOK)
    base = write_json(tmp_path / "base.json", {"PATH": "/bin"})
    proc = invoke(
        "explain", "--base", base, "--platform", "posix", "--format", "json",
        "--provider", "dotenv=project.env", "--hook-output", "hook.json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    variables = json.loads(proc.stdout)["variables"]
    assert variables["FROM_DOTENV"]["source"] == {"kind": "provider", "id": "dotenv:project.env"}
    assert variables["A"]["source"] == {"kind": "hook", "id": "hook.json"}


@given(
    st.text(alphabet=st.characters(codec=None))
    | st.binary().map(lambda data: data.decode("utf-8", "surrogateescape"))
)
def test_printable_shows_any_value_as_one_printable_line(text):
    from envoverlay.cli import printable

    shown = printable(text)
    assert shown.isprintable()
    if text.isprintable():
        assert shown == text
    # Every undecodable byte is shown as the byte it was.
    for char in text:
        if "\udc80" <= char <= "\udcff":
            assert f"\\x{ord(char) - 0xDC00:02x}" in shown


def test_check_on_a_terminal_says_it_reads_stdin(tmp_path):
    import pty

    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1")
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execve(sys.executable, [sys.executable, "-m", "envoverlay", "check"], env)
    import select

    seen = b""
    while b"Ctrl-D" not in seen and select.select([fd], [], [], 30)[0]:
        seen += os.read(fd, 4096)  # (no note within 30 s: end the input anyway, and fail)
    os.write(fd, b"\x04")  # end of input, as a user would type it
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        seen += data
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert b"reading hook output from the terminal" in seen
    assert b"<stdin>: valid (publishes no env)" in seen
    assert os.waitstatus_to_exitcode(status) == 0


def test_check_run_of_a_missing_command_still_prints_a_report(tmp_path):
    missing = str(tmp_path / "no-such-hook")
    proc = invoke("check", "--format", "json", "--run", "--", missing)
    assert proc.returncode == 2
    assert b"hook command not found" in proc.stderr
    document = json.loads(proc.stdout)
    validate_report(document, "check-report")
    [result] = document["results"]
    assert result["errors"][0]["code"] == "hook-not-started"
    assert document["valid"] is False


@pytest.mark.parametrize(
    ("platform", "order"),
    [("posix", ["Apple", "PATH", "_under", "banana"]),  # code points: upper, _, lower
     ("windows", ["Apple", "banana", "PATH", "_under"])],  # the block order: case-insensitive
)  # fmt: skip
def test_explain_sorts_rows_in_the_platforms_order(tmp_path, platform, order):
    names = ["banana", "PATH", "_under", "Apple"]
    base = write_json(tmp_path / "base.json", dict.fromkeys(names, "v"))
    proc = invoke("explain", "--base", base, "--platform", platform)
    lines = proc.stdout.decode().splitlines()
    assert [line.split()[0] for line in lines[1 : lines.index("")]] == order
    report = json.loads(invoke("explain", "--base", base, "--platform", platform,
                               "--format", "json").stdout)  # fmt: skip
    assert list(report["variables"]) == order


# Words a confused user might type, none of which runs a program (no --run, no exec, no
# --login-shell, no direnv).
ARGV_WORDS = [
    "explain", "check", "schema", "completion", "bash", "--format", "json", "text", "--platform",
    "windows", "posix", "bogus", "--changed", "--full", "--strict", "--secure", "--protect",
    "CODEX_*", "", "--set", "A=1", "A", "--unset", "--exclude", "*", "--include-only",
    "--inherit", "core", "--provider", "venv", "nix=missing.json", "--color", "always",
    "--show-secrets", "--timeout", "-1", "--source", "fork", "--state", "--hook-output",
    "--base", "-", "=", "--", "\udcff", "é",
]  # fmt: skip


@given(st.lists(st.sampled_from(ARGV_WORDS), max_size=8))
def test_no_command_line_ends_in_a_traceback(tmp_path_factory, words):
    """Whatever is typed, the CLI answers with a result or a usage error, never a crash."""
    work = tmp_path_factory.mktemp("argv")
    hook = write_json(work / "hook.json", HOOK)
    base = write_json(work / "base.json", {"PATH": "/bin"})
    argv = [hook if word == "-" else word for word in words]
    if argv and argv[0] in ("explain",) and "--base" not in argv:
        argv += ["--base", base]
    if argv and argv[0] == "check" and "--" not in argv:
        argv.append(hook)  # never stdin
    if "--" in argv and (not argv or argv[0] != "check"):
        argv = argv[: argv.index("--")]
    outcome = invoke(*argv)
    assert outcome.returncode in (0, 1, 2), (argv, outcome.stderr)
    assert b"Traceback" not in outcome.stderr
    assert b"internal error" not in outcome.stderr


def test_exec_refuses_a_blocked_envrc_as_direnv_exec_does(tmp_path):
    from tools import require_tool

    direnv = require_tool("direnv")
    project = tmp_path / "project"
    project.mkdir()
    (project / ".envrc").write_text("export FROM_ENVRC=1\n", encoding="utf-8")  # never allowed
    base = write_json(
        tmp_path / "base.json",
        {"PATH": f"{Path(direnv).parent}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path),
         "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")},
    )  # fmt: skip
    marker = tmp_path / "ran"
    proc = run_cli(
        "exec", "--base", base, "--provider", f"direnv={project}", "--", "touch", str(marker)
    )
    assert proc.returncode == 125, proc.stderr
    assert b"provider-failed" in proc.stderr
    assert b"direnv allow" in proc.stderr
    assert not marker.exists()


def test_check_masks_values_of_secret_names_the_hook_did_not_mark(tmp_path):
    env = {"GITHUB_TOKEN": "ghp_plain", "SLACK_WEBHOOK_URL": {"default": "https://hook/x"},
           "EDITOR": "vim"}  # fmt: skip
    hook = write_json(
        tmp_path / "hook.json",
        {"hookSpecificOutput": {"hookEventName": "SessionStart", "env": env}},
    )
    text = invoke("check", "--platform", "posix", hook)
    report = invoke("check", "--platform", "posix", "--format", "json", hook)
    for proc in (text, report):
        assert proc.returncode == 0, proc.stderr
        assert b"ghp_plain" not in proc.stdout
        assert b"https://hook/x" not in proc.stdout
        assert b"vim" in proc.stdout
    document = json.loads(report.stdout)
    validate_report(document, "check-report")
    overlay = document["results"][0]["overlay"]
    assert overlay == {"GITHUB_TOKEN": "***", "SLACK_WEBHOOK_URL": {"default": "***"},
                       "EDITOR": "vim"}  # fmt: skip


def test_check_report_with_env_files_is_valid(tmp_path):
    hook = tmp_path / "hook.sh"
    hook.write_text('#!/bin/sh\ncat >/dev/null\necho "export FOO=1" >> "$CLAUDE_ENV_FILE"\n')
    hook.chmod(0o755)
    proc = run_cli("check", "--format", "json", "--run", "--", str(hook))
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    validate_report(document, "check-report")
    [result] = document["results"]
    assert result["env_files"][0]["variables"] == ["FOO"]


def test_cli_prints_values_holding_escaped_bytes():
    """explain on an environment with a non-UTF-8 byte once ended in an internal error."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONIOENCODING": "utf-8",
        "X": "a\udcffb",
    }
    proc = run_cli("explain", "--platform", "posix", env=env)
    assert proc.returncode == 0, proc.stderr
    assert b"a\\xffb" in proc.stdout  # the byte, escaped as the byte it was


def test_explain_env_file_shows_each_values_file_and_line(tmp_path):
    env_file = tmp_path / "hook.env"
    env_file.write_text(
        "# written by a hook\nexport PATH=\"/opt/x/bin:$PATH\"\nexport TOOL_HOME='/opt/x'\n"
        "unset LANG\n",
        encoding="utf-8",
    )
    base = write_json(tmp_path / "base.json", {"PATH": "/usr/bin:/bin", "LANG": "C"})
    args = ("explain", "--base", base, "--env-file", str(env_file), "--platform", "posix")
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode()
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line}
    assert rows["PATH"][2] == f"hook:{env_file}:2"
    assert rows["TOOL_HOME"][2] == f"hook:{env_file}:3"
    assert f"  LANG     by hook:{env_file}:4\n" in out
    report = json.loads(run_cli(*args, "--format", "json").stdout)
    validate_report(report, "explain-report")
    inherited, prepended = report["variables"]["PATH"]["history"]
    assert "origin" not in inherited
    assert prepended["origin"] == {"file": str(env_file), "line": 2}
    assert report["removed"]["LANG"]["history"][-1]["origin"] == {"file": str(env_file), "line": 4}


def test_explain_names_the_hook_and_the_env_file_line_it_wrote(tmp_path):
    # A hook's layer is named by the hook; the line by the file the runner gave it.
    import envoverlay as eo
    from envoverlay.cli import _source_cell

    layer = eo.read_shell_env_file("\nexport A=1\n", {}, label="CLAUDE_ENV_FILE").layer(id="setup")
    assert layer is not None
    result = eo.compose({}, [layer], platform="posix")
    assert _source_cell(result.provenance("A")) == "hook:setup at CLAUDE_ENV_FILE:2"
    assert _source_cell(eo.compose({"A": "1"}, [], platform="posix").provenance("A")) == (
        "inherited:launcher"
    )
    # a provider whose id names the file: the line follows the id
    read = eo.read_github_env("A=1\n", label="ci/env")
    provider = read.layer(kind="provider", id="github-env:ci/env")
    assert provider is not None
    composed = eo.compose({}, [provider], platform="posix")
    assert _source_cell(composed.provenance("A")) == "provider:github-env:ci/env:1"
