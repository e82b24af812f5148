"""Invariants of compose(), checked with hypothesis."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import envoverlay as eo
from envoverlay import windows_fold

PLATFORMS = st.sampled_from(["posix", "windows"])

# Names drawn from a small pool so that collisions (and Windows case variants) are common.
NAME_POOL = [
    "PATH",
    "Path",
    "path",
    "HOME",
    "home",
    "FOO",
    "Foo",
    "BAR",
    "STRAßE",
    "STRASSE",
    "π",
    "Π",
    "LD_LIBRARY_PATH",
    "CODEX_THREAD_ID",
    "codex_thread_id",
    "X1",
    "_",
]
names = st.sampled_from(NAME_POOL)
values = st.text(
    alphabet=st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=12
)
# Entries may be empty or hold a separator: an op splits them there (SPEC §2).
entries = st.lists(st.text(alphabet="/abcABC:;", min_size=0, max_size=6), min_size=1, max_size=4)


@st.composite
def ops(draw: st.DrawFn) -> eo.Op:
    name = draw(names)
    action = draw(st.sampled_from(["set", "unset", "default", "prepend", "append"]))
    secret = draw(st.booleans())
    if action == "set":
        return eo.Op.set(name, draw(values), secret=secret)
    if action == "default":
        return eo.Op.default(name, draw(values), secret=secret)
    if action == "unset":
        return eo.Op.unset(name)
    factory = eo.Op.prepend if action == "prepend" else eo.Op.append
    return factory(name, draw(entries), secret=secret)


bases = st.dictionaries(names, values, max_size=8)
KINDS = ["config", "provider", "hook", "thread", "runtime"]


@st.composite
def layers(draw: st.DrawFn, kinds: list[str] = KINDS) -> list[eo.Layer]:
    count = draw(st.integers(0, 5))
    return [
        eo.Layer.from_ops(
            draw(st.lists(ops(), max_size=6)), kind=draw(st.sampled_from(kinds)), id=f"l{i}"
        )
        for i in range(count)
    ]


@given(bases, layers(), PLATFORMS, st.sampled_from(["warn", "deny", "allow"]))
def test_compose_is_deterministic(base, layer_list, platform, sensitive):
    first = eo.compose(base, layer_list, platform=platform, sensitive=sensitive)
    second = eo.compose(dict(base), list(layer_list), platform=platform, sensitive=sensitive)
    assert list(first.env.items()) == list(second.env.items())
    assert first.diagnostics == second.diagnostics
    assert repr(first) == repr(second)


@given(bases, layers(kinds=["config", "provider", "hook", "thread"]), PLATFORMS)
def test_no_non_runtime_layer_changes_a_protected_name(base, layer_list, platform):
    protected = ["CODEX_THREAD_ID", "HOME"]
    result = eo.compose(base, layer_list, platform=platform, protected=protected)
    key = windows_fold if platform == "windows" else (lambda n: n)
    env_by_key = {key(n): v for n, v in result.env.items()}
    # The base resolved as a child sees it: the first spelling of each name wins.
    base_by_key: dict[str, str] = {}
    for name, value in base.items():
        base_by_key.setdefault(key(name), value)
    for name in protected:
        assert env_by_key.get(key(name)) == base_by_key.get(key(name))
    touched = {key(op.name) for layer in layer_list for op in layer.ops}
    for name in protected:
        if key(name) in touched:
            assert any(d.code == "protected" for d in result.errors)


@given(bases, layers(), PLATFORMS)
def test_runtime_layer_always_wins(base, layer_list, platform):
    runtime = eo.Layer.from_ops([eo.Op.set("CODEX_THREAD_ID", "t-1")], kind="runtime", id="rt")
    result = eo.compose(base, [runtime, *layer_list], platform=platform)
    key = windows_fold if platform == "windows" else (lambda n: n)
    runtime_sets = [
        op
        for layer in layer_list
        if layer.kind == "runtime"
        for op in layer.ops
        if key(op.name) == key("CODEX_THREAD_ID")
    ]
    if not runtime_sets:
        assert {key(n): v for n, v in result.env.items()}[key("CODEX_THREAD_ID")] == "t-1"


@given(bases, layers())
def test_windows_result_never_holds_two_equal_names(base, layer_list):
    result = eo.compose(base, layer_list, platform="windows")
    folded = [windows_fold(name) for name in result.env]
    assert len(folded) == len(set(folded))
    assert folded == sorted(folded, key=lambda k: k.encode("utf-16-be", "surrogatepass"))


@given(bases, st.lists(ops(), max_size=8), PLATFORMS, st.sampled_from(KINDS[:-1]))
def test_applying_a_layer_twice_equals_once(base, op_list, platform, kind):
    # Each variable gets one op per layer, as in the overlay format.
    seen: set[str] = set()
    key = windows_fold if platform == "windows" else (lambda n: n)
    unique = []
    for op in op_list:
        if key(op.name) not in seen:
            seen.add(key(op.name))
            unique.append(op)
    layer = eo.Layer.from_ops(unique, kind=kind, id="once")
    twice = eo.Layer.from_ops(unique, kind=kind, id="twice")
    once_env = eo.compose(base, [layer], platform=platform).env
    twice_env = eo.compose(base, [layer, twice], platform=platform).env
    assert once_env == twice_env


@given(bases, layers(), PLATFORMS)
def test_secrets_only_in_the_spawn_map(base, layer_list, platform):
    result = eo.compose(base, layer_list, platform=platform)
    redacted = result.redacted_env()
    assert list(redacted) == list(result.env)
    for name in result.env:
        if result.is_secret(name):
            assert redacted[name] == eo.REDACTED
            assert result.provenance(name).shown_value == eo.REDACTED
        else:
            assert redacted[name] == result.env[name]


@given(bases, layers(), PLATFORMS)
def test_provenance_value_matches_the_spawn_map(base, layer_list, platform):
    result = eo.compose(base, layer_list, platform=platform)
    for name, value in result.env.items():
        provenance = result.provenance(name)
        assert provenance.name == name
        assert provenance.value == value
        assert provenance.history
        applied = [step for step in provenance.history if step.status == "applied"]
        assert applied[-1].value == value
        assert applied[-1].source == provenance.source
    for name, provenance in result.removed.items():
        assert provenance.value is None
        key = windows_fold if platform == "windows" else (lambda n: n)
        assert key(name) not in {key(n) for n in result.env}


@given(st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=6), PLATFORMS)
def test_any_base_map_composes_without_raising(base, platform):
    result = eo.compose(base, [], platform=platform)
    for name, value in result.env.items():
        assert "\0" not in name
        assert "\0" not in value
        assert name
        assert "=" not in name[1:]


drive_names = st.sampled_from(["=C:", "=c:", "=D:", "==C:", "=", "A=B", "=::", "=Ω:"])


@given(
    st.dictionaries(st.one_of(names, drive_names), values, max_size=8),
    layers(),
    PLATFORMS,
)
def test_the_fast_intake_agrees_with_the_careful_one(base, layer_list, platform):
    """compose() checks a clean base with C-level scans and looks at each entry otherwise;
    an entry no block can hold (here an empty name) forces the careful path, and apart from
    that entry's own diagnostic the two agree."""
    fast = eo.compose(base, layer_list, platform=platform)
    careful = eo.compose({**base, "": "forces the careful path"}, layer_list, platform=platform)
    assert list(careful.env.items()) == list(fast.env.items())
    extra = [d for d in careful.diagnostics if d not in fast.diagnostics]
    assert [(d.code, d.name) for d in extra] == [("invalid-name", "")]
    assert len(careful.diagnostics) == len(fast.diagnostics) + 1
