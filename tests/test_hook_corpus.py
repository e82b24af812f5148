"""The hook-output corpus: every valid document parses to the expected overlay, and every
invalid one fails with the expected code at the expected JSON pointer — through the library
and through `envoverlay check`. The documents are fixtures under tests/hook_corpus/valid and
invalid; tests/hook_corpus/cases.json, read by tests/catalogue.py, says what each gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from catalogue import load_named

import envoverlay as eo
from envoverlay.cli import main

CORPUS = Path(__file__).parent / "hook_corpus"
CATALOGUE = load_named("hook-corpus")
VALID = CATALOGUE.params(lambda case: case["expect"]["valid"])
INVALID = CATALOGUE.params(lambda case: not case["expect"]["valid"])


def test_corpus_is_large_enough_and_complete():
    assert len(VALID) >= 30
    assert len(INVALID) >= 40
    on_disk = {p.relative_to(CORPUS).as_posix() for p in CORPUS.glob("*/*.out")}
    assert on_disk == CATALOGUE.fixtures()  # no document without its expectation
    for case in CATALOGUE.cases:  # each document sits in the folder of its verdict
        folder = "valid" if case["expect"]["valid"] else "invalid"
        assert case["fixture"] == f"{folder}/{case['name']}.out"


def parse(case: dict):
    name = case["name"]
    return eo.parse_hook_output(
        CATALOGUE.fixture(case).read_bytes(),
        hook_id=name,
        exit_code=case.get("exit_code", 0),
        platform=case.get("platform", "posix"),
        protected=case.get("protected", ()),
        sensitive="deny" if case.get("secure") else "warn",
    )


@pytest.mark.parametrize("case", VALID)
def test_valid_documents(case):
    expect = case["expect"]
    hook = parse(case)
    assert hook.ok, [d.describe() for d in hook.errors]
    assert sorted(d.code for d in hook.warnings) == sorted(expect["warnings"])
    assert hook.additional_context == expect["context"]
    if expect["env"] is None:
        assert hook.layer is None
    else:
        assert hook.layer is not None
        assert hook.layer.source == eo.Source("hook", case["name"])
        assert hook.layer.to_overlay() == expect["env"]


@pytest.mark.parametrize("case", INVALID)
def test_invalid_documents(case):
    hook = parse(case)
    assert not hook.ok
    found = [[d.code, d.pointer] for d in hook.errors]
    for expected in case["expect"]["errors"]:
        assert expected in found, (expected, found)
    for diagnostic in hook.errors:
        assert diagnostic.message
        assert diagnostic.hint  # every error says how to fix it
        assert diagnostic.pointer is not None
    policy_only = {code for code, _ in found} <= {"protected", "sensitive"}
    if not policy_only:
        assert hook.layer is None  # atomic: nothing of a malformed overlay applies


@pytest.mark.parametrize(
    "case", CATALOGUE.params(lambda case: not case["expect"]["valid"] and "exit_code" not in case)
)
def test_check_cli_reports_code_and_pointer(case, capsys):
    args = ["check", str(CATALOGUE.fixture(case)), "--format", "json"]
    args += ["--platform", case.get("platform", "posix")]
    for protected in case.get("protected", ()):
        args += ["--protect", protected]
    if case.get("secure"):
        args.append("--secure")
    assert main(args) == 1
    document = json.loads(capsys.readouterr().out)
    [report] = document["results"]
    assert document["valid"] is report["valid"] is False
    assert report["overlay"] is None
    found = [[e["path"], e["code"]] for e in report["errors"]]
    for code, pointer in case["expect"]["errors"]:
        assert [pointer, code] in found


@pytest.mark.parametrize("case", VALID)
def test_check_cli_accepts_valid(case, capsys):
    path = CATALOGUE.fixture(case)
    assert main(["check", str(path), "--platform", case.get("platform", "posix")]) == 0
    out = capsys.readouterr().out
    assert f"{path}: valid" in out
    assert "hunter2" not in out


def test_direnv_export_json_is_an_overlay():
    document = json.loads((Path(__file__).parent / "data" / "direnv-export.json").read_text())
    layer = eo.Layer.from_overlay(document, kind="provider", id="direnv:/srv/project")
    result = eo.compose({"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}, [layer], platform="posix")
    assert result.env["PATH"] == "/srv/project/bin:/usr/bin:/bin"
    assert result.env["MULTI"] == "a b\nc"
    assert "LANG" not in result.env
    assert result.removed["LANG"].source == eo.Source("provider", "direnv:/srv/project")


def test_hook_results_merge_in_configured_order():
    first = eo.parse_hook_output(
        json.dumps(
            {"hookSpecificOutput": {"hookEventName": "SessionStart", "env": {"A": "1", "B": "1"}}}
        ),
        hook_id="first",
    )
    second = eo.parse_hook_output(
        json.dumps({"hookSpecificOutput": {"hookEventName": "SessionStart", "env": {"A": "2"}}}),
        hook_id="second",
    )
    broken = eo.parse_hook_output('{"hookSpecificOutput": {', hook_id="broken")
    layers = eo.merge_hook_layers([first, second, broken])
    assert [layer.id for layer in layers] == ["first", "second"]
    result = eo.compose({}, layers, platform="posix")
    assert result.env == {"A": "2", "B": "1"}
    assert result.provenance("A").source == eo.Source("hook", "second")


@pytest.mark.parametrize(
    ("exit_code", "stdout", "code"),
    [
        (
            1,
            '{"hookSpecificOutput": {"hookEventName": "SessionStart", "env": {"A": "1"}}}',
            "hook-failed",
        ),
        (2, "", "hook-failed"),
        (None, "", "hook-failed"),
    ],
    ids=["exit 1 with valid env", "exit 2", "killed by a signal"],
)
def test_failed_hooks_contribute_no_env(exit_code, stdout, code):
    hook = eo.parse_hook_output(stdout, hook_id="h", exit_code=exit_code)
    assert not hook.ok
    assert hook.layer is None
    assert [d.code for d in hook.errors] == [code]


def test_secret_values_never_appear_in_results_or_reports(capsys, tmp_path):
    stdout = json.dumps(
        {
            "hookSpecificOutput": {
                "hookEventName": "SessionStart",
                "env": {
                    "TOKEN": {"set": "sekrit-1", "secret": True},
                    "BAD": {"set": "sekrit-2", "bogus": 1},
                },
            }
        }
    )
    hook = eo.parse_hook_output(stdout, hook_id="h")
    assert "sekrit" not in repr(hook)
    assert all("sekrit" not in d.describe() for d in hook.diagnostics)
    path = tmp_path / "out.json"
    path.write_text(stdout)
    main(["check", str(path), "--format", "json"])
    main(["check", str(path)])
    captured = capsys.readouterr()
    assert "sekrit-1" not in captured.out + captured.err
