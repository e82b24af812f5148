"""The thread-state converter (``envoverlay._convert``): one cattrs converter with one hook
per model (Op, Source, Layer, ThreadState), secret values redacted unless asked."""

from __future__ import annotations

import re

import pytest

import envoverlay as eo
from envoverlay._convert import FORMAT, VERSION, converter

OP_DOCUMENTS = [
    (eo.Op.set("A", "1"), False, {"name": "A", "op": "set", "value": "1"}),
    (eo.Op.unset("A"), False, {"name": "A", "op": "unset"}),
    (eo.Op.default("A", ""), False, {"name": "A", "op": "default", "value": ""}),
    (
        eo.Op.prepend("P", ["/a", "/b"], separator=";"),
        False,
        {"name": "P", "op": "prepend", "entries": ["/a", "/b"], "separator": ";"},
    ),
    (eo.Op.append("P", "/a"), False, {"name": "P", "op": "append", "entries": ["/a"]}),
    (
        eo.Op.set("T", "s3cret", secret=True),
        False,
        {"name": "T", "op": "set", "secret": True, "redacted": True},
    ),
    (
        eo.Op.set("T", "s3cret", secret=True),
        True,
        {"name": "T", "op": "set", "value": "s3cret", "secret": True},
    ),
    (
        eo.Op.append("P", "/secret", secret=True),
        False,
        {"name": "P", "op": "append", "secret": True, "redacted": True},
    ),
]


@pytest.mark.parametrize(("op", "include_secrets", "document"), OP_DOCUMENTS)
def test_each_op_document(op, include_secrets, document):
    assert converter(include_secrets).unstructure(op) == document
    if not op.secret or include_secrets:
        assert converter().structure(document, eo.Op) == op


def test_a_layer_document_flattens_its_source_in_a_fixed_key_order():
    layer = eo.Layer.from_ops(
        [eo.Op.set("A", "1")], kind="provider", id="dotenv:/repo", lifetime="session"
    )
    document = converter().unstructure(layer)
    assert list(document) == ["kind", "id", "lifetime", "inherit", "ops"]
    assert document["kind"] == "provider"
    assert document["id"] == "dotenv:/repo"
    assert converter().structure(document, eo.Layer) == layer


def test_a_state_document_has_the_envelope_and_no_diagnostics():
    failed = eo.parse_hook_output(b"{", hook_id="h", platform="posix")
    state = eo.ThreadState.new(thread_id="t", session_id="s").apply("startup", [failed])
    assert state.diagnostics
    document = converter().unstructure(state)
    assert list(document) == [
        "format",
        "version",
        "thread_id",
        "session_id",
        "parent_thread_id",
        "runtime",
        "layers",
    ]
    assert (document["format"], document["version"]) == (FORMAT, VERSION)
    assert converter().structure(document, eo.ThreadState) == state


# Each field the converter hands to its model as read: a value of the wrong type that
# cattrs' own hooks would have coerced (bool(1), int(True)) is refused by the model.
AS_READ_CASES = [
    pytest.param(eo.Op, {"name": "A", "op": "set", "value": "1", "secret": 1}, eo.OverlayError,
                 "secret must be true or false", id="op secret 1"),
    pytest.param(eo.Op, {"name": "A", "op": "set", "secret": True, "redacted": 1},
                 eo.OverlayError, "redacted must be true or false", id="op redacted 1"),
    pytest.param(eo.Op, {"name": "A", "op": "replace", "value": "1"}, eo.OverlayError,
                 "unknown action 'replace'", id="op unknown action"),
    pytest.param(eo.Origin, {"file": "f", "line": True}, eo.ArgumentTypeError,
                 "an int of at least 1, not True", id="origin line true"),
    pytest.param(eo.Origin, {"file": "f", "line": "3"}, eo.ArgumentTypeError,
                 "an int of at least 1, not '3'", id="origin line text"),
    pytest.param(eo.Source, {"kind": "inherited-ish", "id": "x"}, eo.ArgumentError,
                 "layer kind must be one of", id="source unknown kind"),
    pytest.param(eo.Layer, {"kind": "hook", "id": "h", "lifetime": "thread", "inherit": 1,
                            "ops": []}, eo.ArgumentTypeError, "inherit must be True or False",
                 id="layer inherit 1"),
]  # fmt: skip


@pytest.mark.parametrize(("model", "document", "error", "message"), AS_READ_CASES)
def test_fields_reach_the_model_as_read(model, document, error, message):
    with pytest.raises(error, match=re.escape(message)):
        converter().structure(document, model)


def test_ops_are_built_with_their_checks_and_their_converters_where_needed():
    # A surrogate pair held as two code points is joined, as Op(...) joins it.
    document = {"name": "A", "op": "set", "value": "\ud83d\ude00"}
    assert converter().structure(document, eo.Op) == eo.Op.set("A", "\U0001f600")
    assert converter().structure(document, eo.Op).value == "\U0001f600"
    with pytest.raises(eo.OverlayError, match="must not contain '='"):
        converter().structure({"name": "A=B", "op": "unset"}, eo.Op)
