"""The example hooks of docs/hook-authors.md: the page shows the files as they are, and each
hook prints what the page says it prints.

A script shown in the docs is marked `<!-- file: PATH -->` right before its block. The hooks
need sh (venv), bash and jq (nix, secret) and direnv (direnv); CI installs them all and a
missing one fails there (ENVOVERLAY_REQUIRE_TOOLS=1).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from tools import require_tool

import envoverlay as eo
from envoverlay.providers.nix import nix_ops

ROOT = Path(__file__).resolve().parent.parent
HOOKS = ROOT / "examples" / "hooks"
PAGE = ROOT / "docs" / "hook-authors.md"
SHOWN_FILE = re.compile(r"^<!-- file: (\S+) -->\n```\w+\n(.*?)^```", re.MULTILINE | re.DOTALL)


def require_jq() -> None:
    require_tool("jq")


def run_hook(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        argv, cwd=cwd, env=dict(os.environ, **env), capture_output=True, check=False
    )


def test_shown_scripts_are_the_files() -> None:
    shown = dict(SHOWN_FILE.findall(PAGE.read_text("utf-8")))
    assert sorted(shown) == [
        "examples/hooks/direnv-hook.sh",
        "examples/hooks/nix-hook.sh",
        "examples/hooks/secret-hook.sh",
        "examples/hooks/venv-hook.sh",
    ]
    for path, body in shown.items():
        assert (ROOT / path).read_text("utf-8") == body, path


def test_saved_outputs_are_valid() -> None:
    for name in ("venv.json", "direnv.json", "nix.json", "secret.json"):
        hook = eo.parse_hook_output(
            (HOOKS / name).read_bytes(), hook_id=name, platform="posix", protected=["CODEX_*"]
        )
        assert hook.ok, [error.describe() for error in hook.errors]
        assert hook.layer is not None


def test_venv_hook_quotes_any_directory(tmp_path: Path) -> None:
    project = tmp_path / 'my "odd" \\ project'
    project.mkdir()
    proc = run_hook([require_tool("sh"), str(HOOKS / "venv-hook.sh")], project)
    assert proc.returncode == 0, proc.stderr
    assert b"venv hook: using" in proc.stderr  # logs go to stderr, never stdout
    hook = eo.parse_hook_output(proc.stdout, hook_id="venv", platform="posix")
    assert hook.ok, [error.describe() for error in hook.errors]
    result = eo.compose({"PATH": "/usr/bin", "PYTHONHOME": "/py"}, [hook.layer], platform="posix")
    venv = str(project / ".venv")
    assert result.env == {"PATH": f"{venv}/bin:/usr/bin", "VIRTUAL_ENV": venv}


def test_nix_hook_prints_the_saved_output_and_the_providers_ops(tmp_path: Path) -> None:
    require_jq()
    bash = require_tool("bash")
    dev_env = ROOT / "examples" / "nix-dev-env.json"
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    nix = fake_bin / "nix"  # stands in for `nix print-dev-env --json`
    nix.write_text(f"#!/bin/sh\ncat '{dev_env}'\n")
    nix.chmod(0o755)
    proc = run_hook(
        [bash, str(HOOKS / "nix-hook.sh")], tmp_path, PATH=f"{fake_bin}:{os.environ['PATH']}"
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == json.loads((HOOKS / "nix.json").read_text("utf-8"))
    hook = eo.parse_hook_output(proc.stdout, hook_id="nix", platform="posix")
    assert hook.layer is not None
    assert list(hook.layer.ops) == nix_ops(json.loads(dev_env.read_text("utf-8")))


def test_secret_hook_prints_the_saved_output(tmp_path: Path) -> None:
    require_jq()
    password = tmp_path / "db-password"
    password.write_text("dev-only-password")
    proc = run_hook(
        [require_tool("bash"), str(HOOKS / "secret-hook.sh")],
        tmp_path,
        DEV_DB_PASSWORD_FILE=str(password),
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == json.loads((HOOKS / "secret.json").read_text("utf-8"))
    hook = eo.parse_hook_output(proc.stdout, hook_id="secret", platform="posix")
    assert hook.layer is not None
    assert "dev-only-password" not in repr(hook.layer)


def test_direnv_hook(tmp_path: Path) -> None:
    require_jq()
    bash = require_tool("bash")
    require_tool("direnv")
    project = tmp_path / "project"
    project.mkdir()
    (project / ".envrc").write_text(
        "export DATABASE_URL=postgres://localhost/dev\nPATH_add bin\nunset LANG\n"
    )
    isolated = {  # direnv's allow list and config live here, not in the user's home
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "LANG": "C.UTF-8",
    }
    hook_argv = [bash, str(HOOKS / "direnv-hook.sh")]

    blocked = run_hook(hook_argv, project, **isolated)
    assert blocked.returncode != 0  # a blocked .envrc fails the hook: no half activation

    allowed = run_hook(["direnv", "allow", "."], project, **isolated)
    assert allowed.returncode == 0, allowed.stderr
    proc = run_hook(hook_argv, project, **isolated)
    assert proc.returncode == 0, proc.stderr
    env = json.loads(proc.stdout)["hookSpecificOutput"]["env"]
    assert env == {
        "DATABASE_URL": "postgres://localhost/dev",
        "LANG": None,
        "PATH": {"prepend": [str(project / "bin")]},
    }
    saved = json.loads((HOOKS / "direnv.json").read_text("utf-8"))["hookSpecificOutput"]["env"]
    assert sorted(saved) == sorted(env)  # the saved output is the same shape, for /repo
