"""Regression tests for findings of the code review (each test names what was wrong)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import envoverlay as eo
from envoverlay.cli import main
from envoverlay.providers import dotenv

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    child = dict(env if env is not None else os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "envoverlay", *args], env=child, capture_output=True, check=False
    )


def test_store_saves_values_holding_escaped_bytes(tmp_path):
    """A value with an undecodable byte (U+DC80..U+DCFF from a non-UTF-8 environment) once
    made save() crash with UnicodeEncodeError."""
    layer = eo.Layer.from_ops([eo.Op.set("X", "caf\udce9")], kind="provider", id="diff")
    state = eo.ThreadState.new(thread_id="t1", session_id="s", layers=[layer])
    store = eo.ThreadStore(tmp_path / "store")
    store.save(state)
    assert store.load("t1") == state
    assert eo.dumps(state).isascii()


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


def test_state_errors_never_quote_a_rejected_list():
    """jsonschema quotes non-string instances too; a secret in a list once leaked."""
    document = json.loads(eo.dumps(eo.ThreadState.new(thread_id="t", session_id="s")))
    document["layers"] = [
        {
            "kind": "hook",
            "id": "h",
            "lifetime": "thread",
            "inherit": True,
            "ops": [
                {"name": "TOKEN", "op": "set", "value": "x", "entries": ["hunter2"], "secret": True}
            ],
        }
    ]
    with pytest.raises(eo.StateError) as info:
        eo.loads(json.dumps(document))
    assert "hunter2" not in str(info.value)
    assert "/layers/0/ops/0" in str(info.value)


def test_providers_report_names_no_environment_can_hold(tmp_path):
    """A dotenv key such as 'A=B' once raised OverlayError out of the provider."""
    path = tmp_path / ".env"
    path.write_text("'A=B'=1\n")
    provided = dotenv(str(path))
    assert provided.layer is None
    assert provided.errors[0].code == "invalid-name"


def test_explain_reports_each_policy_finding_once(tmp_path, capsys):
    hook = tmp_path / "hook.json"
    hook.write_text(
        json.dumps(
            {
                "hookSpecificOutput": {
                    "hookEventName": "SessionStart",
                    "env": {
                        "LD_PRELOAD": "/x.so",
                        "P": {"prepend": "rel"},
                        "CODEX_THREAD_ID": "forged",
                    },
                }
            }
        )
    )
    base = tmp_path / "base.json"
    base.write_text("{}")
    main(
        [
            "explain",
            "--base",
            str(base),
            "--hook-output",
            str(hook),
            "--protect",
            "CODEX_THREAD_ID",
            "--platform",
            "posix",
            "--format",
            "json",
        ]
    )
    codes = [d["code"] for d in json.loads(capsys.readouterr().out)["diagnostics"]]
    assert sorted(codes) == ["protected", "relative-path-entry", "sensitive"]


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


def test_failed_hook_contributes_no_context_of_either_form():
    doc = b'{"hookSpecificOutput": {"hookEventName": "SessionStart", "additionalContext": "c"}}'
    assert eo.parse_hook_output(doc, hook_id="h", exit_code=1).additional_context is None
    assert eo.parse_hook_output(b"plain", hook_id="h", exit_code=1).additional_context is None


def test_core_names_fold_ascii_only_as_codex_does():
    policy = eo.InheritPolicy(inherit="core")
    result = eo.compose({"\u017fHELL": "x", "shell": "y"}, policy=policy, platform="posix")
    assert result.env == {"shell": "y"}


def test_json_overlays_cannot_smuggle_bytes_on_posix():
    with pytest.raises(eo.OverlayError) as info:
        eo.Layer.from_overlay({"X": "a\udcffb"}, kind="hook", id="h", platform="posix")
    assert info.value.diagnostics[0].code == "invalid-value"
    layer = eo.Layer.from_overlay({"X": "a\udcffb"}, kind="hook", id="h", platform="windows")
    assert layer.ops[0].value == "a\udcffb"  # UTF-16 blocks carry lone surrogates


@pytest.mark.parametrize(
    "kwargs", [{"kind": "runtime"}, {"sensitive": "maybe"}], ids=["runtime kind", "unknown mode"]
)
def test_parse_hook_output_refuses_wrong_arguments(kwargs):
    with pytest.raises(ValueError, match="must be"):
        eo.parse_hook_output("", hook_id="h", **kwargs)


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


# -- second review -------------------------------------------------------------------------------

PAIR = "\ud83d\ude00"  # a surrogate pair held as two code points


@pytest.mark.parametrize("platform", ["posix", "windows"])
@pytest.mark.parametrize("pattern", [f"X{PAIR}", f"X{PAIR}*"])
def test_a_protected_pattern_holding_a_split_pair_still_protects(platform, pattern):
    """Op names hold such a pair as its character; a protected pattern spelled with the two
    code points once missed them on posix, so a hook could set the name."""
    layer = eo.Layer.from_ops([eo.Op.set(f"X{PAIR}", "evil")], kind="hook", id="h")
    result = eo.compose({}, [layer], platform=platform, protected=[pattern])
    assert result.env == {}
    assert [d.code for d in result.errors] == ["protected"]


def test_thread_overrides_keep_the_last_events_diagnostics():
    failing = eo.parse_hook_output(b"{not json", hook_id="venv", exit_code=0, platform="posix")
    state = eo.ThreadState.new(thread_id="t1", session_id="s1").apply("startup", [failing])
    assert state.diagnostics
    user = eo.Layer.from_overlay({"EDITOR": "nano"}, kind="thread", id="user")
    assert state.with_thread_layer(user).diagnostics == state.diagnostics
    assert state.with_thread_layer(user).without_thread_layer("user").diagnostics == (
        state.diagnostics
    )


def test_with_thread_layer_replaces_every_override_of_that_id():
    """without_thread_layer removes every layer of an id; with_thread_layer replaces them
    all too (in the place of the first), rather than leaving a second one behind."""
    one = eo.Layer.from_overlay({"A": "1"}, kind="thread", id="user")
    two = eo.Layer.from_overlay({"A": "2"}, kind="thread", id="user")
    other = eo.Layer.from_overlay({"B": "1"}, kind="thread", id="api")
    state = eo.ThreadState.new(thread_id="t1", session_id="s1", layers=[one, other, two])
    newer = eo.Layer.from_overlay({"A": "3"}, kind="thread", id="user")
    assert state.with_thread_layer(newer).layer_stack == (newer, other)


def test_a_thread_override_id_holding_a_split_pair_is_found():
    layer = eo.Layer.from_overlay({"A": "1"}, kind="thread", id=f"u{PAIR}")
    state = eo.ThreadState.new(thread_id="t1", session_id="s1").with_thread_layer(layer)
    assert state.without_thread_layer(f"u{PAIR}").layer_stack == ()
