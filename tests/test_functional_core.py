"""The functional core does no I/O: no core module imports subprocess, reads the process
environment or calls the clock (read from each module's syntax tree)."""

from __future__ import annotations

import ast
import importlib
import inspect

import pytest

CORE_MODULES = (
    "_names", "ops", "layers", "policy", "composition", "hooks", "lifecycle", "diagnostics",
    "sources", "winblock", "diff", "errors", "views", "_convert", "secrets", "envfile", "emit",
    "codex", "claude",
)  # fmt: skip
FORBIDDEN_MODULES = frozenset({"subprocess", "time", "datetime"})
FORBIDDEN_ATTRIBUTES = frozenset({"environ", "environb", "getenv", "putenv", "unsetenv"})


def impurities(source: str) -> list[str]:
    """What in ``source`` reaches outside the core: imports of subprocess or a clock, and
    any use of the process environment."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module in FORBIDDEN_MODULES:
            found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [f"from os import {a.name}" for a in node.names
                      if a.name in FORBIDDEN_ATTRIBUTES]  # fmt: skip
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES:
            found.append(f".{node.attr}")
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            found.append("__import__()")
    return found


@pytest.mark.parametrize("name", CORE_MODULES)
def test_a_core_module_does_no_io(name: str) -> None:
    module = importlib.import_module(f"envoverlay.{name}")
    assert impurities(inspect.getsource(module)) == []


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("import subprocess", ["import subprocess"]),
        ("from time import monotonic", ["from time import ..."]),
        ("import datetime", ["import datetime"]),
        ("import os\nx = os.environ['A']", [".environ"]),
        ("from os import environ", ["from os import environ"]),
        ("import os\nos.getenv('A')", [".getenv"]),
        ("import os\nsep = os.pathsep", []),
    ],
)
def test_the_check_sees_each_kind_of_io(source: str, found: list[str]) -> None:
    assert impurities(source) == found
