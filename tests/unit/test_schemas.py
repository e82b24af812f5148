"""The shipped JSON Schemas (schema/) and their loader, envoverlay.schemas."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from referencing import Registry
from referencing.exceptions import Unresolvable

from envoverlay import schemas
from envoverlay.schemas import (
    SCHEMA_NAMES,
    bundled_schema,
    load_schema,
    schema_id,
    schema_text,
    validator,
)

REPO = Path(__file__).resolve().parents[2]
#: Codex's own hook schemas (facts, kept as test data): those embedded in the 0.169.0 release,
#: the older upstream ones, and the PR #25364 variant.
REFERENCE = REPO / "tests" / "data" / "codex" / "hook-schemas"
RELEASE = REFERENCE / "0.169"
UPSTREAM = REFERENCE / "upstream" / "session-start.command.output.schema.json"
PR25364 = REFERENCE / "variants" / "session-start.command.output.pr25364-with-env.schema.json"
REFERENCE_INPUT = RELEASE / "session-start.command.input.schema.json"
#: Each of Codex's schemas and the shipped schema that must accept all it accepts.
CODEX_SCHEMAS: list[tuple[str, str]] = [
    (f"{release}/{event}.command.{kind}.schema.json", f"{event}.{kind}")
    for release in ("0.169", "upstream")
    for event in ("session-start", "subagent-start")
    for kind in ("input", "output")
]

Doc = Any
Path_ = tuple[str | int, ...]
ENV: Path_ = ("hookSpecificOutput", "env")


def output(env: Doc) -> dict[str, Any]:
    """A SessionStart output document carrying ``env`` as its overlay."""
    return {"hookSpecificOutput": {"hookEventName": "SessionStart", "env": env}}


def errors(check: Validator, document: Doc) -> list[tuple[Path_, str]]:
    """(absolute path, failing keyword) of every top-level error, sorted."""
    found = [(tuple(e.absolute_path), str(e.validator)) for e in check.iter_errors(document)]
    return sorted(found, key=repr)


def detailed(check: Validator, document: Doc) -> list[tuple[str, str, str]]:
    found = [(e.json_path, str(e.validator), e.message) for e in check.iter_errors(document)]
    return sorted(found)


@cache
def reference(path: Path) -> Validator:
    schema = json.loads(path.read_text(encoding="utf-8"))
    cls = validator_for(schema)
    cls.check_schema(schema)
    # An empty registry: the reference schemas must never trigger a retrieval.
    check: Validator = cls(schema, registry=Registry())
    return check


# --- documents -------------------------------------------------------------------------------

HSO = {"hookEventName": "SessionStart"}

#: Documents Codex accepts, with the reference schemas that accept them: "upstream" (Codex
#: main), "pr" (the PR #25364 variant); an empty set means only Codex's parser accepts it (it
#: takes null where the schema says string). All must be valid under ours.
CODEX_VALID: list[tuple[str, Doc, frozenset[str]]] = [
    ("empty-object", {}, frozenset({"upstream", "pr"})),
    ("continue-true", {"continue": True}, frozenset({"upstream", "pr"})),
    (
        "continue-false-stop-reason",
        {"continue": False, "stopReason": "compact hook stopped continuation"},
        frozenset({"upstream", "pr"}),
    ),
    ("suppress-output", {"suppressOutput": True}, frozenset({"upstream", "pr"})),
    ("system-message", {"systemMessage": "venv is stale"}, frozenset({"upstream", "pr"})),
    ("empty-strings", {"stopReason": "", "systemMessage": ""}, frozenset({"upstream", "pr"})),
    (
        "all-universal-fields",
        {"continue": True, "stopReason": "r", "suppressOutput": False, "systemMessage": "m"},
        frozenset({"upstream", "pr"}),
    ),
    ("hook-event-name-only", {"hookSpecificOutput": HSO}, frozenset({"upstream", "pr"})),
    (
        "additional-context",
        {"hookSpecificOutput": {**HSO, "additionalContext": "Using the project venv"}},
        frozenset({"upstream", "pr"}),
    ),
    (
        "additional-context-unicode-multiline",
        {"hookSpecificOutput": {**HSO, "additionalContext": "línea 1\nline 2 ✓\t\u0000"}},
        frozenset({"upstream", "pr"}),
    ),
    (
        "everything-upstream",
        {
            "continue": False,
            "stopReason": "stop",
            "suppressOutput": True,
            "systemMessage": "warn",
            "hookSpecificOutput": {**HSO, "additionalContext": "ctx"},
        },
        frozenset({"upstream", "pr"}),
    ),
    ("pr-empty-env", output({}), frozenset({"pr"})),
    ("pr-one-var", output({"FOO": "bar"}), frozenset({"pr"})),
    (
        "pr-string-map",
        output({"PATH": "/repo/.venv/bin:/usr/bin", "EMPTY": "", "lower.case-name": "x y"}),
        frozenset({"pr"}),
    ),
    (
        "pr-env-and-context",
        {
            "continue": True,
            "systemMessage": "activated",
            "hookSpecificOutput": {
                **HSO,
                "additionalContext": "venv",
                "env": {"VIRTUAL_ENV": "/repo/.venv", "ÜNICODE_NAME": "välue"},
            },
        },
        frozenset({"pr"}),
    ),
    ("parser-null-hook-specific", {"hookSpecificOutput": None}, frozenset()),
    (
        "parser-null-strings",
        {"stopReason": None, "systemMessage": None},
        frozenset(),
    ),
    (
        "parser-null-additional-context",
        {"hookSpecificOutput": {**HSO, "additionalContext": None}},
        frozenset(),
    ),
]

#: Valid overlays (also valid as hookSpecificOutput.env of an output document).
VALID_OVERLAYS: list[tuple[str, Doc]] = [
    ("empty", {}),
    ("string-map", {"FOO": "bar", "EMPTY": "", "PATH": "/a:/b"}),
    (
        "direnv-export-json",
        {"DIRENV_DIR": "-/srv/project", "VIRTUAL_ENV": "/srv/project/.venv", "OLD_VAR": None},
    ),
    ("all-nulls", {"A": None, "B": None}),
    ("set", {"A": {"set": "1"}}),
    ("set-empty", {"A": {"set": ""}}),
    ("set-secret", {"DB_PASSWORD": {"set": "hunter2", "secret": True}}),
    ("set-not-secret", {"A": {"set": "1", "secret": False}}),
    ("default", {"EDITOR": {"default": "vim"}}),
    ("default-secret", {"TOKEN": {"default": "t", "secret": True}}),
    ("unset", {"PYTHONHOME": {"unset": True}}),
    ("prepend-string", {"PATH": {"prepend": "/repo/.venv/bin"}}),
    ("prepend-list", {"PATH": {"prepend": ["/repo/.venv/bin", "/repo/bin"]}}),
    ("append-string", {"PKG_CONFIG_PATH": {"append": "/repo/lib/pkgconfig"}}),
    ("append-list-separator", {"MANPATH": {"append": ["/a", "/b"], "separator": ":"}}),
    (
        "prepend-and-append-separator",
        {"PATH": {"prepend": ["/first"], "append": "/last", "separator": ";"}},
    ),
    ("path-op-secret", {"CLASSPATH": {"prepend": "/secret.jar", "secret": True}}),
    ("multi-char-separator", {"X": {"append": "b", "separator": "::"}}),
    ("non-portable-names", {"lower": "1", "A B": "2", "1LEADING": "3", "ß": "4", "a.b-c": None}),
    (
        "spec-example",
        {
            "VIRTUAL_ENV": "/repo/.venv",
            "PYTHONHOME": None,
            "PATH": {"prepend": ["/repo/.venv/bin"]},
            "PKG_CONFIG_PATH": {"append": "/repo/lib/pkgconfig", "separator": ":"},
            "EDITOR": {"default": "vim"},
            "DB_PASSWORD": {"set": "hunter2", "secret": True},
        },
    ),
]

#: Invalid overlays: (label, overlay, [(path inside the overlay, keyword), ...]). Wrapped in an
#: output document, the same errors appear under /hookSpecificOutput/env.
INVALID_OVERLAYS: list[tuple[str, Doc, list[tuple[Path_, str]]]] = [
    ("top-level-array", [], [((), "type")]),
    ("top-level-string", "FOO=bar", [((), "type")]),
    ("empty-name", {"": "x"}, [((), "minLength")]),
    ("name-with-equals", {"A=B": "x"}, [((), "pattern")]),
    ("name-is-equals", {"=": "x"}, [((), "pattern")]),
    ("value-number", {"A": 1}, [(("A",), "type")]),
    ("value-boolean", {"A": True}, [(("A",), "type")]),
    ("value-array", {"A": ["x"]}, [(("A",), "type")]),
    ("op-empty", {"A": {}}, [(("A",), "oneOf")]),
    ("unset-false", {"A": {"unset": False}}, [(("A", "unset"), "const")]),
    ("unset-string", {"A": {"unset": "yes"}}, [(("A", "unset"), "const")]),
    ("unset-secret", {"A": {"unset": True, "secret": True}}, [(("A",), "oneOf")]),
    ("unset-separator", {"A": {"unset": True, "separator": ":"}}, [(("A",), "oneOf")]),
    ("set-and-default", {"A": {"set": "a", "default": "b"}}, [(("A",), "oneOf")]),
    ("set-and-unset", {"A": {"set": "a", "unset": True}}, [(("A",), "oneOf")]),
    ("set-and-prepend", {"A": {"set": "a", "prepend": "b"}}, [(("A",), "oneOf")]),
    ("default-and-append", {"A": {"default": "a", "append": "b"}}, [(("A",), "oneOf")]),
    ("unset-and-prepend", {"A": {"unset": True, "prepend": "b"}}, [(("A",), "oneOf")]),
    ("set-number", {"A": {"set": 1}}, [(("A", "set"), "type")]),
    ("set-null", {"A": {"set": None}}, [(("A", "set"), "type")]),
    ("default-null", {"A": {"default": None}}, [(("A", "default"), "type")]),
    ("prepend-empty-list", {"A": {"prepend": []}}, [(("A", "prepend"), "minItems")]),
    ("prepend-number-entry", {"A": {"prepend": ["/ok", 1]}}, [(("A", "prepend", 1), "type")]),
    ("append-object", {"A": {"append": {}}}, [(("A", "append"), "type")]),
    ("append-null", {"A": {"append": None}}, [(("A", "append"), "type")]),
    ("separator-alone", {"A": {"separator": ":"}}, [(("A",), "oneOf")]),
    ("secret-alone", {"A": {"secret": True}}, [(("A",), "oneOf")]),
    ("separator-on-set", {"A": {"set": "a", "separator": ":"}}, [(("A",), "oneOf")]),
    ("separator-on-default", {"A": {"default": "a", "separator": ":"}}, [(("A",), "oneOf")]),
    (
        "separator-empty",
        {"A": {"prepend": "x", "separator": ""}},
        [(("A", "separator"), "minLength")],
    ),
    ("separator-number", {"A": {"append": "x", "separator": 58}}, [(("A", "separator"), "type")]),
    ("secret-string", {"A": {"set": "a", "secret": "yes"}}, [(("A", "secret"), "type")]),
    (
        "op-unknown-key",
        {"A": {"sett": "a"}},
        [(("A",), "additionalProperties"), (("A",), "oneOf")],
    ),
    ("op-extra-key", {"A": {"set": "a", "note": "x"}}, [(("A",), "additionalProperties")]),
]

#: Invalid output documents outside the overlay: (label, document, expected errors).
INVALID_OUTPUTS: list[tuple[str, Doc, list[tuple[Path_, str]]]] = [
    ("top-level-array", [], [((), "type")]),
    ("top-level-array-of-object", [{}], [((), "type")]),
    ("top-level-string", "hello", [((), "type")]),
    ("top-level-null", None, [((), "type")]),
    ("unknown-top-level-field", {"unexpectedField": True}, [((), "additionalProperties")]),
    ("decision-field", {"decision": "block"}, [((), "additionalProperties")]),
    ("continue-string", {"continue": "yes"}, [(("continue",), "type")]),
    ("continue-null", {"continue": None}, [(("continue",), "type")]),
    ("suppress-output-null", {"suppressOutput": None}, [(("suppressOutput",), "type")]),
    ("stop-reason-number", {"stopReason": 1}, [(("stopReason",), "type")]),
    ("system-message-number", {"systemMessage": 123}, [(("systemMessage",), "type")]),
    ("hook-specific-string", {"hookSpecificOutput": "x"}, [(("hookSpecificOutput",), "type")]),
    ("hook-specific-array", {"hookSpecificOutput": [HSO]}, [(("hookSpecificOutput",), "type")]),
    (
        "missing-hook-event-name",
        {"hookSpecificOutput": {}},
        [(("hookSpecificOutput",), "required")],
    ),
    (
        "missing-hook-event-name-with-context",
        {"hookSpecificOutput": {"additionalContext": "x"}},
        [(("hookSpecificOutput",), "required")],
    ),
    (
        "wrong-hook-event-name",
        {"hookSpecificOutput": {"hookEventName": "SubagentStart"}},
        [(("hookSpecificOutput", "hookEventName"), "const")],
    ),
    (
        "null-hook-event-name",
        {"hookSpecificOutput": {"hookEventName": None}},
        [(("hookSpecificOutput", "hookEventName"), "const")],
    ),
    (
        "unknown-hook-specific-field",
        {"hookSpecificOutput": {**HSO, "sessionTitle": "x"}},
        [(("hookSpecificOutput",), "additionalProperties")],
    ),
    (
        "additional-context-number",
        {"hookSpecificOutput": {**HSO, "additionalContext": 5}},
        [(("hookSpecificOutput", "additionalContext"), "type")],
    ),
    ("env-string", output("FOO=bar"), [(ENV, "type")]),
    ("env-array", output([]), [(ENV, "type")]),
    ("env-null", output(None), [(ENV, "type")]),
]

VALID_INPUT = {
    "session_id": "s1",
    "transcript_path": "/repo/.codex/rollout.jsonl",
    "cwd": "/repo",
    "hook_event_name": "SessionStart",
    "model": "gpt-5",
    "permission_mode": "default",
    "source": "startup",
}

INVALID_INPUTS: list[tuple[str, Doc, list[tuple[Path_, str]]]] = [
    ("missing-source", {k: v for k, v in VALID_INPUT.items() if k != "source"}, [((), "required")]),
    ("unknown-source", {**VALID_INPUT, "source": "forked"}, [(("source",), "enum")]),
    ("unknown-mode", {**VALID_INPUT, "permission_mode": "yolo"}, [(("permission_mode",), "enum")]),
    ("extra-field", {**VALID_INPUT, "turn_id": "t"}, [((), "additionalProperties")]),
    ("wrong-event", {**VALID_INPUT, "hook_event_name": "Stop"}, [(("hook_event_name",), "const")]),
    ("transcript-number", {**VALID_INPUT, "transcript_path": 1}, [(("transcript_path",), "type")]),
    ("cwd-null", {**VALID_INPUT, "cwd": None}, [(("cwd",), "type")]),
]


def _ids(table: list[tuple[Any, ...]]) -> list[str]:
    return [row[0] for row in table]


# --- the schema files ------------------------------------------------------------------------


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schema_is_valid_under_its_metaschema(name: str) -> None:
    schema = load_schema(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == schema_id(name) == f"https://envoverlay.dev/schema/{name}.schema.json"
    assert schema["title"]
    assert schema["description"]
    Draft202012Validator.check_schema(schema)
    Draft202012Validator.check_schema(bundled_schema(name))


def _properties(node: object, where: str = "") -> list[tuple[str, object]]:
    """Every (location, subschema) under a ``properties`` keyword, recursively."""
    found: list[tuple[str, object]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                found.extend((f"{where}/properties/{k}", v) for k, v in value.items())
            found.extend(_properties(value, f"{where}/{key}"))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found.extend(_properties(item, f"{where}/{index}"))
    return found


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_every_property_and_definition_is_described(name: str) -> None:
    schema = load_schema(name)
    # Shape discriminators ({"set": false}) are boolean schemas, not documentation.
    undocumented = [
        where
        for where, sub in _properties(schema)
        if isinstance(sub, dict) and not sub.get("description")
    ]
    undocumented += [
        f"/$defs/{key}"
        for key, sub in schema.get("$defs", {}).items()
        if not sub.get("description")
    ]
    assert undocumented == []


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_examples_in_schemas_are_valid(name: str) -> None:
    examples = load_schema(name).get("examples", [])
    assert examples
    for example in examples:
        assert errors(validator(name), example) == []


def test_reference_input_schema_agrees_with_ours() -> None:
    check = reference(REFERENCE_INPUT)  # skips when the reference folder is missing
    ref = json.loads(REFERENCE_INPUT.read_text(encoding="utf-8"))
    ours = load_schema("session-start.input")
    assert set(ours["properties"]) == set(ref["properties"])
    assert set(ours["required"]) == set(ref["required"])
    for field in ("permission_mode", "source"):
        assert ours["properties"][field]["enum"] == ref["properties"][field]["enum"]
    assert errors(check, VALID_INPUT) == []
    assert errors(validator("session-start.input"), VALID_INPUT) == []
    for _label, document, _expected in INVALID_INPUTS:
        assert errors(check, document) != []


# --- loader ----------------------------------------------------------------------------------


def test_schema_text_is_the_shipped_file() -> None:
    for name in SCHEMA_NAMES:
        text = schema_text(name)
        assert text == (REPO / "schema" / f"{name}.schema.json").read_text(encoding="utf-8")
        assert json.loads(text) == load_schema(name)
    assert schema_text() == schema_text("session-start.output")


def test_load_schema_returns_copies() -> None:
    first = load_schema("env-overlay")
    first["$defs"]["op"]["properties"].clear()
    first["title"] = "changed"
    again = load_schema("env-overlay")
    assert again["title"] != "changed"
    assert "set" in again["$defs"]["op"]["properties"]
    bundle = bundled_schema()
    bundle["$defs"].clear()
    assert bundled_schema()["$defs"]


def test_unknown_schema_name() -> None:
    with pytest.raises(ValueError, match=r"unknown schema 'nope'.*session-start\.output"):
        load_schema("nope")
    with pytest.raises(ValueError, match="unknown schema"):
        validator("nope")


def test_missing_schema_file_names_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schemas, "SCHEMA_NAMES", (*SCHEMA_NAMES, "thread-state-missing"))
    with pytest.raises(schemas.SchemaNotFoundError) as raised:
        schema_text("thread-state-missing")
    message = str(raised.value)
    assert "thread-state-missing.schema.json" in message
    assert "reinstall envoverlay" in message
    assert isinstance(raised.value, FileNotFoundError)


def test_validator_is_cached_and_offline() -> None:
    assert validator() is validator("session-start.output")
    assert validator("env-overlay") is validator("env-overlay")
    assert isinstance(validator(), Draft202012Validator)
    # Its registry knows the shipped schemas only and never retrieves anything.
    elsewhere = validator().evolve(schema={"$ref": "https://example.invalid/schema.json"})
    with pytest.raises(Unresolvable):
        elsewhere.is_valid({})
    by_id = validator().evolve(schema={"$ref": schema_id("env-overlay")})
    assert by_id.is_valid({"A": None})
    assert not by_id.is_valid({"A": 1})
    # A shipped schema the validator's own $refs do not reach resolves too.
    other = validator().evolve(schema={"$ref": schema_id("thread-state")})
    assert not other.is_valid({"format": "envoverlay.thread"})


def test_a_validator_reads_only_the_schemas_its_refs_reach() -> None:
    """A hook check validates with one schema and the env overlay's: the other shipped
    schemas are neither read nor parsed (they cost a process that checks one file)."""
    code = (
        "import envoverlay.schemas as s\n"
        "document = {'hookSpecificOutput': {'hookEventName': 'SessionStart', 'env': {'A': 1}}}\n"
        "assert not s.validator('session-start.output').is_valid(document)\n"
        "print(s._read.cache_info().currsize)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert done.stdout.strip() == "2"  # session-start.output and env-overlay


def test_importing_schemas_does_not_import_jsonschema() -> None:
    code = (
        "import sys, envoverlay.schemas as s\n"
        "s.load_schema(); s.bundled_schema(); s.schema_text()\n"
        "print(sorted(m for m in ('jsonschema', 'referencing') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert done.stdout.strip() == "[]"


# --- Codex compatibility ---------------------------------------------------------------------


@pytest.mark.parametrize(("label", "document", "accepted_by"), CODEX_VALID, ids=_ids(CODEX_VALID))
def test_codex_documents_are_valid(label: str, document: Doc, accepted_by: frozenset[str]) -> None:
    assert errors(validator(), document) == []


@pytest.mark.parametrize(("label", "document", "accepted_by"), CODEX_VALID, ids=_ids(CODEX_VALID))
def test_codex_table_matches_the_reference_schemas(
    label: str, document: Doc, accepted_by: frozenset[str]
) -> None:
    assert (errors(reference(UPSTREAM), document) == []) == ("upstream" in accepted_by)
    assert (errors(reference(PR25364), document) == []) == ("pr" in accepted_by)


@pytest.mark.parametrize(("env", "keyword"), [({"": "x"}, "minLength"), ({"A=B": "x"}, "pattern")])
def test_pr25364_names_no_environment_can_hold_are_the_one_exception(
    env: dict[str, str], keyword: str
) -> None:
    """PR #25364's schema accepts any name; ours rejects empty names and names with '='."""
    assert errors(reference(PR25364), output(env)) == []
    assert errors(validator(), output(env)) == [(ENV, keyword)]


# Documents shaped like the upstream schemas, the parser's and PR #25364's: what each of
# them accepts (specific to comparing the schemas).
_text = st.text(max_size=40)
_hook_specific = st.fixed_dictionaries(
    {"hookEventName": st.just("SessionStart")}, optional={"additionalContext": _text}
)
_universal = {
    "continue": st.booleans(),
    "stopReason": _text,
    "suppressOutput": st.booleans(),
    "systemMessage": _text,
}
UPSTREAM_SHAPED = st.fixed_dictionaries(
    {}, optional={**_universal, "hookSpecificOutput": _hook_specific}
)


def _nullable(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str | None]:
    return st.none() | strategy


PARSER_SHAPED = st.fixed_dictionaries(
    {},
    optional={
        "continue": st.booleans(),
        "stopReason": _nullable(_text),
        "suppressOutput": st.booleans(),
        "systemMessage": _nullable(_text),
        "hookSpecificOutput": st.none()
        | st.fixed_dictionaries(
            {"hookEventName": st.just("SessionStart")},
            optional={"additionalContext": _nullable(_text)},
        ),
    },
)

# The names PR #25364 allows: any non-empty text without "=" (NUL too: a JSON string).
_names = st.text(min_size=1, max_size=12).filter(lambda name: "=" not in name)
PR_SHAPED = st.fixed_dictionaries(
    {},
    optional={
        **_universal,
        "hookSpecificOutput": st.fixed_dictionaries(
            {"hookEventName": st.just("SessionStart")},
            optional={
                "additionalContext": _text,
                "env": st.dictionaries(_names, _text, max_size=5),
            },
        ),
    },
)


@given(UPSTREAM_SHAPED)
def test_upstream_shaped_documents_are_valid(document: dict[str, Any]) -> None:
    assert errors(validator(), document) == []
    assert errors(Draft202012Validator(bundled_schema(), registry=Registry()), document) == []
    if UPSTREAM.is_file():
        assert errors(reference(UPSTREAM), document) == []


@given(PARSER_SHAPED)
def test_parser_shaped_documents_with_nulls_are_valid(document: dict[str, Any]) -> None:
    assert errors(validator(), document) == []


@given(PR_SHAPED)
def test_pr25364_shaped_documents_are_valid(document: dict[str, Any]) -> None:
    assert errors(validator(), document) == []
    if PR25364.is_file():
        assert errors(reference(PR25364), document) == []


# --- overlays --------------------------------------------------------------------------------


@pytest.mark.parametrize(("label", "overlay"), VALID_OVERLAYS, ids=_ids(VALID_OVERLAYS))
def test_valid_overlays(label: str, overlay: Doc) -> None:
    assert errors(validator("env-overlay"), overlay) == []
    assert errors(validator(), output(overlay)) == []


def test_direnv_export_json_fixture_is_a_valid_overlay() -> None:
    fixture = REPO / "tests" / "data" / "direnv-export.json"
    if not fixture.is_file():
        pytest.skip("tests/data/direnv-export.json is not there")
    overlay = json.loads(fixture.read_text(encoding="utf-8"))
    assert errors(validator("env-overlay"), overlay) == []


@pytest.mark.parametrize(
    ("label", "overlay", "expected"), INVALID_OVERLAYS, ids=_ids(INVALID_OVERLAYS)
)
def test_invalid_overlays(label: str, overlay: Doc, expected: list[tuple[Path_, str]]) -> None:
    assert errors(validator("env-overlay"), overlay) == expected
    wrapped = [(ENV + path, keyword) for path, keyword in expected]
    assert errors(validator(), output(overlay)) == wrapped


def test_invalid_overlay_json_paths() -> None:
    """The JSON paths the hook parser sees, spelled out for a few shapes."""
    check = validator()
    paths = {
        label: [e.json_path for e in check.iter_errors(output(overlay))]
        for label, overlay, _expected in INVALID_OVERLAYS
    }
    assert paths["unset-false"] == ["$.hookSpecificOutput.env.A.unset"]
    assert paths["set-and-default"] == ["$.hookSpecificOutput.env.A"]
    assert paths["prepend-number-entry"] == ["$.hookSpecificOutput.env.A.prepend[1]"]
    assert paths["name-with-equals"] == ["$.hookSpecificOutput.env"]


def test_rejected_name_is_named_in_the_message() -> None:
    (error,) = validator("env-overlay").iter_errors({"OK": "1", "A=B": "x"})
    assert error.instance == "A=B"
    assert "'A=B'" in error.message


@pytest.mark.parametrize(
    ("label", "document", "expected"), INVALID_OUTPUTS, ids=_ids(INVALID_OUTPUTS)
)
def test_invalid_outputs(label: str, document: Doc, expected: list[tuple[Path_, str]]) -> None:
    assert errors(validator(), document) == expected


@pytest.mark.parametrize(
    ("label", "document", "expected"), INVALID_INPUTS, ids=_ids(INVALID_INPUTS)
)
def test_invalid_inputs(label: str, document: Doc, expected: list[tuple[Path_, str]]) -> None:
    assert errors(validator("session-start.input"), document) == expected


def test_valid_inputs() -> None:
    check = validator("session-start.input")
    for source in ("startup", "resume", "clear", "compact", "fork"):
        assert errors(check, {**VALID_INPUT, "source": source, "transcript_path": None}) == []


# --- every document Codex's schemas accept, ours accept ----------------------------------------


def _strategy(node: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Documents of a (draft-07, Codex-generated) schema: its fields, each of its enum
    members and consts, required fields always, optional fields sometimes, nulls where it
    allows them. Only the keywords Codex's generated hook schemas use are supported."""
    if "$ref" in node:
        target: Any = root
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return _strategy(target, root)
    if "allOf" in node:
        (only,) = node["allOf"]
        return _strategy(only, root)
    if "const" in node:
        return st.just(node["const"])
    if "enum" in node:
        return st.sampled_from(node["enum"])
    kinds = node["type"] if isinstance(node["type"], list) else [node["type"]]
    choices: list[st.SearchStrategy[Any]] = []
    for kind in kinds:
        if kind == "string":
            choices.append(st.text(max_size=30))
        elif kind == "boolean":
            choices.append(st.booleans())
        elif kind == "null":
            choices.append(st.none())
        elif kind == "object":
            assert node.get("additionalProperties") is False, "open objects are not generated"
            fields = {name: _strategy(sub, root) for name, sub in node["properties"].items()}
            required = set(node.get("required", ()))
            choices.append(
                st.fixed_dictionaries(
                    {name: fields[name] for name in fields if name in required},
                    optional={name: fields[name] for name in fields if name not in required},
                )
            )
        else:
            raise AssertionError(f"unsupported type {kind!r} in a Codex schema")
    return st.one_of(choices)


@cache
def _codex_documents(relative: str) -> st.SearchStrategy[Any]:
    schema = json.loads((REFERENCE / relative).read_text(encoding="utf-8"))
    return _strategy(schema, schema)


@pytest.mark.parametrize(("relative", "ours"), CODEX_SCHEMAS)
@given(data=st.data())
def test_every_document_valid_under_codex_schemas_is_valid_under_ours(
    relative: str, ours: str, data: st.DataObject
) -> None:
    """0 of the documents Codex 0.169 (or the upstream schemas) accept are rejected."""
    document = data.draw(_codex_documents(relative))
    assert errors(reference(REFERENCE / relative), document) == []
    assert errors(validator(ours), document) == []


@pytest.mark.parametrize(("relative", "ours"), CODEX_SCHEMAS)
def test_each_enum_member_of_codex_schemas_is_accepted(relative: str, ours: str) -> None:
    """Every enum member and const of Codex's schemas, tried one by one on a document that
    is otherwise the schema's own minimal valid one."""
    schema = json.loads((REFERENCE / relative).read_text(encoding="utf-8"))
    required = schema.get("required", [])
    base = {name: _minimal(schema["properties"][name]) for name in required}
    tried = 0
    for name, sub in schema["properties"].items():
        for value in sub.get("enum", [sub["const"]] if "const" in sub else []):
            document = {**base, name: value}
            assert errors(reference(REFERENCE / relative), document) == []
            assert errors(validator(ours), document) == [], (name, value)
            tried += 1
    assert tried >= (2 if "input" in relative else 0)


def _minimal(node: dict[str, Any]) -> Any:
    """A value for a required field (the generated input schemas reference only
    NullableString)."""
    if "$ref" in node:
        return None
    if "const" in node:
        return node["const"]
    if "enum" in node:
        return node["enum"][0]
    kind = node["type"] if isinstance(node["type"], str) else node["type"][0]
    return {"string": "x", "boolean": True, "object": {}}[kind]


def test_codex_0169_input_sources_are_ours() -> None:
    """The SessionStart source enum is exactly the release's: fork included."""
    release = json.loads(REFERENCE_INPUT.read_text(encoding="utf-8"))
    ours = load_schema("session-start.input")["properties"]["source"]["enum"]
    assert ours == release["properties"]["source"]["enum"]
    assert "fork" in ours


def test_subagent_input_fields_are_the_release_fields() -> None:
    release = json.loads((RELEASE / "subagent-start.command.input.schema.json").read_text())
    ours = load_schema("subagent-start.input")
    assert set(ours["properties"]) == set(release["properties"])
    assert set(ours["required"]) == set(release["required"])
    assert ours["additionalProperties"] is False


SUBAGENT_HSO = {"hookEventName": "SubagentStart"}

#: SubagentStart outputs: (label, document, expected errors under our schema).
SUBAGENT_OUTPUTS: list[tuple[str, Doc, list[tuple[Path_, str]]]] = [
    ("empty", {}, []),
    ("context", {"hookSpecificOutput": {**SUBAGENT_HSO, "additionalContext": "ctx"}}, []),
    ("continue-false-ignored", {"continue": False, "stopReason": "no"}, []),
    ("nulls-as-codex-parses", {"systemMessage": None, "hookSpecificOutput": None}, []),
    (
        "env-overlay",
        {"hookSpecificOutput": {**SUBAGENT_HSO, "env": {"PATH": {"prepend": ["/x/bin"]}}}},
        [],
    ),
    (
        "session-start-event-name",
        {"hookSpecificOutput": {"hookEventName": "SessionStart"}},
        [(("hookSpecificOutput", "hookEventName"), "const")],
    ),
    ("unknown-field", {"decision": "block"}, [((), "additionalProperties")]),
    (
        "env-name-with-equals",
        {"hookSpecificOutput": {**SUBAGENT_HSO, "env": {"A=B": "x"}}},
        [(("hookSpecificOutput", "env"), "pattern")],
    ),
]


@pytest.mark.parametrize(
    ("label", "document", "expected"), SUBAGENT_OUTPUTS, ids=_ids(SUBAGENT_OUTPUTS)
)
def test_subagent_outputs(label: str, document: Doc, expected: list[tuple[Path_, str]]) -> None:
    assert errors(validator("subagent-start.output"), document) == expected


def test_session_start_output_rejects_a_subagent_event_name() -> None:
    document = {"hookSpecificOutput": SUBAGENT_HSO}
    assert errors(validator("session-start.output"), document) == [
        (("hookSpecificOutput", "hookEventName"), "const")
    ]


# --- bundling --------------------------------------------------------------------------------


def _resources(node: object, base: str, found: dict[str, object]) -> None:
    """Map every resource ``$id`` (resolved against its parent's base) to its subschema."""
    if isinstance(node, dict):
        if isinstance(node.get("$id"), str):
            base = urljoin(base, node["$id"])
            found[urldefrag(base)[0]] = node
        for value in node.values():
            _resources(value, base, found)
    elif isinstance(node, list):
        for item in node:
            _resources(item, base, found)


def _refs(node: object, base: str) -> list[tuple[str, str]]:
    """(absolute $ref target, the ref as written) for every $ref, with 2020-12 base URIs."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        if isinstance(node.get("$id"), str):
            base = urljoin(base, node["$id"])
        if isinstance(node.get("$ref"), str):
            found.append((urljoin(base, node["$ref"]), node["$ref"]))
        for key, value in node.items():
            if key not in ("$ref", "$id"):
                found.extend(_refs(value, base))
    elif isinstance(node, list):
        for item in node:
            found.extend(_refs(item, base))
    return found


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_bundled_schema_has_no_outside_refs(name: str) -> None:
    bundle = bundled_schema(name)
    assert bundle["$id"] == schema_id(name)
    resources: dict[str, object] = {}
    _resources(bundle, "", resources)
    refs = _refs(bundle, "")
    if name == "session-start.output":
        assert set(resources) == {schema_id("session-start.output"), schema_id("env-overlay")}
        assert bundle["$defs"]["env-overlay"] == load_schema("env-overlay")
    for target, written in refs:
        uri, fragment = urldefrag(target)
        assert uri in resources, f"$ref {written!r} points outside the document"
        node: Any = resources[uri]
        for part in fragment.lstrip("/").split("/") if fragment else []:
            node = node[part.replace("~1", "/").replace("~0", "~")]
        assert isinstance(node, dict | bool), f"$ref {written!r} does not resolve"


def _all_documents() -> list[tuple[str, Doc]]:
    docs: list[tuple[str, Doc]] = [("session-start.output", d) for _l, d, _a in CODEX_VALID]
    docs += [("session-start.output", d) for _l, d, _e in INVALID_OUTPUTS]
    docs += [("env-overlay", d) for _l, d in VALID_OVERLAYS]
    docs += [("session-start.output", output(d)) for _l, d in VALID_OVERLAYS]
    docs += [("env-overlay", d) for _l, d, _e in INVALID_OVERLAYS]
    docs += [("session-start.output", output(d)) for _l, d, _e in INVALID_OVERLAYS]
    docs += [("session-start.input", VALID_INPUT)]
    docs += [("session-start.input", d) for _l, d, _e in INVALID_INPUTS]
    return docs


def test_bundled_schema_validates_like_the_validator() -> None:
    bundled = {
        name: Draft202012Validator(bundled_schema(name), registry=Registry())
        for name in SCHEMA_NAMES
    }
    for name, document in _all_documents():
        assert detailed(bundled[name], document) == detailed(validator(name), document), document


def test_bundled_default_is_the_output_schema() -> None:
    assert bundled_schema() == bundled_schema("session-start.output")
    assert "$defs" not in bundled_schema("session-start.input")


def test_check_jsonschema_accepts_the_bundled_schema(tmp_path: Path) -> None:
    executable = shutil.which("check-jsonschema")
    if executable is None:
        pytest.skip("the check-jsonschema executable is not installed")
    schema_file = tmp_path / "session-start.output.bundled.json"
    schema_file.write_text(json.dumps(bundled_schema(), indent=2), encoding="utf-8")
    valid = tmp_path / "valid.json"
    valid.write_text(json.dumps(output(dict(VALID_OVERLAYS)["spec-example"])), encoding="utf-8")
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps(output({"A": {"unset": False}})), encoding="utf-8")

    def run(document: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [executable, "--schemafile", str(schema_file), str(document)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    ok = run(valid)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = run(invalid)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "unset" in bad.stdout + bad.stderr
