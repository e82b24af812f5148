"""Serialization: round trips, canonical text, secrets, and errors that say what and where."""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Callable

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import LAYER_KINDS, json_values, layers, origins

import envoverlay as eo

# Thread and session ids: any text without NUL (specific to the state document).
ids = st.text(alphabet=st.characters(blacklist_characters="\0"), min_size=1, max_size=5)


@st.composite
def states(draw: st.DrawFn) -> eo.ThreadState:
    stack = draw(layers(kinds=LAYER_KINDS[:-1], origins=origins))
    return eo.ThreadState.new(
        thread_id=draw(ids),
        session_id=draw(ids),
        parent_thread_id=draw(st.none() | ids),
        layers=stack,
        runtime=draw(st.sampled_from([{}, dict(eo.CODEX_RUNTIME)])),
    )


def composed(state: eo.ThreadState) -> dict[str, str]:
    return eo.compose({"PATH": "/usr/bin", "HOME": "/h"}, state.layers, platform="posix").env


@given(states())
def test_round_trip_with_secrets_is_exact(state):
    text = eo.dumps(state, include_secrets=True)
    assert eo.loads(text) == state
    assert eo.dumps(eo.loads(text), include_secrets=True) == text


@given(states())
def test_round_trip_composes_the_same_env_secrets_aside(state):
    restored = eo.loads(eo.dumps(state))
    secret_names = {op.name for layer in state.layers for op in layer.ops if op.secret}
    original = {k: v for k, v in composed(state).items() if k not in secret_names}
    again = {k: v for k, v in composed(restored).items() if k not in secret_names}
    assert again == original


@given(states())
def test_dumps_is_stable_and_canonical(state):
    text = eo.dumps(state)
    assert eo.dumps(state) == text
    assert eo.dumps(eo.loads(text)) == text
    assert text.endswith("\n")
    assert json.loads(text)["format"] == "envoverlay.thread"


@given(states())
def test_no_secret_value_in_the_default_dump(state):
    text = eo.dumps(state)
    document = json.loads(text)
    for layer in document["layers"]:
        for op in layer["ops"]:
            if op.get("secret"):
                assert op.get("redacted") is True
                assert "value" not in op
                assert "entries" not in op


@given(states(), st.data())
def test_random_corruptions_raise_only_state_error(state, data):
    text = eo.dumps(state, include_secrets=True).encode()
    position = data.draw(st.integers(0, len(text)))
    mode = data.draw(st.sampled_from(["truncate", "flip", "insert", "delete"]))
    if mode == "truncate":
        corrupt = text[:position]
    elif mode == "flip":
        byte = data.draw(st.integers(0, 255))
        corrupt = text[:position] + bytes([byte]) + text[position + 1 :]
    elif mode == "insert":
        corrupt = text[:position] + data.draw(st.binary(min_size=1, max_size=4)) + text[position:]
    else:
        corrupt = text[:position] + text[position + 3 :]
    try:
        outcome: object = eo.loads(corrupt)  # a corruption may still be a valid state
    except eo.StateError as error:  # any other exception fails the test
        outcome = error
    if isinstance(outcome, eo.ThreadState):  # a state: one that writes and reads back as itself
        assert eo.loads(eo.dumps(outcome, include_secrets=True)) == outcome
    else:  # an error whose message says what is wrong with the thread state
        assert "thread state" in str(outcome), str(outcome)


def hook_state(overlay: dict[str, object], **kwargs: object) -> eo.ThreadState:
    """Thread t1 (session s1) holding one hook layer made from ``overlay``."""
    layer = eo.Layer.from_overlay(overlay, kind="hook", id="h")
    return eo.ThreadState.new(thread_id="t1", session_id="s1", layers=[layer], **kwargs)


def valid_document() -> dict:
    return json.loads(eo.dumps(hook_state({"A": "1"}, runtime=eo.CODEX_RUNTIME)))


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda d: d.update(version=2), "newer envoverlay .*version 2.*upgrade"),
        (lambda d: d.update(format="something.else"), "not an envoverlay thread state"),
        (lambda d: d.pop("format"), "not an envoverlay thread state"),
        (lambda d: d.update(version="1"), "/version"),
        (lambda d: d["layers"][0].update(kind="runtime"), "/layers/0/kind"),
        (lambda d: d["layers"][0]["ops"][0].update(op="replace"), "/layers/0/ops/0/op"),
        (lambda d: d["layers"][0]["ops"][0].pop("value"), "/layers/0/ops/0"),
        (lambda d: d["layers"][0]["ops"][0].update(name="A=B"), "/layers/0/ops/0/name"),
        (lambda d: d["layers"][0]["ops"][0].update(value="x\u0000"), "/layers/0/ops/0/value"),
        (lambda d: d.update(extra=True), "extra"),
        (lambda d: d["runtime"]["env"].update(X="{nope}"), "not a placeholder"),
        (lambda d: d.update(thread_id=""), "/thread_id"),
    ],
    ids=[
        "newer version",
        "other format",
        "no format",
        "version as string",
        "runtime layer kind",
        "unknown op",
        "set without value",
        "bad name",
        "NUL value",
        "unknown field",
        "bad runtime template",
        "empty thread id",
    ],
)
def test_malformed_documents_name_what_and_where(mutate, match):
    document = valid_document()
    mutate(document)
    with pytest.raises(eo.StateError, match=match):
        eo.loads(json.dumps(document))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (b"", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[]", "JSON object"),
        (b'{"format": "envoverlay.thread", "format": "x"}', "duplicate"),
        (b"{" * 200, "deeper"),
    ],
    ids=["empty", "not utf-8", "array", "duplicate key", "deep nesting"],
)
def test_unparseable_documents(text, match):
    with pytest.raises(eo.StateError, match=match):
        eo.loads(text)


def test_state_error_is_the_library_error():
    assert issubclass(eo.StateError, eo.EnvOverlayError)


def test_redacted_secret_repr_and_dump_hold_no_value():
    state = hook_state(
        {
            "TOKEN": {"set": "s3cret", "secret": True},
            "P": {"prepend": ["/secret/dir"], "secret": True},
        }
    )
    assert "s3cret" not in repr(state)
    text = eo.dumps(state)
    assert "s3cret" not in text
    assert "/secret/dir" not in text
    assert "s3cret" in eo.dumps(state, include_secrets=True)


def test_schema_errors_never_quote_a_rejected_value():
    state = hook_state({"TOKEN": {"set": "hunter2-secret", "secret": True}})
    document = json.loads(eo.dumps(state, include_secrets=True))
    document["layers"][0]["ops"][0]["value"] = "hunter2-secret\u0000"  # now invalid
    with pytest.raises(eo.StateError) as info:
        eo.loads(json.dumps(document))
    assert "/layers/0/ops/0/value" in str(info.value)
    assert "hunter2" not in str(info.value)


# -- the canonical fast path -------------------------------------------------------------------
# loads() skips the schema pass for a text that is byte for byte what dumps writes; that is
# sound only if everything dumps writes is valid under the schema, and if the strict path
# would have given the same state.


@given(states(), st.booleans())
def test_everything_dumps_writes_is_valid_under_the_schema(state, include_secrets):
    from envoverlay.schemas import validator

    document = json.loads(eo.dumps(state, include_secrets=include_secrets))
    assert list(validator("thread-state").iter_errors(document)) == []


@given(states(), st.booleans())
def test_the_fast_path_gives_what_the_strict_path_gives(state, include_secrets):
    from envoverlay.serialize import _round_trip_state, from_document

    text = eo.dumps(state, include_secrets=include_secrets)
    fast = _round_trip_state(text)
    assert fast is not None
    assert fast == from_document(json.loads(text))
    assert eo.loads(text) == fast


def outcome(load: Callable[[], eo.ThreadState]) -> object:
    """The state ``load`` returns, or the type and message of the error it raises."""
    try:
        return load()
    except eo.StateError as error:
        return type(error), str(error)


def json_paths(value: object, path: tuple = ()) -> list[tuple]:
    """The path of every value in a JSON document, the document's own included."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += json_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += json_paths(item, (*path, index))
    return found


# What an edit may put in a document: the types a state holds and the ones == confuses with
# them (1 and true, 1 and 1.0), and the strings its fields hold (specific to this test).
edited_values = st.one_of(
    st.sampled_from([None, True, False, 0, 1, 2, 1.0, "", [], {}, ["/a"]]),
    st.just({"file": "f", "line": 1}),
    st.sampled_from(["A", "A=B", "x\0", "set", "unset", "prepend", "hook", "runtime", "thread"]),
    json_values(floats=False),
)


@given(states(), st.booleans(), st.data())
def test_the_fast_and_strict_paths_agree_on_edited_documents(state, include_secrets, data):
    """An edited document — a value replaced, a key removed or added — loads as the strict
    path alone loads it: the same state, or the same error with the same message. The fast
    path takes only documents that dumps writes, whatever their layout."""
    from envoverlay.serialize import _round_trip_state, from_document

    document = json.loads(eo.dumps(state, include_secrets=include_secrets))
    path = data.draw(st.sampled_from(json_paths(document)))
    parent = functools.reduce(operator.getitem, path[:-1], document)
    edit = data.draw(st.sampled_from(["replace", "remove", "add"]))
    if edit == "add" or not path:
        target = functools.reduce(operator.getitem, path, document)
        if isinstance(target, dict):
            target[data.draw(st.sampled_from(["extra", "value", "secret", "origin"]))] = data.draw(
                edited_values
            )
        elif isinstance(target, list):
            target.append(data.draw(edited_values))
    elif edit == "remove":
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(edited_values)
    layout = data.draw(st.sampled_from([None, 2]))
    text = json.dumps(document, indent=layout)
    fast = _round_trip_state(text)
    strict = outcome(lambda: from_document(json.loads(text)))
    if fast is not None:  # a document that dumps writes for the state it holds
        assert fast == strict
        assert eo.dumps(fast, include_secrets=True) == json.dumps(document, indent=2) + "\n"
    assert outcome(lambda: eo.loads(text)) == strict


def test_a_state_in_another_layout_takes_the_fast_path():
    from envoverlay.serialize import _round_trip_state

    state = hook_state({"A": "1"})
    compact = json.dumps(json.loads(eo.dumps(state)))  # what dumps writes, laid out otherwise
    assert _round_trip_state(compact) == state
    assert eo.loads(compact) == state


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('"value": "1"', '"value": "1", "secret": false'),
        ('"inherit": true', '"inherit": true, "extra": 1'),
        ('"thread_id": "t1"', '"thread_id": "t0", "thread_id": "t1"'),
        ('"op": "set"', '"op": "set", "origin": null'),
    ],
    ids=["a default written out", "an unknown key", "a repeated key", "an origin of null"],
)
def test_a_document_dumps_would_not_write_takes_the_strict_path(old, new):
    from envoverlay.serialize import _round_trip_state

    text = json.dumps(json.loads(eo.dumps(hook_state({"A": "1"}))))
    edited = text.replace(old, new)
    assert edited != text
    assert _round_trip_state(edited) is None
    assert outcome(lambda: eo.loads(edited)) == outcome(lambda: from_json_strictly(edited))


def from_json_strictly(text: str) -> eo.ThreadState:
    """The strict path alone: load_json's reading, then the schema and the models."""
    from envoverlay._jsonio import load_json
    from envoverlay.diagnostics import summarize
    from envoverlay.serialize import from_document

    document, problems = load_json(text, what="thread state")
    if problems:
        raise eo.StateError(summarize("thread state is not valid JSON:", problems), problems)
    return from_document(document)


@pytest.mark.parametrize(
    ("old", "new", "pointer"),
    [
        ('"inherit": true', '"inherit": 1', "/layers/0/inherit"),
        ('"value": "1"', '"value": "1", "secret": 1', "/layers/0/ops/0/secret"),
        ('"version": 1', '"version": true', "/version"),
        ('"version": 1', '"version": 1.0', None),
        ('"op": "set"', '"op": "set", "origin": {"file": "f", "line": true}', "/line"),
        ('"op": "set"', '"op": "set", "origin": {"file": "f", "line": 1.0}', None),
    ],
    ids=["inherit 1", "secret 1", "version true", "version 1.0", "line true", "line 1.0"],
)
def test_values_that_equal_the_right_ones_in_python_are_not_taken_for_them(old, new, pointer):
    """1 == True and 1 == 1.0 in Python: the fast path compares documents, so a 1 for a flag
    or a true for a line must never pass as what dumps would write."""
    from envoverlay.serialize import _round_trip_state

    text = eo.dumps(hook_state({"A": "1"})).replace(old, new, 1)
    assert _round_trip_state(text) is None
    strict = outcome(lambda: from_json_strictly(text))
    assert outcome(lambda: eo.loads(text)) == strict
    if pointer is not None:
        assert isinstance(strict, tuple)
        assert pointer in strict[1]


@pytest.mark.parametrize("bad", ["0", "1", '"yes"', "null", "NaN", "Infinity", "[1]"])
def test_a_canonical_looking_text_with_a_wrong_type_is_refused(bad):
    """The fast path builds the model first: a value of the wrong type that the model would
    carry through dumps unchanged must still be refused (found in review: inherit: 0)."""
    state = hook_state({"A": "1"})
    text = eo.dumps(state).replace('"inherit": true', f'"inherit": {bad}')
    with pytest.raises(eo.StateError, match=r"inherit|not valid JSON"):
        eo.loads(text)


def test_models_refuse_non_boolean_flags():
    with pytest.raises(eo.ArgumentTypeError, match="inherit must be True or False"):
        eo.Layer(eo.Source("hook", "h"), (), "thread", 0)  # type: ignore[arg-type]
    with pytest.raises(eo.OverlayError, match="redacted must be true or false"):
        eo.Op("A", "set", secret=True, redacted=1)  # type: ignore[arg-type]


def test_store_saves_values_holding_escaped_bytes(tmp_path):
    """A value with an undecodable byte (U+DC80..U+DCFF from a non-UTF-8 environment) once
    made save() crash with UnicodeEncodeError."""
    layer = eo.Layer.from_ops([eo.Op.set("X", "caf\udce9")], kind="provider", id="diff")
    state = eo.ThreadState.new(thread_id="t1", session_id="s", layers=[layer])
    store = eo.ThreadStore(tmp_path / "store")
    store.save(state)
    assert store.load("t1") == state
    assert eo.dumps(state).isascii()


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


def test_serialize_keeps_its_names():
    from envoverlay import _convert, serialize

    assert (serialize.FORMAT, serialize.VERSION) == (_convert.FORMAT, _convert.VERSION)


# The canonical writer handles what a state document holds: no floats.
json_values_without_floats = json_values(floats=False)


@given(json_values_without_floats)
def test_the_canonical_writer_writes_what_json_writes_indented(value):
    from envoverlay.serialize import _indented

    out: list[str] = []
    _indented(value, "\n", out)
    assert "".join(out) == json.dumps(value, indent=2, ensure_ascii=True)


def test_a_state_without_origins_dumps_as_before_origins_existed():
    # The text 0.1's dumps wrote for this state, byte for byte: an op without an origin
    # writes no "origin" key, so existing documents and their digests stay the same.
    ops = [eo.Op.set("A", "1"), eo.Op.prepend("PATH", ["/x/bin"]), eo.Op.unset("B"),
           eo.Op.set("K", "s", secret=True)]  # fmt: skip
    state = eo.ThreadState(
        "t1", "s1", layer_stack=[eo.Layer.from_ops(ops, kind="hook", id="setup")]
    )
    before = (
        '{\n  "format": "envoverlay.thread",\n  "version": 1,\n  "thread_id": "t1",\n'
        '  "session_id": "s1",\n  "parent_thread_id": null,\n  "runtime": {\n'
        '    "id": "runtime",\n    "env": {}\n  },\n  "layers": [\n    {\n'
        '      "kind": "hook",\n      "id": "setup",\n      "lifetime": "thread",\n'
        '      "inherit": true,\n      "ops": [\n        {\n          "name": "A",\n'
        '          "op": "set",\n          "value": "1"\n        },\n        {\n'
        '          "name": "PATH",\n          "op": "prepend",\n          "entries": [\n'
        '            "/x/bin"\n          ]\n        },\n        {\n          "name": "B",\n'
        '          "op": "unset"\n        },\n        {\n          "name": "K",\n'
        '          "op": "set",\n          "secret": true,\n          "redacted": true\n'
        "        }\n      ]\n    }\n  ]\n}\n"
    )
    assert eo.dumps(state) == before
    assert eo.loads(before) == attrs.evolve(
        state,
        layer_stack=[
            attrs.evolve(state.layer_stack[0], ops=(*ops[:3], ops[3].without_secret_value()))
        ],
    )


def test_an_env_files_origins_survive_dumps_and_loads():
    result = eo.read_shell_env_file(
        "# setup\nexport TOOL_HOME=/opt/tool\nexport API_TOKEN=t\n", {}, label="CLAUDE_ENV_FILE"
    )
    layer = result.layer(id="setup")
    assert layer is not None
    state = eo.ThreadState("t1", "s1", layer_stack=[layer])
    text = eo.dumps(state)
    assert '"origin": {\n            "file": "CLAUDE_ENV_FILE",\n            "line": 2\n' in text
    loaded = eo.loads(text)
    assert [op.origin for op in loaded.layer_stack[0].ops] == [
        eo.Origin("CLAUDE_ENV_FILE", 2),
        eo.Origin("CLAUDE_ENV_FILE", 3),  # a redacted secret keeps its line
    ]
    assert eo.loads(eo.dumps(state, include_secrets=True)) == state


@pytest.mark.parametrize(
    "origin", [{"file": "", "line": 1}, {"file": "F", "line": 0}, {"file": "F"},
               {"file": "F", "line": 1, "column": 2}, {"file": "F", "line": "1"}],
)  # fmt: skip
def test_a_malformed_origin_is_refused(origin):
    document = json.loads(eo.dumps(hook_state({"A": "1"})))
    document["layers"][0]["ops"][0]["origin"] = origin
    with pytest.raises(eo.StateError, match="origin"):
        eo.loads(json.dumps(document))
