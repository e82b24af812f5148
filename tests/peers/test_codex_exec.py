"""End to end: the real `codex exec`, offline against a mock Responses API on 127.0.0.1.

A trusted SessionStart hook, a login profile that rewrites PATH and exports a variable (in a
throwaway HOME), a policy that excludes and sets: the model's one command dumps its env, and
that map must equal `explain --runtime codex`'s prediction for the same launcher env, cwd and
CODEX_HOME — every variable, the per-run ids by presence. Then `codex exec fork` runs the hook
with source "fork", and the hook's real stdin must be valid under our input schema.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from codex_exec import CodexRun, codex_session, parse_env0
from tools import require_npm_tool, require_tool

from envoverlay.cli import main
from envoverlay.schemas import validator

# Real `codex exec` sessions against the mock model: the slow pass of .ci/run runs them.
pytestmark = pytest.mark.slow


HOOK = """#!/bin/sh
# Keep what Codex gave this hook, by session id (the prediction runs it too).
input=$(cat)
id=$(printf '%s' "$input" | jq -r .session_id)
printf '%s' "$input" > "{out}/hook-stdin-$id.json"
env -0 > "{out}/hook-env-$id"
echo '{{"hookSpecificOutput": {{"hookEventName": "SessionStart", "additionalContext": "hi"}}}}'
"""
PROFILE = "export PATH=/opt/profile/bin:/usr/bin:/bin\nexport PROFILE_VAR=from-profile\n"
POLICY = 'exclude = ["LD_*", "KEEP_*"]\nset = { FROM_SET = "s", TERM = "vt100" }'


@pytest.fixture
def codex_world(tmp_path: Path) -> dict[str, Any]:
    codex = require_npm_tool("codex")
    require_tool("bash")
    require_tool("jq")
    home, codex_home, cwd, out = (tmp_path / n for n in ("home", "codex-home", "work", "out"))
    for folder in (home, codex_home, cwd, out):
        folder.mkdir()
    (home / ".bash_profile").write_text(PROFILE, encoding="utf-8")
    hook = tmp_path / "hook.sh"
    hook.write_text(HOOK.format(out=out), encoding="utf-8")
    hook.chmod(0o755)
    group = {"matcher": "startup|fork", "hooks": [{"type": "command", "command": str(hook)}]}
    hooks = {"hooks": {"SessionStart": [group]}}
    (codex_home / "hooks.json").write_text(json.dumps(hooks), encoding="utf-8")
    launcher = {
        "HOME": str(home),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "CODEX_HOME": str(codex_home),
        "USER": "tester",
        "SHELL": "/bin/bash",
        "LD_LIBRARY_PATH": "/opt/cuda/lib64",
        "KEEP_ME": "gone",
        "LANG": "en_US.UTF-8",
    }
    return {
        "codex": codex, "tmp": tmp_path, "home": home, "codex_home": codex_home, "cwd": cwd,
        "out": out, "launcher": launcher,
    }  # fmt: skip


def run_once(world: dict[str, Any], policy: str = POLICY, top: str = "") -> CodexRun:
    with codex_session(
        world["codex"], workdir=world["tmp"], codex_home=world["codex_home"],
        cwd=world["cwd"], launcher=world["launcher"], policy_toml=policy, top_toml=top,
    ) as session:  # fmt: skip
        return session.run()


def explain(world: dict[str, Any]) -> dict[str, Any]:
    base = world["tmp"] / "base.json"
    base.write_text(json.dumps(world["launcher"]), encoding="utf-8")
    argv = ["explain", "--runtime", "codex", "--base", str(base), "--codex-bin", world["codex"]]
    argv += ["--cd", str(world["cwd"]), "--format", "json"]
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert main(argv) == 0
    report: dict[str, Any] = json.loads(stdout.getvalue())
    assert list(validator("explain-codex").iter_errors(report)) == []
    return report


def test_prediction_is_exact_for_every_variable(codex_world: dict[str, Any]) -> None:
    world = codex_world
    run = run_once(world)
    real = run.command_env
    report = explain(world)
    predicted = report["env"]
    per_run = set(report["per_run"])
    assert per_run == {"CODEX_THREAD_ID", "CODEX_SESSION_ID", "CODEX_TOOL_CALL_ID", "_"}
    assert set(real) == set(predicted)
    differ = {
        n: (real[n], predicted[n]) for n in real if n not in per_run and real[n] != predicted[n]
    }
    assert differ == {}
    assert real["CODEX_THREAD_ID"] == run.thread_id
    # What the setup shows: the profile clobbers PATH (Codex puts codex-path back in front),
    # its export arrives, the policy's exclude wins, Codex's TERM beats set.
    assert real["PATH"].endswith(":/opt/profile/bin:/usr/bin:/bin")
    assert real["PROFILE_VAR"] == "from-profile"
    assert "LD_LIBRARY_PATH" not in real
    assert real["TERM"] == "dumb"
    assert report["removed"]["LD_LIBRARY_PATH"]["why"] == "exclude 'LD_*'"
    assert report["variables"]["PATH"]["stage"] == "snapshot restore"
    (hook,) = report["hooks"]
    assert hook["exit_code"] == 0


def test_hook_stdin_and_env_are_as_modelled(codex_world: dict[str, Any]) -> None:
    world = codex_world
    run = run_once(world)
    out = world["out"]
    real_stdin = json.loads((out / f"hook-stdin-{run.thread_id}.json").read_text())
    assert list(validator("session-start.input").iter_errors(real_stdin)) == []
    assert real_stdin["source"] == "startup"
    assert real_stdin["permission_mode"] == "bypassPermissions"
    real_env = parse_env0((out / f"hook-env-{run.thread_id}").read_bytes())
    explain(world)  # runs the hook the way Codex does, with a predicted session id
    ours = parse_env0((out / "hook-env-envoverlay-predicted-session").read_bytes())
    assert real_env == ours
    assert "FROM_SET" not in real_env  # set values never reach hooks
    assert "CODEX_THREAD_ID" not in real_env


def test_fork_sends_source_fork_valid_under_our_schema(codex_world: dict[str, Any]) -> None:
    world = codex_world
    with codex_session(
        world["codex"], workdir=world["tmp"], codex_home=world["codex_home"],
        cwd=world["cwd"], launcher=world["launcher"],
    ) as session:  # fmt: skip
        first = session.run()
        # The fork's history already holds the command's output: the model only answers.
        forked = session.run("fork", first.thread_id, prompt="again", command=False)
    assert forked.thread_id != first.thread_id
    stdin = json.loads((world["out"] / f"hook-stdin-{forked.thread_id}.json").read_text())
    assert stdin["source"] == "fork"
    assert list(validator("session-start.input").iter_errors(stdin)) == []


def test_a_hook_env_overlay_never_reaches_the_command(codex_world: dict[str, Any]) -> None:
    """Codex 0.169 fails a hook whose output carries hookSpecificOutput.env: the variable
    never arrives, and explain --runtime codex says why."""
    world = codex_world
    hook = world["tmp"] / "env-hook.sh"
    output = {"hookSpecificOutput": {"hookEventName": "SessionStart", "env": {"FROM_HOOK": "1"}}}
    hook.write_text(f"#!/bin/sh\ncat > /dev/null\necho '{json.dumps(output)}'\n", encoding="utf-8")
    hook.chmod(0o755)
    group = {"hooks": [{"type": "command", "command": str(hook)}]}
    hooks = {"hooks": {"SessionStart": [group]}}
    (world["codex_home"] / "hooks.json").write_text(json.dumps(hooks), encoding="utf-8")
    run = run_once(world)
    assert "FROM_HOOK" not in run.command_env
    report = explain(world)
    (found,) = report["hooks"]
    assert found["overlay"] == {"FROM_HOOK": "1"}
    assert "rejects hookSpecificOutput.env" in found["codex"]
    assert set(report["env"]) == set(run.command_env)


def assert_exact_but_per_run(real: dict[str, str], report: dict[str, Any]) -> set[str]:
    """The prediction names exactly the real command's variables, and every value but the
    ones it marks per run is exact; returns the names marked per run."""
    per_run = set(report["per_run"])
    assert set(real) == set(report["env"])
    assert {n: v for n, v in real.items() if n not in per_run} == {
        n: v for n, v in report["env"].items() if n not in per_run
    }
    return per_run


def test_without_login_shell_the_profile_does_not_apply(codex_world: dict[str, Any]) -> None:
    """allow_login_shell = false: no snapshot; the launcher's PATH stays, the profile's
    export never arrives — and the prediction is still exact."""
    world = codex_world
    run = run_once(world, top="allow_login_shell = false\n")
    real = run.command_env
    report = explain(world)
    assert_exact_but_per_run(real, report)
    assert "PROFILE_VAR" not in real
    assert real["PATH"].endswith(":/usr/local/bin:/usr/bin:/bin")
    assert report["login_snapshot"]["captured"] is False


@pytest.mark.parametrize("login", [False, True], ids=["no-login-shell", "login-snapshot"])
def test_codex_home_outside_the_temp_folder(codex_world: dict[str, Any], login: bool) -> None:
    """Outside the temp folder Codex adds a per-run arg0 folder to its PATH: the prediction
    shows it as a placeholder and marks PATH per run; everything else is exact."""
    world = codex_world
    other_tmp = world["tmp"] / "other-tmp"
    other_tmp.mkdir()
    world["launcher"] = {**world["launcher"], "TMPDIR": str(other_tmp)}
    run = run_once(world, top="" if login else "allow_login_shell = false\n")
    real = run.command_env
    report = explain(world)
    per_run = assert_exact_but_per_run(real, report)
    if "PATH" in per_run:
        pattern = re.escape(report["env"]["PATH"]).replace(
            re.escape("codex-arg0<per run>"), "codex-arg0[A-Za-z0-9]+"
        )
        assert re.fullmatch(pattern, real["PATH"])
        assert not login  # with the snapshot, the profile's PATH replaced it
    else:
        assert real["PATH"] == report["env"]["PATH"]
        assert login
