"""The command line, run as a real process where it matters."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_explain_json_shape_and_provenance(tmp_path):
    proc = run_cli(
        "explain",
        "--base",
        str(EXAMPLES / "base.json"),
        "--hook-output",
        str(EXAMPLES / "hooks" / "venv.json"),
        "--platform",
        "posix",
        "--format",
        "json",
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
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
    proc = run_cli(
        "explain",
        "--base",
        str(EXAMPLES / "base.json"),
        "--hook-output",
        str(EXAMPLES / "hooks" / "venv.json"),
        "--platform",
        "posix",
    )
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
    ],
    ids=[
        "missing base",
        "directory base",
        "bad platform",
        "bad --set",
        "exec without command",
        "unknown command",
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
    explain = run_cli(
        "explain",
        "--base",
        base_file,
        "--hook-output",
        str(EXAMPLES / "hooks" / "venv.json"),
        "--set",
        "THREAD_VAR=t",
        "--platform",
        "posix",
        "--format",
        "json",
    )
    assert explain.returncode == 0, explain.stderr
    expected = json.loads(explain.stdout)["env"]
    proc = run_cli(
        "exec",
        "--base",
        base_file,
        "--hook-output",
        str(EXAMPLES / "hooks" / "venv.json"),
        "--set",
        "THREAD_VAR=t",
        "--platform",
        "posix",
        "--",
        "env",
        "-0",
    )
    assert proc.returncode == 0, proc.stderr
    seen = _env0(proc.stdout)
    assert seen["DB_PASSWORD"] == "hunter2"  # the secret is real in the child
    expected["DB_PASSWORD"] = "hunter2"
    assert seen == expected


def test_exec_returns_the_commands_status_and_reports_errors(tmp_path):
    base_file = write_json(tmp_path / "base.json", {"PATH": os.environ.get("PATH", "/usr/bin")})
    proc = run_cli(
        "exec",
        "--base",
        base_file,
        "--hook-output",
        str(EXAMPLES / "hooks" / "bad.json"),
        "--",
        sys.executable,
        "-c",
        "import sys; sys.exit(7)",
    )
    # SPEC §6: an env with errors is not run (exit 125, as `env`), unless --keep-going.
    assert proc.returncode == 125
    assert b"invalid-op" in proc.stderr
    assert b"--keep-going" in proc.stderr
    kept = run_cli(
        "exec",
        "--keep-going",
        "--base",
        base_file,
        "--hook-output",
        str(EXAMPLES / "hooks" / "bad.json"),
        "--",
        sys.executable,
        "-c",
        "import sys; sys.exit(7)",
    )
    assert kept.returncode == 7
    assert b"invalid-op" in kept.stderr
    strict = run_cli(
        "exec",
        "--strict",
        "--base",
        base_file,
        "--hook-output",
        str(EXAMPLES / "hooks" / "bad.json"),
        "--",
        "true",
    )
    assert strict.returncode == 125
    assert b"not running the command" in strict.stderr


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
    assert code == 0
    drift = {d["name"]: d for d in report["login_shell"]["drift"]}
    assert drift["PATH"]["source"] == "login-shell:bash"
    assert drift["PATH"]["after"].startswith("/profile/bin:")  # (/etc/profile may add more)
    assert drift["FROM_PROFILE"]["change"] == "added"
    assert main(["explain", "--base", base, "--platform", "posix", "--login-shell", "bash"]) == 0
    text = capsys.readouterr().out
    assert "login shell drift (bash" in text
    assert "login-shell:bash" in text
