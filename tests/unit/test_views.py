"""JSON views of results: each object's view, secrets redacted, and every to_json() the same."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import envoverlay as eo
from envoverlay import views


def composed() -> eo.ComposeResult:
    hook = eo.Layer.from_overlay(
        {
            "PATH": {"prepend": "/hook/bin"},
            "TOKEN": {"set": "s3cret", "secret": True},
            "GONE": None,
            "LD_PRELOAD": "/x.so",
        },
        kind="hook",
        id="venv",
    )
    return eo.compose({"PATH": "/usr/bin", "GONE": "x"}, [hook], platform="posix")


def test_source_view():
    assert views.source_view(eo.Source("hook", "venv")) == {"kind": "hook", "id": "venv"}


@pytest.mark.parametrize(
    ("diagnostic", "view", "problem"),
    [
        (
            eo.Diagnostic("error", "nul", "A", eo.Source("hook", "h"), "NUL", hint="drop it"),
            {
                "severity": "error",
                "code": "nul",
                "name": "A",
                "source": {"kind": "hook", "id": "h"},
                "message": "NUL",
                "hint": "drop it",
            },
            {"path": "", "code": "nul", "message": "NUL", "name": "A", "hint": "drop it"},
        ),
        (
            eo.Diagnostic("warning", "schema", None, None, "bad", pointer="/hookSpecificOutput"),
            {
                "severity": "warning",
                "code": "schema",
                "name": None,
                "source": None,
                "message": "bad",
                "pointer": "/hookSpecificOutput",
            },
            {"path": "/hookSpecificOutput", "code": "schema", "message": "bad"},
        ),
    ],
    ids=["named with a hint", "at a pointer"],
)
def test_diagnostic_views(diagnostic, view, problem):
    assert views.diagnostic_view(diagnostic) == view
    assert diagnostic.to_json() == view
    assert views.problem_view(diagnostic) == problem


def test_provenance_and_contribution_views_redact_secrets():
    result = composed()
    token = views.provenance_view(result.provenance("TOKEN"))
    assert token == {
        "value": "***",
        "source": {"kind": "hook", "id": "venv"},
        "history": [
            {
                "source": {"kind": "hook", "id": "venv"},
                "op": "set",
                "argument": "***",
                "value": "***",
                "status": "applied",
            }
        ],
    }
    path = views.provenance_view(result.provenance("PATH"))
    assert [step["op"] for step in path["history"]] == ["inherit", "prepend"]
    assert path["value"] == "/hook/bin:/usr/bin"


def test_compose_result_view_is_explains_shape():
    result = composed()
    view = views.compose_result_view(result)
    assert list(view) == ["platform", "env", "variables", "removed", "diagnostics"]
    assert view["env"]["TOKEN"] == "***"
    assert set(view["removed"]) == {"GONE"}
    assert [d["code"] for d in view["diagnostics"]] == [d.code for d in result.diagnostics]
    extra = eo.Diagnostic("error", "hook-failed", None, eo.Source("hook", "x"), "failed")
    assert views.compose_result_view(result, [extra])["diagnostics"][0]["code"] == "hook-failed"


def test_every_to_json_is_its_view():
    result = composed()
    provenance = result.provenance("PATH")
    assert provenance.to_json() == views.provenance_view(provenance)
    assert provenance.history[0].to_json() == views.contribution_view(provenance.history[0])
    for diagnostic in result.diagnostics:
        assert diagnostic.to_json() == views.diagnostic_view(diagnostic)
    assert eo.Source("thread", "user").to_json() == views.source_view(eo.Source("thread", "user"))


@given(st.text(alphabet="abcdefghij0123456789"))
def test_no_view_of_a_composition_holds_a_secret_value(text):
    secret = f"zq-secret-{text}"  # never part of a message
    layer = eo.Layer.from_ops(
        [eo.Op.set("TOKEN", secret, secret=True), eo.Op.prepend("P", f"/{secret}", secret=True)],
        kind="hook",
        id="vault",
    )
    result = eo.compose({"P": "/bin"}, [layer], platform="posix")
    assert result.env["TOKEN"] == secret
    assert secret not in json.dumps(views.compose_result_view(result))


def test_env_file_view_names_the_file_its_variables_and_their_lines():
    result = eo.read_shell_env_file(
        "export A=1\nexport PATH=/x:$PATH\n", {"PATH": "/bin"}, platform="posix"
    )
    assert views.env_file_view(result) == {
        "file": "CLAUDE_ENV_FILE",
        "format": "shell",
        "method": "static",
        "variables": list(result.names),
        "lines": [1, 2],
    }
    assert set(result.names) == {"A", "PATH"}


def test_a_contribution_names_the_file_and_line_an_env_file_wrote_it_on():
    result = eo.read_shell_env_file(
        "# setup\nexport PATH=/x:$PATH\nexport API_TOKEN=t\n", {}, label="CLAUDE_ENV_FILE"
    )
    layer = result.layer(id="setup")
    assert layer is not None
    composed = eo.compose({"PATH": "/bin"}, [layer], platform="posix")
    inherited, prepended = (views.contribution_view(s) for s in composed.provenance("PATH").history)
    assert "origin" not in inherited  # no key at all when there is no origin
    assert prepended["origin"] == {"file": "CLAUDE_ENV_FILE", "line": 2}
    assert views.origin_view(eo.Origin("F", 3)) == {"file": "F", "line": 3}
    assert eo.Origin("F", 3).to_json() == views.origin_view(eo.Origin("F", 3))
    (token,) = composed.provenance("API_TOKEN").history
    assert views.contribution_view(token)["origin"] == {"file": "CLAUDE_ENV_FILE", "line": 3}
    assert views.contribution_view(token)["value"] == "***"  # the line is no secret; the value is
