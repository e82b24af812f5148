"""Fuzzing the hook parser: nothing a hook prints can make the parser or `check` raise,
and the overlay parser agrees with the JSON Schema on what is well-formed."""

from __future__ import annotations

import json

from hypothesis import example, given, settings
from hypothesis import strategies as st

import envoverlay as eo
from envoverlay.cli import main
from envoverlay.schemas import validator

ENV_CODES = {"invalid-op", "invalid-overlay", "invalid-name", "nul", "duplicate-key"}

json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
op_keys = st.sampled_from(
    ["set", "default", "unset", "prepend", "append", "separator", "secret", "x"]
)
op_objects = st.dictionaries(
    op_keys,
    st.one_of(
        st.text(max_size=5),
        st.booleans(),
        st.none(),
        st.integers(),
        st.lists(st.one_of(st.text(max_size=5), st.integers()), max_size=3),
    ),
    max_size=3,
)
names = st.one_of(
    st.sampled_from(["PATH", "A", "A=B", "", "π", "Π", "my-var", "X\x00"]), st.text(max_size=5)
)
overlays = st.dictionaries(
    names, st.one_of(st.text(max_size=6), st.none(), op_objects, json_values), max_size=4
)


@st.composite
def documents(draw: st.DrawFn) -> object:
    doc: dict[str, object] = {}
    if draw(st.booleans()):
        doc["continue"] = draw(st.one_of(st.booleans(), json_scalars))
    if draw(st.booleans()):
        doc["systemMessage"] = draw(st.one_of(st.text(max_size=5), json_scalars))
    if draw(st.booleans()):
        specific: dict[str, object] = {
            "hookEventName": draw(st.sampled_from(["SessionStart", "SessionStart", "Stop", None]))
        }
        if draw(st.booleans()):
            specific["env"] = draw(st.one_of(overlays, overlays, json_values))
        if draw(st.booleans()):
            specific[draw(st.sampled_from(["additionalContext", "extra"]))] = draw(json_scalars)
        doc["hookSpecificOutput"] = specific
    if draw(st.integers(0, 9)) == 0:
        doc[draw(st.text(max_size=4))] = draw(json_values)
    return doc


@given(
    st.binary(max_size=512),
    st.sampled_from(["posix", "windows"]),
    st.sampled_from([0, 0, 0, 1, None]),
)
def test_arbitrary_bytes_never_raise(data, platform, exit_code):
    hook = eo.parse_hook_output(data, hook_id="fuzz", platform=platform, exit_code=exit_code)
    assert hook.ok == (not hook.errors)
    if hook.layer is not None:
        assert hook.exit_code == 0


@given(st.text(max_size=256))
def test_arbitrary_text_never_raises(text):
    """Codex's stdout semantics for any text: empty is nothing, text that does not start like
    JSON is plain context, anything else is one JSON object or an error."""
    hook = eo.parse_hook_output(text, hook_id="fuzz")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: not UTF-8 output
        assert [d.code for d in hook.errors] == ["invalid-utf8"]
        return
    stripped = text.strip()
    if not stripped:
        assert (hook.errors, hook.layer, hook.additional_context) == ((), None, None)
    elif stripped[0] not in "{[":
        assert (hook.errors, hook.layer, hook.additional_context) == ((), None, stripped)
    else:  # JSON: a layer only from output that breaks no rule
        assert hook.layer is None or hook.ok


@given(documents(), st.sampled_from(["posix", "windows"]))
def test_structured_documents_never_raise(document, platform):
    stdout = json.dumps(document)
    hook = eo.parse_hook_output(stdout, hook_id="fuzz", platform=platform)
    for diagnostic in hook.errors:
        assert diagnostic.pointer is not None
        assert diagnostic.hint


@given(documents())
# Regression: found by a 20,000-example run; the parser once treated a null env as absent.
@example({"hookSpecificOutput": {"hookEventName": "SessionStart", "env": None}})
def test_overlay_parser_agrees_with_the_schema(document):
    """A document the schema accepts yields no shape error from the overlay parser, and a
    document whose env the schema rejects yields at least one overlay error."""
    schema_errors = list(validator("session-start.output").iter_errors(document))
    env_schema_errors = [
        e for e in schema_errors if list(e.absolute_path)[:2] == ["hookSpecificOutput", "env"]
    ]
    other_schema_errors = [e for e in schema_errors if e not in env_schema_errors]
    hook = eo.parse_hook_output(json.dumps(document), hook_id="fuzz", platform="posix")
    env_errors = [
        d
        for d in hook.errors
        if d.pointer is not None and d.pointer.startswith("/hookSpecificOutput/env")
    ]
    shape_errors = [d for d in env_errors if d.code in {"invalid-op", "invalid-overlay"}]
    if not schema_errors:
        assert not shape_errors, [d.describe() for d in shape_errors]
    specific = document.get("hookSpecificOutput") if isinstance(document, dict) else None
    if env_schema_errors and not other_schema_errors and isinstance(specific, dict):
        assert env_errors, [e.message for e in env_schema_errors]


@settings(max_examples=60)
@given(st.binary(max_size=256))
def test_check_cli_never_raises(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "out"
    path.write_bytes(data)
    for fmt in ("text", "json"):
        assert main(["check", str(path), "--format", fmt, "--platform", "posix"]) in (0, 1)
