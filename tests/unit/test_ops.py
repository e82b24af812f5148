"""Unit tests of envoverlay.ops: what each op does to a value, and the one path-list engine
(:class:`~envoverlay.ops.PathList`) behind apply_op, compose()'s fold and provenance."""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest
from compose_cases import (
    E_ACUTE_CAPITAL,
    E_ACUTE_SMALL,
    PI_SMALL,
    POSIX_LIMIT,
    WINDOWS_LIMIT,
    A,
    D,
    P,
    S,
    U,
    layer,
)  # fmt: skip
from hypothesis import example, given
from hypothesis import strategies as st
from strategies import (
    NAME_POOL,
    PLATFORMS,
    fold_names,
    origins,
    separator_texts,
    separators,
)
from strategies import ops as valid_ops

import envoverlay as eo
from envoverlay._names import list_separator, name_key, variable_size
from envoverlay.ops import PathList, apply_op, new_entries


def fold_ops(
    base: str | None, ops: list[eo.Op], platform: eo.Platform
) -> tuple[str | None, list[str | None]]:
    """The value after each op, applied one at a time with apply_op."""
    value, values = base, []
    for op in ops:
        value = apply_op(
            value, op, separator=list_separator(platform), entry_key=name_key(platform)
        )
        values.append(value)
    return value, values


def composed(base: str | None, ops: list[eo.Op], platform: eo.Platform) -> eo.ComposeResult:
    layer = eo.Layer.from_ops(ops, kind="hook", id="h")
    return eo.compose({} if base is None else {"P": base}, [layer], platform=platform)


# -- the bugs of 0.1.0, each a row: compose, op-by-op and provenance must all say `after` --

ENGINE_CASES = [
    pytest.param("posix", ":", [A("P", "/a", separator="::"), P("P", "/a", separator="::")],
                 "/a:::::/a", id="two-char separator over ':' (0.1.0 spawn map: '/a:::')"),
    pytest.param("posix", "x:", [A("P", "y", separator="::"), A("P", "z", separator="::")],
                 "x:::y::z", id="two-char separator, entry ending in its first char"),
    pytest.param("posix", None, [P("P", "/repo/bin:")], "/repo/bin",
                 id="trailing separator on an absent list (0.1.0: '/repo/bin:')"),
    pytest.param("posix", "/usr/bin", [P("P", "/repo/bin:")], "/repo/bin:/usr/bin",
                 id="trailing separator (0.1.0: '/repo/bin::/usr/bin')"),
    pytest.param("posix", "/usr/bin", [A("P", ":/a::/b:")], "/usr/bin:/a:/b",
                 id="empty parts anywhere are dropped"),
    pytest.param("posix", "/a:/b", [P("P", "/b:/a")], "/b:/a", id="split parts dedupe"),
    pytest.param("posix", "/usr/bin", [P("P", [":", ""])], "/usr/bin",
                 id="only empty parts: nothing changes"),
    pytest.param("posix", "/a::/b", [A("P", "/c")], "/a::/b:/c",
                 id="existing empty entries are kept"),
    pytest.param("windows", "C:\\w", [P("P", "C:\\a;")], "C:\\a;C:\\w",
                 id="windows trailing separator"),
    pytest.param("windows", "C:\\A;C:\\w", [A("P", ";c:\\a")], "C:\\w;c:\\a",
                 id="windows: split parts compare case-insensitively"),
    pytest.param("posix", None, [P("P", "a||b||", separator="||")], "a||b",
                 id="multi-character separator of the op"),
]  # fmt: skip


@pytest.mark.parametrize(("platform", "base", "ops", "after"), ENGINE_CASES)
def test_one_engine_gives_one_answer(
    platform: eo.Platform, base: str | None, ops: list[eo.Op], after: str
) -> None:
    by_op, _ = fold_ops(base, ops, platform)
    result = composed(base, ops, platform)
    assert by_op == after
    assert result.env["P"] == after
    assert result.provenance("P").history[-1].value == after


@pytest.mark.parametrize(
    ("entry", "codes"),
    [
        ("/repo/bin:", ["empty-path-entry"]),
        ("", ["empty-path-entry"]),
        (":/a", ["empty-path-entry"]),
        ("/a::/b", ["empty-path-entry"]),
        ("/a:/b", ["separator-in-entry"]),
        ("/a:rel", ["separator-in-entry", "relative-path-entry"]),
        ("/a", []),
        ("rel", ["relative-path-entry"]),
    ],
)
def test_an_entry_that_is_split_is_reported_once(entry: str, codes: list[str]) -> None:
    result = composed("/usr/bin", [P("P", entry)], "posix")
    assert [d.code for d in result.diagnostics] == codes
    assert "" not in result.env["P"].split(":")


def test_the_hook_overlay_of_the_issue_yields_no_empty_entry() -> None:
    layer = eo.Layer.from_overlay({"PATH": {"prepend": "/repo/bin:"}}, kind="hook", id="h")
    result = eo.compose({"PATH": "/usr/bin"}, [layer], platform="posix")
    assert result.env["PATH"] == "/repo/bin:/usr/bin"
    assert [d.code for d in result.warnings] == ["empty-path-entry"]


@pytest.mark.parametrize(
    ("op", "separator", "entries"),
    [
        (P("P", ["/a:/b", "/a", ""]), ":", ["/a", "/b"]),
        (P("P", "x::y", separator="::"), ":", ["x", "y"]),
        (A("P", ["C:\\a;c:\\A"]), ";", ["C:\\a"]),
        (A("P", [":"]), ":", []),
    ],
)
def test_new_entries_split_drop_empties_and_dedupe(
    op: eo.Op, separator: str, entries: list[str]
) -> None:
    key = name_key("windows" if separator == ";" else "posix")
    assert new_entries(op, key, separator) == entries


# -- properties ---------------------------------------------------------------------------


# Edits of one variable with entries made of separator characters: the engine's subject.
@st.composite
def path_ops(draw: st.DrawFn) -> eo.Op:
    action = draw(st.sampled_from(["prepend", "append"]))
    entries = draw(st.lists(separator_texts, min_size=1, max_size=3))
    separator = draw(st.one_of(st.none(), separators))
    return eo.Op("P", action, entries=tuple(entries), separator=separator)


any_ops = st.one_of(
    path_ops(),
    path_ops(),  # path edits twice as often: they are what the engine is about
    separator_texts.map(lambda value: eo.Op.set("P", value)),
    separator_texts.map(lambda value: eo.Op.default("P", value)),
    st.just(eo.Op.unset("P")),
)


@given(
    st.one_of(st.none(), separator_texts),
    st.lists(any_ops, max_size=8),
    st.integers(min_value=1, max_value=3),
    PLATFORMS,
)
def test_compose_equals_apply_op_one_op_at_a_time(
    base: str | None, ops: list[eo.Op], layer_count: int, platform: eo.Platform
) -> None:
    """For any separator, multi-character ones included: compose()'s spawn map equals
    applying the ops one at a time, and provenance's values are the values after each op."""
    layers = [
        eo.Layer.from_ops(ops[number::layer_count], kind="hook", id=f"h{number}")
        for number in range(layer_count)
    ]
    ordered = [op for layer in layers for op in layer.ops]
    expected, values = fold_ops(base, ordered, platform)
    result = eo.compose({} if base is None else {"P": base}, layers, platform=platform)
    assert result.env.get("P") == expected
    if ordered or base is not None:
        history = result.provenance("P").history
        assert history[-1].value == expected
        assert [step.value for step in history if step.op is not None] == values


MEASURES: dict[str, Callable[[str], int]] = {
    "chars": len,
    "utf-8": lambda text: variable_size("", text, "posix") - 2,
    "utf-16": lambda text: variable_size("", text, "windows") - 1,
}


@given(
    st.text(alphabet=":;aé😀/", max_size=12),
    st.lists(
        st.tuples(
            st.sampled_from(["prepend", "append"]),
            st.lists(separator_texts, min_size=1, max_size=3),
        ),
        max_size=6,
    ),
    separators,
    st.sampled_from(sorted(MEASURES)),
)
def test_path_list_size_is_the_size_of_its_value(
    initial: str, edits: list[tuple[str, list[str]]], separator: str, measure: str
) -> None:
    """An edit reports the measured size of the value it makes, and one over ``max_size``
    changes nothing; the entries are always what splitting the value gives."""
    measured = MEASURES[measure]
    key = name_key("posix")
    path_list = PathList(initial, separator, key, measured)
    assert path_list.size == measured(initial)
    for action, entries in edits:
        added = new_entries(eo.Op("P", action, entries=tuple(entries), separator=separator), key)
        if not added:
            continue
        before = path_list.value()
        # max_size=-1 refuses any edit and reports the size it would make; one unit less
        # than that refuses it too (an edit may shrink the list: the limit is on the result).
        would = path_list.edit(action, added, max_size=-1)
        assert path_list.value() == before
        refused = path_list.edit(action, added, max_size=would - 1)
        assert path_list.value() == before
        made = path_list.edit(action, added)
        value = path_list.value()
        assert would == refused == made == path_list.size == measured(value)
        assert len(path_list) == (len(value.split(separator)) if value else 0)


# Entries from a small pool, with Windows spellings of one entry, so that edits often
# remove entries of the value (its own, or an earlier edit's) and values hold some twice.
_POOL_ENTRIES = st.sampled_from(["/a", "/A", "/b", "/B", "/c", ""])


@given(
    st.lists(_POOL_ENTRIES, max_size=8),
    st.lists(
        st.tuples(
            st.sampled_from(["prepend", "append"]), st.lists(_POOL_ENTRIES, min_size=1, max_size=3)
        ),
        max_size=6,
    ),
    PLATFORMS,
    st.booleans(),
)
def test_path_list_edits_agree_with_a_list_model(
    initial: list[str],
    edits: list[tuple[str, list[str]]],
    platform: eo.Platform,
    read_each_time: bool,
) -> None:
    """The engine (the value's own entries indexed lazily, by a set while they hold no key
    twice) gives what editing a plain list gives: drop every entry whose key is a new
    one's, then put the new ones first or last."""
    separator = ";" if platform == "windows" else ":"
    key = name_key(platform)
    text = separator.join(initial)
    path_list = PathList(text, separator, key)
    model = text.split(separator) if text else []
    for action, raw in edits:
        added = new_entries(eo.Op("P", action, entries=tuple(raw), separator=separator), key)
        if not added:
            continue
        path_list.edit(action, added)
        new_keys = {key(entry) for entry in added}
        kept = [entry for entry in model if key(entry) not in new_keys]
        model = [*added, *kept] if action == "prepend" else [*kept, *added]
        if read_each_time:
            assert path_list.value() == separator.join(model)
    assert path_list.value() == separator.join(model)
    assert len(path_list) == len(model)
    assert path_list.size == len(separator.join(model))


def test_an_edit_that_shrinks_an_overlapping_list_is_applied_under_a_smaller_limit() -> None:
    """With a separator that overlaps the entries ('aba' between '/ab' and ':'), the joined
    list splits into ['/', 'ba:', '/']: '/' is there twice. Prepending '/' removes both and
    puts one first, so the value gets shorter, and a limit below today's size allows it;
    a limit below the size it makes refuses it and changes nothing."""
    key = name_key("posix")
    path_list = PathList("", "aba", key, len)
    for entry in ("/", ":", "/ab"):
        path_list.edit("prepend", new_entries(P("P", entry, separator="aba"), key))
    before = path_list.value()
    assert before == "/ababa:aba/"
    added = new_entries(P("P", "/", separator="aba"), key)
    assert path_list.edit("prepend", added, max_size=-1) == len("/ababa:")  # refused
    assert path_list.value() == before
    assert path_list.edit("prepend", added, max_size=len("/ababa:") - 1) == len("/ababa:")
    assert path_list.value() == before
    assert path_list.edit("prepend", added, max_size=path_list.size - 1) == len("/ababa:")
    assert path_list.value() == "/ababa:"


# Any field values an op could be given, valid or not, as a document read back may hold them:
# names and values with surrogate pairs held as two code points (which the converters join),
# lone surrogates, NUL, '=', and values of the wrong type (specific to stored_op's test).
stored_texts = st.one_of(
    st.sampled_from(["A", "PATH", "", "A=B", "x\0", "\u03c0", "\ud83d\ude00", "\ud800"]),
    st.text(max_size=4),
)
stored_fields = st.fixed_dictionaries(
    {
        "name": st.one_of(stored_texts, st.none(), st.integers()),
        "action": st.sampled_from(["set", "unset", "default", "prepend", "append", "replace", 1]),
        "value": st.one_of(st.none(), stored_texts, st.booleans()),
        "entries": st.one_of(
            st.just(()),
            st.just([]),
            st.lists(stored_texts, max_size=2),
            st.lists(stored_texts, max_size=2).map(tuple),
            stored_texts,
        ),
        "separator": st.one_of(st.none(), stored_texts, st.integers()),
        "secret": st.sampled_from([False, True, 0, 1]),
        "redacted": st.sampled_from([False, True, 0, 1]),
        "origin": st.sampled_from([None, eo.Origin("f", 1), "f:1"]),
    }
)


STORED_SET = {"name": "A", "action": "set", "value": "1", "entries": (), "separator": None,
              "secret": False, "redacted": False, "origin": None}  # fmt: skip


def built(make: Callable[[], eo.Op]) -> object:
    """The op ``make`` builds, or the type and message of what it raises."""
    try:
        return make()
    except Exception as error:  # the comparison is the test
        return type(error), str(error)


@given(stored_fields)
@example(dict(STORED_SET, entries=""))  # a string is one entry: a set op refuses it
@example(dict(STORED_SET, entries=["\u03c0"]))  # a non-ASCII entry: Op's converters
@example(dict(STORED_SET, action="prepend", value=None, entries=("/a", 1)))  # not text
def test_stored_op_builds_what_op_builds_or_raises_what_it_raises(fields: dict) -> None:
    from envoverlay.ops import stored_op

    origin = fields.pop("origin")
    by_op = built(lambda: eo.Op(**fields, origin=origin))
    by_stored_op = built(lambda: stored_op(**fields, origin=origin))
    assert by_stored_op == by_op
    if isinstance(by_op, eo.Op):  # the same fields, of the same types (a tuple of entries)
        assert attrs.astuple(by_stored_op, recurse=False) == attrs.astuple(by_op, recurse=False)
        assert [type(x) for x in attrs.astuple(by_stored_op, recurse=False)] == [
            type(x) for x in attrs.astuple(by_op, recurse=False)
        ]


@given(valid_ops(names=st.sampled_from(NAME_POOL) | fold_names, origins=origins))
def test_stored_op_rebuilds_every_valid_op(op: eo.Op) -> None:
    from envoverlay.ops import stored_op

    fields = attrs.asdict(op, recurse=False)
    origin = fields.pop("origin")
    assert stored_op(**fields, origin=origin) == op


# -- size limits of path edits, exactly at the boundary --------------------------------------


@pytest.mark.parametrize(
    ("platform", "entry", "limit"),
    [
        ("posix", "é", POSIX_LIMIT),  # 2 bytes a character
        ("posix", "€", POSIX_LIMIT),  # 3 bytes
        ("posix", "a", POSIX_LIMIT),
        ("windows", "😀", WINDOWS_LIMIT),  # 2 UTF-16 units
        ("windows", "é", WINDOWS_LIMIT),
    ],
)
def test_non_ascii_path_edits_are_measured_exactly(
    platform: eo.Platform, entry: str, limit: int
) -> None:
    """A prepend that makes PATH exactly the limit applies; one unit more is rejected."""
    name = "PATH" if platform == "posix" else "Path"
    separator = list_separator(platform)
    prefix = "/" if platform == "posix" else "C:\\"
    inherited = prefix + "x"
    fixed = variable_size(name, inherited + separator + prefix, platform)
    unit = variable_size("", entry, platform) - variable_size("", "", platform)
    count, pad = divmod(limit - fixed, unit)
    fitting = prefix + entry * count + "y" * pad
    for added, fits in ((fitting, True), (fitting + "z", False)):
        layer = eo.Layer.from_ops([P(name, added)], kind="hook", id="h")
        result = eo.compose({name: inherited}, [layer], platform=platform)
        assert variable_size(name, added + separator + inherited, platform) == limit + (not fits)
        assert (result.env[name] != inherited) is fits
        assert [d.code for d in result.errors] == ([] if fits else ["too-large"])


def test_path_ops_over_an_inherited_list_already_too_large_are_each_rejected() -> None:
    """The inherited value is reported once; every prepend is rejected, none applied."""
    inherited = ":".join(f"/opt/tool{n}/bin" for n in range(10_000))
    ops = [P("PATH", f"/new{n}") for n in range(50)]
    layer = eo.Layer.from_ops(ops, kind="hook", id="h")
    result = eo.compose({"PATH": inherited}, [layer], platform="posix")
    assert result.env["PATH"] == inherited
    codes = [d.code for d in result.errors]
    assert codes.count("too-large") == 51
    assert {s.status for s in result.provenance("PATH").history[1:]} == {"rejected"}


# ---------------------------------------------------------------------------------------
# §2 prepend / append
# ---------------------------------------------------------------------------------------


PATH_LIST_CASES = [
    # posix
    pytest.param("posix", None, P("PATH", "/n"), "/n",
                 id="posix: prepend onto an absent variable is just the new entry"),
    pytest.param("posix", "", P("PATH", "/n"), "/n",
                 id="posix: prepend onto an empty variable adds no empty entry"),
    pytest.param("posix", None, A("PATH", "/n"), "/n",
                 id="posix: append onto an absent variable is just the new entry"),
    pytest.param("posix", "", A("PATH", "/n"), "/n",
                 id="posix: append onto an empty variable adds no empty entry"),
    pytest.param("posix", None, P("PATH", ["/x", "/y"]), "/x:/y",
                 id="posix: several entries onto an absent variable are joined by a colon"),
    pytest.param("posix", "/a:/b", P("PATH", "/n"), "/n:/a:/b",
                 id="posix: a prepended entry goes first, joined by a colon"),
    pytest.param("posix", "/a:/b", A("PATH", "/n"), "/a:/b:/n",
                 id="posix: an appended entry goes last, joined by a colon"),
    pytest.param("posix", "/a:/n:/b", P("PATH", "/n"), "/n:/a:/b",
                 id="posix: prepending an existing entry moves it to the front"),
    pytest.param("posix", "/n:/a:/b", A("PATH", "/n"), "/a:/b:/n",
                 id="posix: appending an existing entry moves it to the end"),
    pytest.param("posix", "/n:/a:/n", P("PATH", "/n"), "/n:/a",
                 id="posix: every existing copy of a prepended entry is removed"),
    pytest.param("posix", "/a", P("PATH", ["/x", "/y"]), "/x:/y:/a",
                 id="posix: several prepended entries keep their order"),
    pytest.param("posix", "/a", A("PATH", ["/x", "/y"]), "/a:/x:/y",
                 id="posix: several appended entries keep their order"),
    pytest.param("posix", "/y:/a:/x", P("PATH", ["/x", "/y"]), "/x:/y:/a",
                 id="posix: several prepended entries already present move together"),
    pytest.param("posix", "/a", P("PATH", ["/n", "/n"]), "/n:/a",
                 id="posix: a new entry given twice is added once"),
    pytest.param("posix", "/a::/b", P("PATH", "/n"), "/n:/a::/b",
                 id="posix: an existing empty entry in the middle is kept"),
    pytest.param("posix", ":/a", P("PATH", "/n"), "/n::/a",
                 id="posix: an existing leading empty entry is kept"),
    pytest.param("posix", "/a:", A("PATH", "/n"), "/a::/n",
                 id="posix: an existing trailing empty entry is kept"),
    pytest.param("posix", ":", P("PATH", "/n"), "/n::",
                 id="posix: a value of only empty entries keeps them"),
    pytest.param("posix", "/a", P("PATH", ["", "/n"]), "/n:/a",
                 id="posix: an empty new entry is never added"),
    pytest.param("posix", "/Tools:/a", P("PATH", "/tools"), "/tools:/Tools:/a",
                 id="posix: entries differing in case are different entries"),
    pytest.param("posix", "/a;/b", P("PATH", "/n"), "/n:/a;/b",
                 id="posix: a semicolon is not the default separator"),
    pytest.param("posix", "a,b", P("X", "c", separator=","), "c,a,b",
                 id="posix: an explicit separator is used to split and join"),
    pytest.param("posix", "a,c,b", A("X", "c", separator=","), "a,b,c",
                 id="posix: an explicit separator also dedupes"),
    pytest.param("posix", "a;b", A("X", "c", separator=";"), "a;b;c",
                 id="posix: an explicit semicolon separator is honoured"),
    pytest.param("posix", "a b", P("X", ["c", "d"], separator=" "), "c d a b",
                 id="posix: a space separator works like any other"),
    # windows
    pytest.param("windows", None, P("Path", "C:\\n"), "C:\\n",
                 id="windows: prepend onto an absent variable is just the new entry"),
    pytest.param("windows", "", A("Path", "C:\\n"), "C:\\n",
                 id="windows: append onto an empty variable adds no empty entry"),
    pytest.param("windows", "C:\\a;C:\\b", P("Path", "C:\\n"), "C:\\n;C:\\a;C:\\b",
                 id="windows: a prepended entry goes first, joined by a semicolon"),
    pytest.param("windows", "C:\\a;C:\\b", A("Path", "C:\\n"), "C:\\a;C:\\b;C:\\n",
                 id="windows: an appended entry goes last, joined by a semicolon"),
    pytest.param("windows", "C:\\Tools;C:\\a", P("Path", "c:\\tools"), "c:\\tools;C:\\a",
                 id="windows: prepend dedupes entries case-insensitively"),
    pytest.param("windows", "C:\\TOOLS;C:\\a", A("Path", "c:\\Tools"), "C:\\a;c:\\Tools",
                 id="windows: append dedupes entries case-insensitively"),
    pytest.param("windows", "C:\\" + E_ACUTE_CAPITAL + ";C:\\a", P("Path", "C:\\" + E_ACUTE_SMALL),
                 "C:\\" + E_ACUTE_SMALL + ";C:\\a",
                 id="windows: entries with non-ASCII letters compare case-insensitively too"),
    pytest.param("windows", "C:\\a", P("Path", ["C:\\x", "C:\\y"]), "C:\\x;C:\\y;C:\\a",
                 id="windows: several prepended entries keep their order"),
    pytest.param("windows", "C:\\a;;C:\\b", P("Path", "C:\\n"), "C:\\n;C:\\a;;C:\\b",
                 id="windows: an existing empty entry is kept"),
    pytest.param("windows", "C:\\a:C:\\b", P("Path", "C:\\n"), "C:\\n;C:\\a:C:\\b",
                 id="windows: a colon is not the default separator"),
    pytest.param("windows", "/a:/b", P("MSYS_PATH", "/n", separator=":"), "/n:/a:/b",
                 id="windows: an explicit colon separator is honoured"),
]  # fmt: skip


@pytest.mark.parametrize(("platform", "before", "op", "after"), PATH_LIST_CASES)
def test_path_list_edit(platform: eo.Platform, before: str | None, op: eo.Op, after: str) -> None:
    base = {} if before is None else {op.name: before}
    result = eo.compose(base, [layer("hook", op)], platform=platform)
    assert result.ok, result.errors
    assert result.env == {op.name: after}


# ---------------------------------------------------------------------------------------
# ops that cannot be built, and the warnings an op gets (op_warnings)
# ---------------------------------------------------------------------------------------

OP_VALIDATION_CASES = [
    pytest.param(lambda: S("", "x"), "invalid-name", id="an op on an empty name"),
    pytest.param(lambda: U(""), "invalid-name", id="an unset of an empty name"),
    pytest.param(lambda: S("A=B", "x"), "invalid-name", id="an op on a name with '='"),
    pytest.param(lambda: S("A=", "x"), "invalid-name", id="an op on a name ending with '='"),
    pytest.param(lambda: S("A\0B", "x"), "nul", id="an op on a name with NUL"),
    pytest.param(lambda: S("A", "x\0y"), "nul", id="a set value with NUL"),
    pytest.param(lambda: S("A", "x\0y", secret=True), "nul", id="a secret set value with NUL"),
    pytest.param(lambda: D("A", "\0"), "nul", id="a default value with NUL"),
    pytest.param(lambda: P("A", ["/a", "/b\0"]), "nul", id="a prepend entry with NUL"),
    pytest.param(lambda: A("A", "\0"), "nul", id="an append entry with NUL"),
    pytest.param(lambda: S("A", 1), "invalid-value",  # type: ignore[arg-type]
                 id="a set value that is not a string"),
    pytest.param(lambda: D("A", None), "invalid-value",  # type: ignore[arg-type]
                 id="a default value that is None"),
    pytest.param(lambda: P("A", []), "invalid-op", id="a prepend without entries"),
    pytest.param(lambda: P("A", "/a", separator=""), "invalid-op",
                 id="a prepend with an empty separator"),
]  # fmt: skip


@pytest.mark.parametrize(("make", "code"), OP_VALIDATION_CASES)
def test_invalid_ops_cannot_be_built(make: Callable[[], eo.Op], code: str) -> None:
    with pytest.raises(eo.OverlayError) as caught:
        make()
    assert isinstance(caught.value, eo.EnvOverlayError)
    assert isinstance(caught.value, ValueError)
    assert [d.code for d in caught.value.diagnostics] == [code]


WARNING_CASES = [
    pytest.param("posix", {}, S("MY-VAR", "1"), [("non-portable-name", "MY-VAR")],
                 id="posix: a name with a dash is non-portable"),
    pytest.param("posix", {}, S("1ABC", "1"), [("non-portable-name", "1ABC")],
                 id="posix: a name starting with a digit is non-portable"),
    pytest.param("posix", {}, S("A.B", "1"), [("non-portable-name", "A.B")],
                 id="posix: a name with a dot is non-portable"),
    pytest.param("posix", {}, S(PI_SMALL, "1"), [("non-portable-name", PI_SMALL)],
                 id="posix: a non-ASCII name is non-portable"),
    pytest.param("windows", {}, S("MY-VAR", "1"), [("non-portable-name", "MY-VAR")],
                 id="windows: a name with a dash is non-portable too"),
    pytest.param("posix", {}, S("_a1_B", "1"), [], id="posix: a portable name is not warned"),
    pytest.param("posix", {}, S("_", "1"), [], id="posix: a lone underscore is portable"),
    pytest.param("posix", {"A-B": "1"}, S("X", "1"), [],
                 id="posix: an inherited non-portable name is not warned"),
    pytest.param("posix", {}, P("PATH", "bin"), [("relative-path-entry", "PATH")],
                 id="posix: prepending a relative entry is warned"),
    pytest.param("posix", {}, A("PATH", "./x"), [("relative-path-entry", "PATH")],
                 id="posix: appending a dot-relative entry is warned"),
    pytest.param("posix", {}, P("PATH", "~/bin"), [("relative-path-entry", "PATH")],
                 id="posix: a tilde entry is relative, as nothing expands it"),
    pytest.param("posix", {}, P("PATH", "$HOME/bin"), [("relative-path-entry", "PATH")],
                 id="posix: a dollar entry is relative, as nothing expands it"),
    pytest.param("posix", {"PATH": "/a"}, P("PATH", ["", "/n"]), [("empty-path-entry", "PATH")],
                 id="posix: an empty prepended entry is warned (and skipped)"),
    pytest.param("posix", {}, S("PATH", "/a::/b"), [("empty-path-entry", "PATH")],
                 id="posix: a set PATH with an empty entry is warned"),
    pytest.param("posix", {}, S("PATH", "/a:"), [("empty-path-entry", "PATH")],
                 id="posix: a set PATH with a trailing colon is warned"),
    pytest.param("posix", {}, S("PYTHONPATH", "src:/x"), [("relative-path-entry", "PYTHONPATH")],
                 id="posix: a set PYTHONPATH with a relative entry is warned"),
    pytest.param("posix", {}, P("PATH", "/usr/bin"), [],
                 id="posix: an absolute entry is not warned"),
    pytest.param("posix", {"PATH": "/a::rel"}, P("PATH", "/n"), [],
                 id="posix: empty or relative entries already inherited are not warned"),
    pytest.param("windows", {}, P("Path", "x\\y"), [("relative-path-entry", "Path")],
                 id="windows: a relative entry is warned"),
    pytest.param("windows", {}, P("Path", ["C:\\x", "D:/y", "\\\\srv\\share"]), [],
                 id="windows: drive and UNC entries are absolute"),
    pytest.param("windows", {}, S("Path", "C:\\a;;C:\\b"), [("empty-path-entry", "Path")],
                 id="windows: a set Path with an empty entry is warned"),
]  # fmt: skip


@pytest.mark.parametrize(("platform", "base", "op", "expected"), WARNING_CASES)
def test_warnings(
    platform: eo.Platform, base: dict[str, str], op: eo.Op, expected: list[tuple[str, str]]
) -> None:
    result = eo.compose(base, [layer("thread", op)], platform=platform)
    assert result.ok, result.errors
    assert [(d.code, d.name) for d in result.warnings] == expected
    assert all(d.source == eo.Source("thread", "thread") for d in result.warnings)
    assert op.name in result.env  # warnings never stop an op
