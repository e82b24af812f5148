"""The dotenv provider (``envoverlay.providers.dotenv``), reading with python-dotenv's parser:
interpolation against the file then the base only, and errors that name the line."""

from __future__ import annotations

import sys

from envoverlay.providers import dotenv
from envoverlay.providers.dotenv import dotenv_ops

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


def test_providers_report_names_no_environment_can_hold(tmp_path):
    """A dotenv key such as 'A=B' once raised OverlayError out of the provider."""
    path = tmp_path / ".env"
    path.write_text("'A=B'=1\n")
    provided = dotenv(str(path))
    assert provided.layer is None
    assert provided.errors[0].code == "invalid-name"
