"""The Codex runtime profile (envoverlay.codex_runtime): reading CODEX_HOME, running hooks."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from tools import require_tool

from envoverlay.codex import CodexConfigError
from envoverlay.codex_runtime import (
    arg0_dir,
    codex_path_dirs,
    load_codex_setup,
    predict,
    run_codex_hooks,
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_files_are_defaults(tmp_path: Path) -> None:
    setup = load_codex_setup(tmp_path)
    assert setup.policy.inherit == "all"
    assert setup.policy.ignore_default_excludes is True
    assert setup.hooks == ()
    assert setup.files == ()


def test_profile_and_overrides_layer_over_config(tmp_path: Path) -> None:
    write(
        tmp_path / "config.toml",
        '[shell_environment_policy]\nexclude = ["X*"]\nset = { A = "1", C = "base" }\n',
    )
    write(
        tmp_path / "work.config.toml", '[shell_environment_policy]\nset = { B = "2", C = "prof" }\n'
    )
    setup = load_codex_setup(
        tmp_path, profile="work", overrides=["shell_environment_policy.inherit=core"]
    )
    assert setup.policy.set == (("A", "1"), ("C", "prof"), ("B", "2"))
    assert setup.policy.exclude == ("X*",)
    assert setup.policy.inherit == "core"
    assert setup.files == (str(tmp_path / "config.toml"), str(tmp_path / "work.config.toml"))


def test_missing_profile_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CodexConfigError, match=r"nope\.config\.toml: profile 'nope' has no file"):
        load_codex_setup(tmp_path, profile="nope")


def test_unknown_policy_key_warns_and_strict_refuses(tmp_path: Path) -> None:
    write(tmp_path / "config.toml", "[shell_environment_policy]\nbogus = 1\n")
    setup = load_codex_setup(tmp_path)
    (warning,) = setup.warnings
    assert "shell_environment_policy.bogus is ignored" in warning
    assert str(tmp_path / "config.toml") in warning
    with pytest.raises(CodexConfigError, match=r"bogus: is not a key Codex knows"):
        load_codex_setup(tmp_path, strict=True)


#: (file, text, words the one-line error holds: the file, the key, the fix)
BAD_FILES = [
    ("config.toml", "[shell_environment_policy\n", ["config.toml: line 1, column 26", "TOML"]),
    (
        "config.toml",
        '[shell_environment_policy]\ninherit = "some"\n',
        ["shell_environment_policy.inherit", "fix:"],
    ),
    (
        "config.toml",
        "[shell_environment_policy]\nset = { A = 1 }\n",
        ["shell_environment_policy.set.A", "quote the value"],
    ),
    ("hooks.json", '{"hooks": ', ["hooks.json: line 1, column 11", "not JSON"]),
    (
        "hooks.json",
        '{"hooks": {"SessionStart": [{"hooks": [{"type": "command"}]}]}}',
        ["/hooks/SessionStart/0/hooks/0/command", "needs a command"],
    ),
    ("config.toml", "\udcff", ["config.toml"]),
]


@pytest.mark.parametrize(("name", "text", "words"), BAD_FILES)
def test_bad_codex_files(tmp_path: Path, name: str, text: str, words: list[str]) -> None:
    if "\udcff" in text:
        (tmp_path / name).write_bytes(b"\xff\xfe")
        words = [*words, "not UTF-8"]
    else:
        write(tmp_path / name, text)
    with pytest.raises(CodexConfigError) as raised:
        load_codex_setup(tmp_path)
    message = str(raised.value)
    assert str(tmp_path / name) in message
    for word in words:
        assert word in message
    assert "(fix: " in message


def test_codex_path_dirs(tmp_path: Path) -> None:
    binary = tmp_path / "pkg" / "bin" / "codex"
    binary.parent.mkdir(parents=True)
    binary.write_text("", encoding="utf-8")
    assert codex_path_dirs(str(binary)) == ()
    (tmp_path / "pkg" / "codex-path").mkdir()
    assert codex_path_dirs(str(binary)) == (str(tmp_path / "pkg" / "codex-path"),)
    assert codex_path_dirs(None) == ()


def hooks_home(tmp_path: Path, script: str, matcher: str = "startup") -> Path:
    hook = write(tmp_path / "hook.py", script)
    command = f"{sys.executable} {hook}"
    group = {"matcher": matcher, "hooks": [{"type": "command", "command": command, "timeout": 5}]}
    write(tmp_path / "hooks.json", json.dumps({"hooks": {"SessionStart": [group]}}))
    return tmp_path


ECHO_STDIN = (
    "import sys, json\n"
    "specific = {'hookEventName': 'SessionStart', 'additionalContext': sys.stdin.read()}\n"
    "print(json.dumps({'hookSpecificOutput': specific}))\n"
)
WITH_ENV = (
    "import json\n"
    "specific = {'hookEventName': 'SessionStart', 'env': {'A': '1'}}\n"
    "print(json.dumps({'hookSpecificOutput': specific}))\n"
)


def test_hooks_get_codexs_stdin_fields(tmp_path: Path) -> None:
    setup = load_codex_setup(hooks_home(tmp_path, ECHO_STDIN))
    (run,) = run_codex_hooks(setup, {"PATH": "/usr/bin:/bin"}, cwd=str(tmp_path))
    document = json.loads(run.result.additional_context or "")
    assert document["source"] == "startup"
    assert document["permission_mode"] == "bypassPermissions"
    assert "turn_id" not in document
    assert run.codex_outcome.startswith("ok")


def test_a_hook_env_is_dropped_by_codex(tmp_path: Path) -> None:
    setup = load_codex_setup(hooks_home(tmp_path, WITH_ENV))
    (run,) = run_codex_hooks(setup, {"PATH": "/usr/bin:/bin"}, cwd=str(tmp_path))
    assert run.result.layer is not None  # valid for envoverlay...
    assert "rejects hookSpecificOutput.env" in run.codex_outcome  # ...dropped by Codex 0.169


def test_matcher_selects_by_source(tmp_path: Path) -> None:
    setup = load_codex_setup(hooks_home(tmp_path, WITH_ENV, matcher="resume"))
    assert run_codex_hooks(setup, {}, cwd=str(tmp_path)) == ()
    assert len(run_codex_hooks(setup, {}, cwd=str(tmp_path), source="resume")) == 1


def test_predict_with_a_login_profile(tmp_path: Path) -> None:
    require_tool("bash")
    home = tmp_path / "home"
    home.mkdir()
    write(home / ".bash_profile", "export PATH=/opt/p/bin:/usr/bin:/bin\nexport FROM_PROFILE=1\n")
    codex_home = tmp_path / "codex"
    codex_home.mkdir()
    write(codex_home / "config.toml", '[shell_environment_policy]\nexclude = ["LD_*"]\n')
    launcher = {"HOME": str(home), "PATH": "/usr/bin:/bin", "SHELL": "/bin/bash", "LD_X": "1"}
    prediction = predict(
        launcher, load_codex_setup(codex_home), cwd=str(tmp_path), codex_binary=None
    )
    env = prediction.command.env
    assert prediction.snapshot_error is None
    assert env["PATH"] == "/opt/p/bin:/usr/bin:/bin"  # the profile clobbers PATH
    assert env["FROM_PROFILE"] == "1"
    assert "LD_X" not in env
    assert prediction.command.steps["PATH"][-1].stage == "login snapshot"


def test_errors_and_warnings_name_the_file_that_holds_the_key(tmp_path: Path) -> None:
    write(tmp_path / "config.toml", "[shell_environment_policy]\nexclude = 3\n")
    write(tmp_path / "p.config.toml", "[shell_environment_policy]\nbogus = 1\n")
    with pytest.raises(CodexConfigError) as raised:
        load_codex_setup(tmp_path, profile="p")
    assert raised.value.file == str(tmp_path / "config.toml")
    write(tmp_path / "config.toml", "")
    setup = load_codex_setup(tmp_path, profile="p", overrides=["shell_environment_policy.x=1"])
    assert setup.warnings == (
        f"{tmp_path / 'p.config.toml'}: shell_environment_policy.bogus is ignored "
        "(Codex 0.169 does not know it)",
        "-c: shell_environment_policy.x is ignored (Codex 0.169 does not know it)",
    )
    with pytest.raises(CodexConfigError) as raised:
        load_codex_setup(tmp_path, overrides=["shell_environment_policy.set.A=1"])
    assert raised.value.file == "-c"
    assert raised.value.key == "shell_environment_policy.set.A"


#: (TMPDIR of the launcher, CODEX_HOME, whether Codex makes its per-run arg0 folder)
ARG0_CASES = [
    (None, "/tmp/x/codex", False),
    (None, "/home/dev/.codex", True),
    ("/var/tmp", "/tmp/x/codex", True),
    ("/var/tmp", "/var/tmp/codex", False),
    ("/var/tmp", "/var/tmpfoo/codex", True),
]


@pytest.mark.parametrize(("tmpdir", "home", "made"), ARG0_CASES)
def test_arg0_folder_only_outside_the_temp_folder(
    tmpdir: str | None, home: str, made: bool
) -> None:
    launcher = {} if tmpdir is None else {"TMPDIR": tmpdir}
    found = arg0_dir(launcher, home)
    assert (found is not None) is made
    if found is not None:
        assert found == f"{home}/tmp/arg0-linux/codex-arg0<per run>"
