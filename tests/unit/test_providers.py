"""Choosing a provider (``envoverlay.providers``): ``KIND=ARG`` specs, and how the CLI reports
a provider that fails. Each provider has its own file: ``test_providers_<kind>.py``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from envoverlay.providers import from_spec

BASE = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "KEEP": "1"}


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
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    proc = subprocess.run(
        [sys.executable, "-m", "envoverlay", "explain", "--provider", "nix=/no/such.json"],
        capture_output=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 1
    assert b"does not exist" in proc.stdout
    assert b"Traceback" not in proc.stderr
