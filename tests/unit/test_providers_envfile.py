"""The envfile, github-env and github-path providers (envoverlay.providers.envfile)."""

from __future__ import annotations

from pathlib import Path

import pytest

import envoverlay as eo
from envoverlay.providers import PROVIDER_KINDS, from_spec

BASE = {"PATH": "/usr/bin:/bin", "HOME": "/home/dev"}

CASES = [
    # (kind, file text, the env composed over BASE)
    ("envfile", 'export PATH="/opt/x:$PATH"\nexport A=$HOME/a\n',
     {"PATH": "/opt/x:/usr/bin:/bin", "HOME": "/home/dev", "A": "/home/dev/a"}),
    ("github-env", "A=$HOME\nB<<EOF\nx\ny\nEOF\n",
     {**BASE, "A": "$HOME", "B": "x\ny"}),
    ("github-path", "/a\n/b\n", {**BASE, "PATH": "/b:/a:/usr/bin:/bin"}),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "text", "env"), CASES)
def test_env_file_providers(kind: str, text: str, env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text(text, "utf-8")
    result = from_spec(f"{kind}={path}", BASE, platform="posix")
    assert result.ok, result.errors
    assert result.layer is not None
    assert result.layer.source == eo.Source("provider", f"{kind}:{path}")
    assert eo.compose(BASE, [result.layer], platform="posix").env == env


@pytest.mark.parametrize(
    ("kind", "text", "code"),
    [("envfile", "export A=$(id)\n", "env-file-unsupported"),
     ("github-env", "no equals sign\n", "env-file-syntax")],
)  # fmt: skip
def test_a_bad_file_contributes_nothing(kind: str, text: str, code: str, tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text(text, "utf-8")
    result = from_spec(f"{kind}={path}", BASE, platform="posix")
    assert result.layer is None
    assert [d.code for d in result.errors] == [code]
    assert result.errors[0].pointer == f"{path}:1"


def test_a_missing_file_is_a_provider_error(tmp_path: Path) -> None:
    result = from_spec(f"envfile={tmp_path / 'missing'}", BASE, platform="posix")
    assert [d.code for d in result.errors] == ["provider-failed"]


def test_the_kinds_are_listed() -> None:
    assert {"envfile", "github-env", "github-path"} <= set(PROVIDER_KINDS)
