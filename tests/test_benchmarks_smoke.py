"""The benchmark suite runs and reports every row; importing envoverlay stays lazy.

No timing is asserted here: benchmarks measure, tests decide. See benchmarks/README.md.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# A full --quick benchmark run: .ci/run runs it with the slow tests (and the suite itself).
pytestmark = pytest.mark.slow


ROOT = Path(__file__).resolve().parent.parent

MEASUREMENTS = (
    "compose.typical.posix",
    "compose.typical.windows",
    "compose.typical.posix.cold",
    "compose.large.posix.cold",
    "compose.typical.windows.cold",
    "compose.large.windows.cold",
    "compose.large_short_path.posix.cold",
    "compose.large_short_path.windows.cold",
    "spawn.true",
    "dict_merge.typical.posix",
    "dict_merge.typical.windows",
    "compose.rejected_path_ops.x1",
    "compose.rejected_path_ops.x10",
    "compose.non_ascii_path.x1",
    "compose.non_ascii_path.x10",
    "compose.ascii_path.x10",
    "hook.parse_hook_output",
    "hook.jsonschema_validate",
    "hook.json_loads_prebuilt_validate",
    "hook.parse_hook_output_5mb",
    "hook.json_loads_5mb",
    "state.loads_dumps_50",
    "state.json_roundtrip_50",
    "cli.envoverlay_check",
    "cli.check_jsonschema",
    "python.import_envoverlay",
    "python.import_compose",
    "python.pass",
    "envfile.static_1000",
    "envfile.static_5",
    "envfile.bash_source_1000",
    "envfile.evaluate_1000",
    "envfile.spawn_true",
)
RATIOS = (
    "compose_vs_spawn.posix",
    "compose_vs_spawn.windows",
    "compose_scaling.posix",
    "compose_scaling.windows",
    "hook_parse_speedup_vs_jsonschema",
    "hook_parse_vs_prebuilt_validator",
    "check_cli_vs_check_jsonschema",
    "import_vs_bare_python",
    "state_roundtrip_vs_json",
    "rejected_path_ops_scaling",
    "non_ascii_path_scaling",
    "hook_parse_5mb_vs_json_loads",
    "envfile_static_vs_bash_source",
    "envfile_static_5_vs_spawn",
)
HAVE_CHECK_JSONSCHEMA = importlib.util.find_spec("check_jsonschema") is not None


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    """One quick run of the whole suite, shared by the tests below."""
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json"],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    document: dict[str, Any] = json.loads(completed.stdout)
    return document


def test_every_measurement_is_reported_with_a_positive_median(report: dict[str, Any]) -> None:
    found = {m["name"]: m for m in report["measurements"]}
    expected = [
        name for name in MEASUREMENTS if HAVE_CHECK_JSONSCHEMA or name != "cli.check_jsonschema"
    ]
    assert sorted(expected) == sorted(found)
    for name in expected:
        assert found[name]["median_s"] > 0, name
        assert found[name]["rounds"] >= 1, name
        assert found[name]["calls_per_round"] >= 1, name


def test_every_ratio_has_a_target_and_a_verdict(report: dict[str, Any]) -> None:
    ratios = {r["name"]: r for r in report["ratios"]}
    assert sorted(ratios) == sorted(RATIOS)
    for name, ratio in ratios.items():
        assert isinstance(ratio["target"], (int, float)), name
        assert ratio["target"] > 0, name
        assert ratio["comparison"] in ("<=", ">="), name
        if name == "check_cli_vs_check_jsonschema" and not HAVE_CHECK_JSONSCHEMA:
            assert ratio["passed"] is None
            continue
        assert isinstance(ratio["passed"], bool), name
        assert ratio["value"] > 0, name
    for info in report["info"]:
        assert "target" not in info
        assert info["value"] > 0


def test_the_lazy_import_check_is_reported(report: dict[str, Any]) -> None:
    """The report holds the check, and it passes: ``import envoverlay`` plus compose()
    loads neither jsonschema nor cattrs."""
    checks = {c["name"]: c for c in report["checks"]}
    lazy = checks["lazy_imports"]
    assert "neither jsonschema nor cattrs" in lazy["description"]
    assert (lazy["passed"], lazy["detail"]) == (True, "loaded: neither")


PROBE = """
import json, sys
import envoverlay as eo
layer = eo.Layer.from_overlay(
    {"PATH": {"prepend": ["/x/bin"]}, "EDITOR": {"default": "vim"}, "OLD": None, "A": "1"},
    kind="hook", id="probe")
runtime = eo.Layer.from_ops([eo.Op.set("CODEX_THREAD_ID", "t1")], kind="runtime", id="rt")
for platform in ("posix", "windows"):
    result = eo.compose({"PATH": "/bin", "OLD": "x"}, [layer, runtime], platform=platform)
    assert result.ok, result.diagnostics
    result.env
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("jsonschema", "cattrs"))))
"""


def test_importing_and_composing_loads_neither_jsonschema_nor_cattrs() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == []


def test_compare_measures_a_row_in_two_trees(tmp_path: Path) -> None:
    """--compare against a tree (here this one) reports each side of a ratio in both trees;
    a row the other tree lacks, or a folder that is no tree, is said so."""
    argv = [sys.executable, "-m", "benchmarks", "--compare", str(ROOT), "--rounds", "3"]
    done = subprocess.run(
        [*argv, "--no-instructions", "compose_cold_vs_spawn.posix"],
        capture_output=True, text=True, cwd=ROOT, env=child_env(), check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = [line.split()[0] for line in done.stdout.splitlines()[1:]]
    assert rows == ["compose.typical.posix.cold", "spawn.true", "ratio"]
    assert done.stdout.splitlines()[-1].startswith("ratio compose_cold_vs_spawn.posix: time ")
    not_a_tree = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--compare", str(tmp_path), "compose.typical.posix"],
        capture_output=True, text=True, cwd=ROOT, env=child_env(), check=False,
    )  # fmt: skip
    assert not_a_tree.returncode == 2
    assert "is not an envoverlay source tree" in not_a_tree.stderr
    no_rows = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--compare", str(ROOT)],
        capture_output=True, text=True, cwd=ROOT, env=child_env(), check=False,
    )  # fmt: skip
    assert no_rows.returncode == 2
    assert "takes the names of the rows" in no_rows.stderr
