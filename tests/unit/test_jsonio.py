"""Unit tests of envoverlay._jsonio: strict JSON, its depth limit and duplicate keys."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envoverlay._jsonio import MAX_JSON_DEPTH, _too_deep, load_json


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
