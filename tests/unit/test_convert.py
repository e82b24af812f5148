"""The thread-state converter (``envoverlay._convert``): one cattrs converter with one hook
per model (Op, Source, Layer, ThreadState), secret values redacted unless asked."""

from __future__ import annotations

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
