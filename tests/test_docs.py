"""Every example in README.md and docs/ runs: Python blocks are executed in order (one
namespace per page), and every `envoverlay ...` line of a shell block is run as a command."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(page: Path, language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(page.read_text("utf-8")) if lang == language]


@pytest.mark.parametrize(
    "page", [p for p in PAGES if blocks(p, "python")], ids=lambda p: p.relative_to(ROOT).as_posix()
)
def test_python_examples_run(page: Path) -> None:
    namespace: dict[str, object] = {"__name__": f"doc:{page.name}"}
    for body in blocks(page, "python"):
        exec(compile(body, str(page), "exec"), namespace)


SHELL_LINES = [
    (page, line)
    for page in PAGES
    for body in blocks(page, "sh")
    for line in body.splitlines()
    if line.startswith("envoverlay ")
]


@pytest.mark.parametrize(
    ("page", "line"), SHELL_LINES, ids=[f"{p.name}: {line}" for p, line in SHELL_LINES]
)
def test_shell_examples_run(page: Path, line: str) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    args = shlex.split(line)[1:]
    proc = subprocess.run(
        [sys.executable, "-m", "envoverlay", *args],
        cwd=ROOT,
        capture_output=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout


def test_quick_start_has_exactly_two_shell_blocks() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    fences = FENCE.findall(quick)
    assert [lang for lang, _ in fences] == ["sh", "sh"]
    install, tests = (body for _, body in fences)
    assert install.splitlines()[0] == "pip install ."
    assert "python -m pytest" in tests
    # A newcomer installs what the tests need, not the linters.
    assert tests.splitlines()[0] == "pip install -e '.[test]'"


def test_readme_links_work_on_an_index() -> None:
    """The README is the package's description on an index, where relative links break."""
    readme = (ROOT / "README.md").read_text("utf-8")
    links = re.findall(r"\]\(([^)]+)\)", readme)
    assert links
    assert [link for link in links if not link.startswith("https://")] == []
    assert "not on PyPI yet" in readme


# docs/architecture.md: each row names the module that owns a rule and what to call there.
ARCHITECTURE = ROOT / "docs" / "architecture.md"
_ROW = re.compile(r"^\| (?P<rule>[^|]+) \| `(?P<module>[\w.]+)`[^|]* \| (?P<names>[^|]+) \|$", re.M)


def _architecture_rows() -> list[tuple[str, str, list[str]]]:
    rows = []
    for row in _ROW.finditer(ARCHITECTURE.read_text("utf-8")):
        names = re.findall(r"`([\w.]+)`", row["names"])
        rows.append((row["rule"].strip(), row["module"], names))
    return rows


@pytest.mark.parametrize(("rule", "module", "names"), _architecture_rows())
def test_architecture_names_what_exists(rule: str, module: str, names: list[str]) -> None:
    """Every name the module map tells a reader to call exists in the module it names."""
    import importlib

    owner = importlib.import_module(f"envoverlay.{module}")
    last_class: object = None  # "`A.b`, `c`": c is another attribute of A
    for name in names:
        if "." in name:
            class_name, attribute = name.split(".", 1)
            last_class = getattr(owner, class_name)
            assert hasattr(last_class, attribute), f"{rule}: {module}.{name}"
        else:
            assert hasattr(owner, name) or hasattr(last_class, name), f"{rule}: {module}.{name}"


def test_architecture_lists_rows() -> None:
    assert len(_architecture_rows()) >= 15


# Modules without a file of their own, and where their tests are.
TESTED_ELSEWHERE = {
    "__init__": "the lazy imports: tests/test_packaging.py, tests/test_functional_core.py",
    "__main__": "python -m envoverlay: tests/unit/test_cli.py",
    "_shells": "one tuple, offered by the CLI and used by the guard: tests/unit/test_shell.py",
    "providers/_result": "the result type every provider returns: tests/unit/test_providers_*.py",
}


def test_unit_tests_are_one_file_per_module() -> None:
    """docs/architecture.md "Tests": each file of tests/unit/ is test_<module>.py for a
    module of envoverlay, and every module has one (or says where its tests are)."""
    package = ROOT / "envoverlay"
    expected = {f"test_{p.stem.lstrip('_')}": p.stem for p in package.glob("*.py")}
    expected["test_providers"] = "providers"
    for provider in package.glob("providers/*.py"):
        if provider.stem != "__init__":
            expected[f"test_providers_{provider.stem.lstrip('_')}"] = f"providers/{provider.stem}"
    files = {p.stem for p in (ROOT / "tests" / "unit").glob("test_*.py")}
    assert sorted(files - set(expected)) == []  # a file named after no module
    missing = {module for name, module in expected.items() if name not in files}
    assert sorted(missing - set(TESTED_ELSEWHERE)) == []
    assert sorted(set(TESTED_ELSEWHERE) - missing) == []  # an exception that no longer is one
