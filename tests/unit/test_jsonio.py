"""Unit tests of envoverlay._jsonio: strict JSON, its depth limit and duplicate keys."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envoverlay._jsonio import MAX_JSON_DEPTH, _too_deep, load_json, strict_loads


def deepest(text: str) -> int:
    """The deepest bracket nesting outside strings, one character at a time (the
    reference the C-level scan must agree with, malformed text included)."""
    depth = most = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
            most = max(most, depth)
        elif char in "}]":
            depth -= 1
    return most


PIECES = ["{", "[", "}", "]", '"', "\\", "a", ":", "{" * 30, "[" * 40, "]" * 20, '"' * 3, '\\"']


@settings(max_examples=500)
@given(st.lists(st.sampled_from(PIECES), max_size=60).map("".join))
def test_the_depth_scan_agrees_with_a_character_scan(text: str) -> None:
    assert _too_deep(text) == (deepest(text) > MAX_JSON_DEPTH)


@pytest.mark.parametrize(
    ("text", "too_deep"),
    [
        ("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH, False),
        ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), True),
        (json.dumps({"a": "[" * 100}), False),  # brackets in a string do not count
        (json.dumps({"a": '\\"' + "{" * 100}), False),  # nor after an escaped quote
        ('"' + "[" * 100, False),  # an unterminated string runs to the end
    ],
)
def test_depth_limit(text: str, too_deep: bool) -> None:
    _, problems = load_json(text, what="input")
    assert _too_deep(text) is too_deep
    assert any("deeper" in p.message for p in problems) is too_deep


@pytest.mark.parametrize(
    ("text", "pointers"),
    [
        ('{"a": 1, "a": 2}', ["/a"]),
        ('{"b": {"c": 1, "c": 2, "c": 3}}', ["/b/c", "/b/c"]),
        ('{"x/y": [{"k": 1, "k": 1}]}', ["/x~1y/0/k"]),
        ('{"a": 1, "b": {"a": 2}}', []),
    ],
)
def test_duplicate_keys_are_reported_with_their_pointer(text: str, pointers: list[str]) -> None:
    _, problems = load_json(text, what="input")
    assert [p.pointer for p in problems] == pointers
    assert {p.code for p in problems} <= {"duplicate-key"}


# -- strict_loads: load_json's verdict without its report -----------------------------------

STRICT_CASES = [
    ('{"a": 1, "a": 2}', "more than once"),
    ('{"b": {"c": 1, "c": 2}}', "more than once"),
    ('[{"k": 1}, {"k": 1, "k": 1}]', "more than once"),
    ('{"a": NaN}', "NaN is not valid JSON"),
    ("[Infinity]", "Infinity is not valid JSON"),
    ("-Infinity", "-Infinity is not valid JSON"),
    ("{", "Expecting property name"),
    ('{"a": 1, "b": {"a": 2}}', None),
    ('{"a": [1, 2.5, "x", null, true]}', None),
]


@pytest.mark.parametrize(("text", "refusal"), STRICT_CASES)
def test_strict_loads_refuses_what_load_json_reports(text: str, refusal: str | None) -> None:
    document, problems = load_json(text, what="input")
    assert (problems == []) is (refusal is None)
    if refusal is None:
        assert strict_loads(text) == document == json.loads(text)
    else:
        with pytest.raises(ValueError, match=refusal):  # JSONDecodeError is one too
            strict_loads(text)


# Objects with keys from a small pool, so that keys repeat often (specific to this test).
repeating_objects = st.recursive(
    st.none() | st.integers() | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3).map(json.dumps).map(json.loads)
        | st.lists(st.tuples(st.sampled_from("abc"), inner), max_size=4).map(
            lambda pairs: {"__pairs__": pairs}
        )
    ),
    max_leaves=12,
)


def written(value: object) -> str:
    """JSON text of ``value``, writing the pairs of a ``{"__pairs__": ...}`` object as they
    are, repeated keys included."""
    if isinstance(value, dict):
        members = ", ".join(f"{json.dumps(k)}: {written(v)}" for k, v in value["__pairs__"])
        return "{" + members + "}"
    if isinstance(value, list):
        return "[" + ", ".join(map(written, value)) + "]"
    return json.dumps(value)


@given(repeating_objects.map(written))
def test_strict_loads_and_load_json_agree(text: str) -> None:
    document, problems = load_json(text, what="input")
    try:
        parsed = strict_loads(text)
    except ValueError:
        assert problems
    else:
        assert problems == []
        assert parsed == document
