"""The three newcomer tasks each take one copied block of docs/index.md.

The blocks are marked `<!-- newcomer: NAME -->`. Each runs alone: a Python block in a fresh
namespace, a shell block's `envoverlay` lines as commands — both in an empty temporary
directory, so they cannot lean on earlier blocks of the page or on files of the repository.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INDEX = ROOT / "docs" / "index.md"
MARKED = re.compile(r"^<!-- newcomer: (\w+) -->\n```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)
TASKS = {"compose": "python", "check": "sh", "resume": "python"}


def marked_blocks() -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for name, language, body in MARKED.findall(INDEX.read_text("utf-8")):
        assert name not in found, f"two blocks are marked {name!r}"
        found[name] = (language, body)
    return found


def test_each_task_has_exactly_one_block() -> None:
    assert {name: language for name, (language, _) in marked_blocks().items()} == TASKS


@pytest.mark.parametrize("name", sorted(TASKS))
def test_block_runs_alone(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    language, body = marked_blocks()[name]
    # A state directory of our own: the examples must not write to the user's real one.
    state_home = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state_home))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    if language == "python":
        namespace: dict[str, object] = {"__name__": f"newcomer:{name}"}
        exec(compile(body, f"{INDEX}:{name}", "exec"), namespace)
    else:
        lines = [line for line in body.splitlines() if line.strip()]
        assert lines
        assert all(line.startswith("envoverlay ") for line in lines), lines
        for line in lines:
            proc = subprocess.run(
                [sys.executable, "-m", "envoverlay", *shlex.split(line)[1:]],
                cwd=work,
                capture_output=True,
                env=dict(os.environ, PYTHONPATH=str(ROOT)),
                check=False,
            )
            assert proc.returncode == 0, proc.stderr.decode()
            assert b": valid" in proc.stdout
    assert not state_home.exists()
    assert list(work.iterdir()) == []
