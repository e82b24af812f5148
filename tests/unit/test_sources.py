"""Sources: a layer's ``{kind, id}`` and the precedence of kinds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import envoverlay as eo


def test_kinds_are_in_precedence_order():
    assert eo.KINDS == ("inherited", "config", "provider", "hook", "thread", "runtime")
    assert eo.KINDS[1:-1] == eo.DEFAULT_PRECEDENCE


@pytest.mark.parametrize("kind", eo.KINDS)
def test_each_kind_makes_a_source(kind):
    source = eo.Source(kind, "x")
    assert (source.kind, source.id, str(source)) == (kind, "x", f"{kind}:x")
    assert source.to_json() == {"kind": kind, "id": "x"}


@pytest.mark.parametrize(
    ("kind", "layer_id", "cls", "match"),
    [
        ("plugin", "x", eo.ArgumentError, "layer kind must be one of inherited, config"),
        ("Hook", "x", eo.ArgumentError, "not 'Hook'"),
        ("", "x", eo.ArgumentError, "layer kind must be one of"),
        (None, "x", eo.ArgumentTypeError, "a layer kind is a string, not NoneType"),
        ("hook", "", eo.ArgumentError, "a layer id is a non-empty string"),
        ("hook", None, eo.ArgumentTypeError, "a layer id is a non-empty string, not NoneType"),
        ("hook", b"x", eo.ArgumentTypeError, "not bytes"),
    ],
    ids=[
        "unknown kind",
        "wrong case",
        "empty kind",
        "kind None",
        "empty id",
        "id None",
        "id bytes",
    ],
)
def test_bad_sources_are_refused_with_the_library_errors(kind, layer_id, cls, match):
    with pytest.raises(cls, match=match):
        eo.Source(kind, layer_id)


def test_ids_store_a_split_surrogate_pair_as_its_character():
    split = "hook-\ud83d\ude00"
    assert eo.Source("hook", split) == eo.Source("hook", "hook-\U0001f600")


@given(st.sampled_from(eo.KINDS), st.text(min_size=1))
def test_sources_are_hashable_values(kind, layer_id):
    one, two = eo.Source(kind, layer_id), eo.Source(kind, layer_id)
    assert one == two
    assert hash(one) == hash(two)
    assert len({one, two}) == 1
