"""Windows environment blocks (``envoverlay.winblock``), without Wine: rendering a spawn map
as ``CreateProcessW`` bytes, reading blocks back, and refusing what no block can hold. What a
real child sees is tested against Wine in ``tests/test_windows_probe.py``."""

from __future__ import annotations

import pytest
from compose_cases import compose_windows as compose
from compose_cases import raw_block, windows_lower
from compose_cases import windows_hook as hook
from hypothesis import given
from hypothesis import strategies as st

import envoverlay as eo
from envoverlay import windows_fold
from envoverlay.winblock import environment_block, parse_environment_block

WINDOWS = eo.rules_for("windows")
KELVIN_KEY = "\u212aEY"  # KELVIN SIGN + EY: another variable than KEY


# Block entries: any name without NUL or '=', drive-variable spellings ("=C:"), and values
# with lone surrogates, which a UTF-16 block carries (specific to environment blocks).
_plain = st.text(
    alphabet=st.characters(exclude_characters="\0=", exclude_categories=()),
    min_size=1,
    max_size=8,
)
_names = st.one_of(_plain, _plain.map(lambda name: f"={name}"))
_values = st.text(
    alphabet=st.characters(exclude_characters="\0", exclude_categories=()), max_size=12
)
_maps = st.lists(
    st.tuples(_names, _values),
    max_size=12,
    unique_by=lambda item: windows_fold(item[0]).encode("utf-16-le", "surrogatepass"),
).map(dict)


def _as_block_text(text: str) -> str:
    """``text`` as a block carries it: a surrogate pair spelled as two code points comes
    back as the one character it encodes."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


@given(_maps)
def test_parse_inverts_environment_block(env: dict[str, str]) -> None:
    block = environment_block(env)
    assert block.endswith(b"\0\0\0\0")
    expected = [(_as_block_text(n), _as_block_text(env[n])) for n in WINDOWS.sort_names(env)]
    assert parse_environment_block(block) == expected


@given(_maps, st.data())
def test_names_equal_under_windows_rules_are_refused(
    env: dict[str, str], data: st.DataObject
) -> None:
    if not env:
        return
    name = data.draw(st.sampled_from(sorted(env)))
    other = windows_fold(name) if windows_fold(name) != name else windows_lower(name)
    if other == name or windows_fold(other) != windows_fold(name):
        return
    with pytest.raises(ValueError, match="one variable on Windows"):
        environment_block({**env, other: "x"})


def test_composed_maps_always_render() -> None:
    base = {"PATH": "a", "Path": "b", "=C:": "C:\\", "π": "1", "Π": "2", "STRAßE": "3"}
    env = compose(base, hook({"path": {"prepend": "c"}, "STRASSE": "4"})).env
    assert parse_environment_block(environment_block(env)) == list(env.items())


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"": "x"}, "'' cannot be put"),
        ({"A=B": "x"}, "'A=B' cannot be put"),
        ({"=": "x"}, "'=' cannot be put"),
        ({"==C:": "x"}, "'==C:' cannot be put"),
        ({"A\0B": "x"}, "NUL"),
        ({"SECRET": "hunter\0two"}, "'SECRET' cannot be put"),
        ({"PATH": "1", "Path": "2"}, "'PATH' and 'Path' are one variable"),
        ({"\U0001f600": "1", "\ud83d\ude00": "2"}, "one variable"),
        ({"k": "1", "K": "2"}, "'k' and 'K' are one variable"),
    ],
)
def test_entries_no_block_can_hold(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        environment_block(env)
    assert "hunter" not in str(info.value)


def test_non_strings_are_type_errors() -> None:
    with pytest.raises(TypeError, match="'A'"):
        environment_block({"A": 1})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"A\0\0", "even size"),
        (b"A\0=\0x\0", "not terminated"),
        (b"A\0\0\0", "no '='"),
        (b"A\0=\0\0\0\0\0\0\0", "more code units follow"),
    ],
)
def test_malformed_blocks(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_environment_block(data)


def test_parse_reads_what_windows_produces() -> None:
    block = raw_block([("=C:", "C:\\"), ("Path", "a"), ("PATH", "b"), ("X", "=y=")])
    assert parse_environment_block(block) == [
        ("=C:", "C:\\"),
        ("Path", "a"),
        ("PATH", "b"),
        ("X", "=y="),
    ]
    assert parse_environment_block(b"\0\0") == parse_environment_block(b"\0\0\0\0") == []


def test_the_kelvin_spelling_is_another_variable_in_a_block() -> None:
    """The block's duplicate check uses the one name key: KEY and the Kelvin spelling are two
    names, exactly as compose() and protected globs see them."""
    block = environment_block({"KEY": "1", KELVIN_KEY: "2"})
    assert parse_environment_block(block) == [("KEY", "1"), (KELVIN_KEY, "2")]
