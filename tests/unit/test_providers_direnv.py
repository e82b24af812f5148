"""The direnv provider (``envoverlay.providers.direnv``) against the real direnv: an allowed
``.envrc`` becomes a provider layer, a blocked or failing one is an error that applies
nothing."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from tools import require_tool

import envoverlay as eo
from envoverlay.cli import main
from envoverlay.providers import direnv as run_direnv

BASE = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "KEEP": "1"}


@pytest.fixture
def direnv_home(tmp_path: Path) -> dict[str, str]:
    require_tool("direnv")
    home = tmp_path / "home"
    home.mkdir()
    return {
        **BASE,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }


def make_project(tmp_path: Path, envrc: str) -> Path:
    project = tmp_path / "project"
    (project / "bin").mkdir(parents=True)
    (project / ".envrc").write_text(envrc)
    return project


ENVRC = (
    "export DATABASE_URL=postgres://localhost/dev\n"
    "PATH_add bin\n"
    "unset LANG\n"
    'export MULTI="a b\nc"\n'
)


def test_direnv_allowed_envrc_becomes_a_provider_layer(tmp_path, direnv_home):
    project = make_project(tmp_path, ENVRC)
    subprocess.run(
        ["direnv", "allow", str(project)], env=direnv_home, check=True, capture_output=True
    )
    provided = run_direnv(str(project), direnv_home, platform="posix")
    assert provided.ok, [d.describe() for d in provided.errors]
    assert provided.layer is not None
    assert provided.layer.source == eo.Source("provider", f"direnv:{project}")
    ops = {op.name: op for op in provided.layer.ops}
    assert ops["PATH"] == eo.Op.prepend("PATH", [str(project / "bin")])  # PATH_add → prepend
    assert ops["LANG"] == eo.Op.unset("LANG")
    assert not any(name.startswith("DIRENV_") for name in ops)
    # over a different base, the prepend still composes
    result = eo.compose({"PATH": "/opt/bin", "LANG": "x"}, [provided.layer], platform="posix")
    assert result.env["PATH"] == f"{project / 'bin'}:/opt/bin"
    assert result.env["MULTI"] == "a b\nc"
    assert "LANG" not in result.env


def test_direnv_blocked_envrc_is_an_error_and_applies_nothing(tmp_path, direnv_home):
    project = make_project(tmp_path, ENVRC)  # never allowed
    provided = run_direnv(str(project), direnv_home, platform="posix")
    assert not provided.ok
    assert provided.layer is None
    [error] = provided.errors
    assert error.code == "provider-failed"
    assert "is blocked" in error.message
    assert "direnv allow" in error.hint


def test_direnv_failing_envrc_is_an_error(tmp_path, direnv_home):
    project = make_project(tmp_path, "export A=1\nexit 3\n")
    subprocess.run(
        ["direnv", "allow", str(project)], env=direnv_home, check=True, capture_output=True
    )
    provided = run_direnv(str(project), direnv_home, platform="posix")
    assert provided.layer is None
    assert "exited with code" in provided.errors[0].message


def test_direnv_missing_program_and_directory(tmp_path):
    missing = run_direnv(str(tmp_path), BASE, program="no-such-direnv-binary")
    assert "was not found" in missing.errors[0].message
    assert "install direnv" in missing.errors[0].hint
    not_dir = run_direnv(str(tmp_path / "nope"), BASE)
    assert "is not a directory" in not_dir.errors[0].message


def test_cli_provider_direnv(tmp_path, direnv_home, capsys):
    project = make_project(tmp_path, ENVRC)
    subprocess.run(
        ["direnv", "allow", str(project)], env=direnv_home, check=True, capture_output=True
    )
    base = tmp_path / "base.json"
    base.write_text(json.dumps(direnv_home))
    code = main(
        [
            "explain",
            "--base",
            str(base),
            "--provider",
            f"direnv={project}",
            "--platform",
            "posix",
            "--format",
            "json",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["variables"]["DATABASE_URL"]["source"] == {
        "kind": "provider",
        "id": f"direnv:{project}",
    }
    assert report["removed"]["LANG"]["source"]["id"] == f"direnv:{project}"
