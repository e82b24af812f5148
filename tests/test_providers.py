"""Providers against the real programs: direnv, python -m venv + bash sourcing activate,
python-dotenv; nix from documents of its published shape (mise has its own test file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tools import require_tool

import envoverlay as eo
from envoverlay.cli import main
from envoverlay.providers import direnv as run_direnv
from envoverlay.providers import dotenv, from_spec, nix, venv
from envoverlay.providers.dotenv import dotenv_ops
from envoverlay.providers.nix import nix_ops
from envoverlay.providers.venv import venv_ops

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


# -- venv ------------------------------------------------------------------------------------


def test_venv_layer_matches_sourcing_the_real_activate_script(tmp_path):
    bash = require_tool("bash")
    location = tmp_path / "proj venv"  # a space, to keep quoting honest
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(location)], check=True)
    base = {"PATH": "/usr/local/bin:/usr/bin:/bin", "PYTHONHOME": "/opt/py", "HOME": str(tmp_path)}
    sourced = subprocess.run(
        [bash, "-c", '. "$1/bin/activate" && env -0', "bash", str(location)],
        env=base,
        capture_output=True,
        check=True,
    ).stdout
    real = dict(item.split("=", 1) for item in sourced.decode().split("\0") if item)
    provided = venv(str(location), platform="posix")
    assert provided.ok
    composed = eo.compose(base, [provided.layer], platform="posix").env
    assert composed["PATH"] == real["PATH"]
    assert composed["VIRTUAL_ENV"] == real["VIRTUAL_ENV"]
    assert composed.get("VIRTUAL_ENV_PROMPT") == real.get("VIRTUAL_ENV_PROMPT")
    assert "PYTHONHOME" not in composed
    assert "PYTHONHOME" not in real
    # the venv's python is what the composed PATH resolves
    found = (
        subprocess.run(
            ["python", "-c", "import sys; print(sys.prefix)"],
            env=composed,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    assert Path(found) == location


def test_venv_windows_layout():
    ops = {op.name: op for op in venv_ops("C:\\repo\\.venv", "repo", platform="windows")}
    assert ops["PATH"] == eo.Op.prepend("PATH", ["C:\\repo\\.venv\\Scripts"])


def test_venv_not_a_venv(tmp_path):
    provided = venv(str(tmp_path))
    assert "no pyvenv.cfg" in provided.errors[0].message


# -- dotenv ----------------------------------------------------------------------------------

DOTENV = """\
# comment
export A=1
B="x ${A} $A"
C='single ${A}'
D=${UNDEFINED:-fallback}
E=${FROM_BASE}
F=${NOWHERE}
NOVALUE
EMPTY=
"""


def test_dotenv_interpolates_against_the_file_then_the_base_only(monkeypatch):
    monkeypatch.setenv("NOWHERE", "leaked-from-process-env")
    monkeypatch.setenv("FROM_BASE", "leaked-from-process-env")
    ops, errors, warnings = dotenv_ops(DOTENV, {"FROM_BASE": "base-value"})
    assert errors == []
    values = {op.name: op.value for op in ops}
    assert values == {
        "A": "1",
        "B": "x 1 $A",
        "C": "single 1",
        "D": "fallback",
        "E": "base-value",
        "F": "",
        "EMPTY": "",
    }
    assert sorted((w.code, w.name) for w in warnings) == [
        ("no-value", "NOVALUE"),
        ("unresolved-variable", "F"),
    ]


def test_dotenv_bad_line_is_an_error_naming_it(tmp_path):
    path = tmp_path / ".env"
    path.write_text("GOOD=1\nthis is not a binding\n")
    provided = dotenv(str(path))
    assert provided.layer is None
    assert "line 2" in provided.errors[0].message


def test_dotenv_without_python_dotenv_says_what_to_install(tmp_path, monkeypatch):
    path = tmp_path / ".env"
    path.write_text("A=1\n")
    monkeypatch.setitem(sys.modules, "dotenv.parser", None)
    provided = dotenv(str(path))
    assert provided.errors[0].hint == "pip install 'envoverlay[dotenv]'"


# -- nix (mise: tests/unit/test_providers_mise.py) -----------------------------------------

NIX_DOC = {
    "bashFunctions": {"genericBuild": "..."},
    "variables": {
        "PATH": {"type": "exported", "value": "/nix/store/a-gcc/bin:/nix/store/b-make/bin"},
        "XDG_DATA_DIRS": {"type": "exported", "value": "/nix/store/c/share"},
        "CC": {"type": "exported", "value": "gcc"},
        "HOME": {"type": "exported", "value": "/homeless-shelter"},
        "TMPDIR": {"type": "exported", "value": "/build"},
        "NIX_BUILD_TOP": {"type": "exported", "value": "/build"},
        "out": {"type": "var", "value": "/nix/store/out"},
        "buildInputs": {"type": "array", "value": ["a", "b"]},
        "SHLVL": {"type": "exported", "value": "1"},
    },
}


def test_nix_exported_only_path_prepended_internals_dropped(tmp_path):
    path = tmp_path / "dev-env.json"
    path.write_text(json.dumps(NIX_DOC))
    provided = nix(str(path))
    assert provided.ok
    result = eo.compose(
        {"PATH": "/usr/bin", "HOME": "/home/me"}, [provided.layer], platform="posix"
    )
    assert result.env == {
        "PATH": "/nix/store/a-gcc/bin:/nix/store/b-make/bin:/usr/bin",
        "HOME": "/home/me",
        "XDG_DATA_DIRS": "/nix/store/c/share",
        "CC": "gcc",
    }


@pytest.mark.parametrize(
    "document",
    [
        [],
        {"variables": []},
        {"variables": {"A": "x"}},
        {"variables": {"A": {"type": "exported", "value": 1}}},
    ],
    ids=["array", "variables array", "bare value", "number value"],
)
def test_nix_malformed_documents(document):
    with pytest.raises(ValueError, match=r"variables|value"):
        nix_ops(document)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("bogus=x", "KIND=ARG"),
        ("venv", "KIND=ARG"),
        ("nix=/no/such/file.json", "does not exist"),
        ("nix=/", "is a directory"),
    ],
    ids=["unknown kind", "no argument", "missing file", "directory"],
)
def test_bad_provider_specs_are_errors(spec, message):
    provided = from_spec(spec, BASE)
    assert not provided.ok
    assert message in provided.errors[0].message


def test_cli_bad_provider_reports_without_traceback(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    proc = subprocess.run(
        [sys.executable, "-m", "envoverlay", "explain", "--provider", "nix=/no/such.json"],
        capture_output=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 1
    assert b"does not exist" in proc.stdout
    assert b"Traceback" not in proc.stderr


def test_providers_report_names_no_environment_can_hold(tmp_path):
    """A dotenv key such as 'A=B' once raised OverlayError out of the provider."""
    path = tmp_path / ".env"
    path.write_text("'A=B'=1\n")
    provided = dotenv(str(path))
    assert provided.layer is None
    assert provided.errors[0].code == "invalid-name"
