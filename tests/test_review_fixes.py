"""Regression tests for findings of the code review (each test names what was wrong)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import envoverlay as eo
from envoverlay.providers import dotenv

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    child = dict(env if env is not None else os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "envoverlay", *args], env=child, capture_output=True, check=False
    )


def test_cli_prints_values_holding_escaped_bytes():
    """explain on an environment with a non-UTF-8 byte once ended in an internal error."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONIOENCODING": "utf-8",
        "X": "a\udcffb",
    }
    proc = cli("explain", "--platform", "posix", env=env)
    assert proc.returncode == 0, proc.stderr
    assert b"a\\xffb" in proc.stdout  # the byte, escaped as the byte it was


def test_providers_report_names_no_environment_can_hold(tmp_path):
    """A dotenv key such as 'A=B' once raised OverlayError out of the provider."""
    path = tmp_path / ".env"
    path.write_text("'A=B'=1\n")
    provided = dotenv(str(path))
    assert provided.layer is None
    assert provided.errors[0].code == "invalid-name"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "--run", "--cwd", "/nonexistent-dir", "--", "true"], "is not a directory"),
        (["check", "--run", "--timeout", "nan", "--", "true"], "above zero"),
        (["check", "--run", "--timeout", "-1", "--", "true"], "above zero"),
        (["explain", "--set", "=x"], "--set/--unset"),
        (["explain", "--exclude", ""], "--exclude"),
        (["explain", "--protect", ""], "--protect"),
    ],
    ids=[
        "missing cwd",
        "nan timeout",
        "negative timeout",
        "empty --set name",
        "empty --exclude",
        "empty --protect",
    ],
)
def test_argument_problems_are_usage_errors(args, message):
    proc = cli(*args)
    assert proc.returncode == 2
    assert message in proc.stderr.decode()
    assert b"Traceback" not in proc.stderr


def test_windows_provenance_lookups_are_not_quadratic():
    base = {f"V{i}": str(i) for i in range(3000)}
    result = eo.compose(base, platform="windows")
    variables = result.variables
    assert len(variables) == 3000
    assert variables["V2999"].value == "2999"


def test_codes_lists_every_code_the_library_emits():
    import re

    emitted: set[str] = set()
    for path in (ROOT / "envoverlay").rglob("*.py"):
        text = path.read_text("utf-8")
        emitted.update(re.findall(r'Diagnostic\(\s*"(?:error|warning)",\s*"([a-z0-9-]+)"', text))
        emitted.update(re.findall(r'\b(?:problem|error)\(\s*"([a-z0-9-]+)"', text))
        emitted.update(re.findall(r'return "([a-z-]+)", ["\']', text))
    assert emitted - {"error", "warning"} <= set(eo.CODES)
    assert "wrong-event" in emitted  # the scan sees every way codes are written
