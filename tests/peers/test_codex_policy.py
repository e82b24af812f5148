"""Differential test: the real `codex sandbox -- env -0` against envoverlay's Codex mapping.

Every case of tests/data/codex/policy-cases.json runs the real Codex 0.169.0 binary with an
exact base (the case's map plus CODEX_HOME is the whole environment) and a throwaway
CODEX_HOME in tmp_path. The map it prints must be the catalogue's recorded map and the map
envoverlay predicts; the cases Codex turns into entries no block can hold are errors here.
"""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from catalogue import load_named
from tools import require_npm_tool

from envoverlay.codex import CodexConfigError, CodexPolicy, sandbox_env

CATALOGUE = load_named("codex-policy")
#: A quick sample for the default run: the Unicode rule, CORE, the scrub, include_only over
#: set, empty patterns, unknown keys and an error case. The slow run takes every case.
SAMPLE = {
    "unicode-00-u+017f-u+0073", "unicode-02-u+0131-u+0049", "unicode-04-u+03c2-u+03c3",
    "unicode-06-u+212a-u+006b", "unicode-08-u+00c9-u+00e9", "core-members",
    "non-inheritable-set", "include-only-removes-set", "exclude-empty", "unknown-key",
    "error-set-equals",
}  # fmt: skip


def run_sandbox(codex: str, case: dict[str, Any], tmp_path: Path) -> list[str]:
    """The entries `codex sandbox -- env -0` prints, with machine paths as placeholders."""
    home = tmp_path / "codex-home"
    cwd = tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    config = "[shell_environment_policy]\n" + case["policy"] + "\n"
    (home / "config.toml").write_text(config, encoding="utf-8")
    env = {**case["base"], "CODEX_HOME": str(home)}
    done = subprocess.run(
        [codex, "sandbox", "--", "/usr/bin/env", "-0"],
        env=env, cwd=cwd, capture_output=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    codex_path = str(Path(codex).resolve().parent.parent / "codex-path")
    entries = []
    for raw in done.stdout.decode("utf-8").split("\0"):
        if raw:
            entry = raw.replace(codex_path, "{codex-path}").replace(str(cwd), "{cwd}")
            entries.append(entry.replace(str(home), "{CODEX_HOME}"))
    return sorted(entries)


def predicted(case: dict[str, Any]) -> list[str] | None:
    table = tomllib.loads("[shell_environment_policy]\n" + case["policy"] + "\n")
    try:
        policy = CodexPolicy.from_table(table["shell_environment_policy"])
    except CodexConfigError:
        return None
    launcher = {**case["base"], "CODEX_HOME": "{CODEX_HOME}"}
    env = sandbox_env(launcher, policy, cwd="{cwd}", codex_path=["{codex-path}"])
    return sorted(f"{name}={value}" for name, value in env.items())


def check_case(case: dict[str, Any], tmp_path: Path) -> None:
    codex = require_npm_tool("codex")
    measured = run_sandbox(codex, case, tmp_path)
    assert measured == case["expect"]["codex"], "Codex changed: re-record the catalogue"
    if "error" in case["expect"]:
        assert predicted(case) is None  # envoverlay reports an error instead
    else:
        assert predicted(case) == measured


@pytest.mark.parametrize("case", CATALOGUE.params(lambda case: case["name"] in SAMPLE))
def test_codex_sandbox_sample(case: dict[str, Any], tmp_path: Path) -> None:
    check_case(case, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("case", CATALOGUE.params())
def test_codex_sandbox_every_case(case: dict[str, Any], tmp_path: Path) -> None:
    check_case(case, tmp_path)


def test_sample_names_exist() -> None:
    assert {case["name"] for case in CATALOGUE.cases} >= SAMPLE
