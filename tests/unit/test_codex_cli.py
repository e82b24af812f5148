"""explain/exec --runtime codex (envoverlay.codex_cli), through the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from envoverlay.cli import main
from envoverlay.schemas import validator

ROOT = Path(__file__).resolve().parents[2]


def codex_home(tmp_path: Path, config: str = "", hooks: object = None) -> Path:
    home = tmp_path / "codex-home"
    home.mkdir()
    (home / "config.toml").write_text(config, encoding="utf-8")
    if hooks is not None:
        text = hooks if isinstance(hooks, str) else json.dumps(hooks)
        (home / "hooks.json").write_text(text, encoding="utf-8")
    return home


def base_file(tmp_path: Path, env: dict[str, str]) -> str:
    path = tmp_path / "base.json"
    path.write_text(json.dumps(env), encoding="utf-8")
    return str(path)


LAUNCHER = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LD_LIBRARY_PATH": "/opt/cuda"}


def explain_json(tmp_path: Path, home: Path, *extra: str) -> dict[str, Any]:
    out = tmp_path / "report.json"
    argv = ["explain", "--runtime", "codex", "--codex-home", str(home), "--no-login-snapshot"]
    argv += ["--base", base_file(tmp_path, LAUNCHER), "--format", "json", "--cd", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "-m", "envoverlay", *argv, *extra],
        capture_output=True, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out.write_bytes(done.stdout)
    report: dict[str, Any] = json.loads(done.stdout)
    assert list(validator("explain-codex").iter_errors(report)) == []
    return report


def test_why_is_ld_library_path_missing(tmp_path: Path) -> None:
    home = codex_home(tmp_path, '[shell_environment_policy]\nexclude = ["LD_*"]\n')
    report = explain_json(tmp_path, home)
    assert report["format"] == "envoverlay.explain.codex"
    assert report["version"] == 1
    assert "LD_LIBRARY_PATH" not in report["env"]
    removed = report["removed"]["LD_LIBRARY_PATH"]
    assert removed["stage"] == "shell_environment_policy"
    assert removed["why"] == "exclude 'LD_*'"
    assert removed["steps"][0] == {
        "stage": "launcher",
        "value": "/opt/cuda",
        "why": removed["steps"][0]["why"],
    }


def test_report_marks_per_run_ids_and_codexs_variables(tmp_path: Path) -> None:
    report = explain_json(tmp_path, codex_home(tmp_path))
    per_run = {"CODEX_THREAD_ID", "CODEX_SESSION_ID", "CODEX_TOOL_CALL_ID", "_"}
    assert set(report["per_run"]) == per_run
    assert report["variables"]["CODEX_THREAD_ID"]["per_run"] is True
    assert report["variables"]["TERM"] == {
        "value": "dumb",
        "stage": "codex runtime",
        "per_run": False,
        "steps": [
            {"stage": "codex runtime", "value": "dumb", "why": "Codex sets it for every command"}
        ],
    }
    assert report["env"]["LD_LIBRARY_PATH"] == "/opt/cuda"  # default policy keeps it


def test_overrides_and_profile_flags(tmp_path: Path) -> None:
    home = codex_home(tmp_path)
    (home / "p.config.toml").write_text('[shell_environment_policy]\nset = { FROM_P = "1" }\n')
    report = explain_json(
        tmp_path,
        home,
        "--codex-profile",
        "p",
        "--codex-config",
        "shell_environment_policy.inherit=none",
    )
    assert report["env"]["FROM_P"] == "1"
    assert "HOME" not in report["env"]
    assert report["removed"]["HOME"]["why"] == 'inherit = "none"'


def test_text_report_names_the_removal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = codex_home(tmp_path, '[shell_environment_policy]\nexclude = ["LD_*"]\nbogus = 1\n')
    argv = ["explain", "--runtime", "codex", "--codex-home", str(home), "--no-login-snapshot"]
    assert main([*argv, "--base", base_file(tmp_path, LAUNCHER)]) == 0
    text = capsys.readouterr().out
    assert "LD_LIBRARY_PATH  [shell_environment_policy: exclude 'LD_*']" in text
    assert "shell_environment_policy.bogus is ignored" in text
    assert "CODEX_THREAD_ID=<thread id: per run>" in text


def test_a_hook_with_env_is_reported_as_dropped(tmp_path: Path) -> None:
    script = tmp_path / "hook.sh"
    script.write_text(
        '#!/bin/sh\necho \'{"hookSpecificOutput": {"hookEventName": "SessionStart", '
        '"env": {"VENV": "/repo/.venv"}}}\'\n',
        encoding="utf-8",
    )
    script.chmod(0o755)
    hooks = {"hooks": {"SessionStart": [{"hooks": [{"type": "command", "command": str(script)}]}]}}
    report = explain_json(tmp_path, codex_home(tmp_path, hooks=hooks))
    (hook,) = report["hooks"]
    assert hook["overlay"] == {"VENV": "/repo/.venv"}
    assert "rejects hookSpecificOutput.env" in hook["codex"]
    assert "VENV" not in report["env"]


#: (config.toml, hooks.json, words of the one-line error)
BAD = [
    ("[shell_environment_policy\n", None, "config.toml: line 1, column 26: is not valid TOML"),
    ("[shell_environment_policy]\nexclude = 'X'\n", None, "policy.exclude: must be an array"),
    ("", "{not json", "hooks.json: line 1, column 2: is not JSON"),
    ("", {"hooks": {"SessionStart": [{"hooks": [{"type": "command"}]}]}}, "/command: is missing"),
]


@pytest.mark.parametrize(("config", "hooks", "words"), BAD)
def test_bad_codex_config_is_one_clear_line(
    tmp_path: Path, config: str, hooks: object, words: str
) -> None:
    home = codex_home(tmp_path, config, hooks)
    argv = ["explain", "--runtime", "codex", "--codex-home", str(home), "--no-login-snapshot"]
    done = subprocess.run(
        [sys.executable, "-m", "envoverlay", *argv],
        capture_output=True, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    stderr = done.stderr.decode()
    assert done.returncode == 1
    assert "Traceback" not in stderr
    (line,) = stderr.splitlines()
    assert line.startswith(f"envoverlay: {home}/")
    assert words in line
    assert "(fix: " in line


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["explain", "--runtime", "codex", "--codex-home", str(tmp_path / "missing")]
    assert main(argv) == 2
    assert "is not a directory" in capsys.readouterr().err
    home = codex_home(tmp_path)
    assert (
        main(["explain", "--runtime", "codex", "--codex-home", str(home), "--hook-output", "x"])
        == 2
    )
    assert "--hook-output does not apply" in capsys.readouterr().err


@pytest.mark.parametrize(("flag", "value"), [("--config-dir", "x"), ("--session", "s1")])
def test_claude_options_are_refused_under_runtime_codex(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str
) -> None:
    """They belong to --runtime claude: silently ignoring them would predict the wrong env."""
    home = codex_home(tmp_path)
    assert main(["explain", "--runtime", "codex", "--codex-home", str(home), flag, value]) == 2
    assert f"{flag} does not apply" in capsys.readouterr().err


def test_exec_runs_under_the_predicted_env(tmp_path: Path) -> None:
    home = codex_home(tmp_path, '[shell_environment_policy]\nset = { FROM_SET = "yes" }\n')
    argv = ["exec", "--runtime", "codex", "--codex-home", str(home), "--no-login-snapshot"]
    argv += ["--base", base_file(tmp_path, LAUNCHER), "--", "/usr/bin/env", "-0"]
    done = subprocess.run(
        [sys.executable, "-m", "envoverlay", *argv],
        capture_output=True, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    env = dict(e.split("=", 1) for e in done.stdout.decode().split("\0") if e)
    assert env["FROM_SET"] == "yes"
    assert env["TERM"] == "dumb"
    assert len(env["CODEX_THREAD_ID"]) == 36  # a fresh id, not a placeholder
    assert env["CODEX_SESSION_ID"] == env["CODEX_THREAD_ID"]


def test_secret_looking_values_are_redacted_unless_asked(tmp_path: Path) -> None:
    launcher = {**LAUNCHER, "OPENAI_API_KEY": "sk-live", "GH_TOKEN": "ghp"}
    home = codex_home(tmp_path, '[shell_environment_policy]\nexclude = ["GH_*"]\n')
    argv = ["explain", "--runtime", "codex", "--codex-home", str(home), "--no-login-snapshot"]
    argv += ["--base", base_file(tmp_path, launcher), "--format", "json"]
    for extra, shown in (([], "***"), (["--show-secrets"], "sk-live")):
        done = subprocess.run(
            [sys.executable, "-m", "envoverlay", *argv, *extra],
            capture_output=True, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        report = json.loads(done.stdout)
        assert report["env"]["OPENAI_API_KEY"] == shown
        assert ("ghp" in done.stdout.decode()) is (shown != "***")
