"""The venv provider (``envoverlay.providers.venv``): its layer against sourcing the real
``activate`` script of a ``python -m venv`` in bash."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tools import require_tool

import envoverlay as eo
from envoverlay.providers import venv
from envoverlay.providers.venv import venv_ops


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
