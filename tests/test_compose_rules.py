"""The composition rules of SPEC §1 and §2, as tables, on posix and on windows.

The cases are written from the SPEC and the OS facts it cites, not from the implementation,
so they double as a review of it. A case the implementation disagrees with is kept and marked
``xfail(strict=True)`` with the reason, so fixing the code turns it into a failure to clean up.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, cast

import pytest
from stacks import LayerSpec, build, found, layer

import envoverlay as eo

#: Linux MAX_ARG_STRLEN: bytes of one ``NAME=value`` string *with* its terminating NUL.
POSIX_LIMIT = 131072
#: Windows: UTF-16 code units of one ``NAME=value`` string.
WINDOWS_LIMIT = 32767


# Names outside ASCII are written as escapes, so that what each case compares is unambiguous.
STRASSE_SHARP = "STRA\u00dfE"  # STRAßE: 'ß' has no one-unit upper case, so Windows keeps it
PI_SMALL, PI_CAPITAL = "\u03c0", "\u03a0"  # π / Π: one name on Windows
E_ACUTE_SMALL, E_ACUTE_CAPITAL = "CAF\u00e9", "CAF\u00c9"  # CAFé / CAFÉ
DE_SMALL, DE_CAPITAL = "\u0434", "\u0414"  # Cyrillic д / Д
FF_LIGATURE = "\ufb00"  # 'ﬀ' upper-cases to "FF" (two units): not the name FF on Windows
SUN = "\U0001f31e"  # outside the BMP: UTF-16 D83C DF1E
FULLWIDTH_BANG = "\uff01"  # FF01: after SUN in UTF-16 order, before it in code-point order


def fold(platform: eo.Platform) -> Callable[[str], str]:
    return eo.windows_fold if platform == "windows" else (lambda name: name)


# ---------------------------------------------------------------------------------------
# §2 prepend / append
# ---------------------------------------------------------------------------------------

P, A = eo.Op.prepend, eo.Op.append

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
# §1 set / unset / default, folded over several layers
# ---------------------------------------------------------------------------------------

S, U, D = eo.Op.set, eo.Op.unset, eo.Op.default

FOLD_CASES = [
    pytest.param("posix", {}, [("hook", "h", [D("X", "d")])], "d",
                 id="posix: default on an absent variable sets it"),
    pytest.param("posix", {"X": ""}, [("hook", "h", [D("X", "d")])], "d",
                 id="posix: default on an empty variable sets it"),
    pytest.param("posix", {"X": "v"}, [("hook", "h", [D("X", "d")])], "v",
                 id="posix: default on a set variable leaves it"),
    pytest.param("posix", {"X": " "}, [("hook", "h", [D("X", "d")])], " ",
                 id="posix: default leaves a value of one space, which is not empty"),
    pytest.param("posix", {"X": "v"}, [("hook", "h", [U("X")]), ("thread", "t", [D("X", "d")])],
                 "d", id="posix: default after an earlier layer's unset sets it"),
    pytest.param("posix", {}, [("config", "c", [S("X", "s")]), ("hook", "h", [D("X", "d")])],
                 "s", id="posix: default after an earlier layer's set leaves it"),
    pytest.param("posix", {}, [("config", "c", [D("X", "d")]), ("hook", "h", [S("X", "s")])],
                 "s", id="posix: set after an earlier default wins"),
    pytest.param("posix", {}, [("config", "c", [D("X", "1")]), ("hook", "h", [D("X", "2")])],
                 "1", id="posix: the first of two defaults wins"),
    pytest.param("posix", {}, [("config", "c", [S("X", "")]), ("hook", "h", [D("X", "2")])],
                 "2", id="posix: default fires on a value an earlier layer set empty"),
    pytest.param("posix", {"X": "v"}, [("hook", "h", [S("X", "s")]), ("thread", "t", [U("X")])],
                 None, id="posix: set then unset in a later layer removes it"),
    pytest.param("posix", {"X": "v"}, [("hook", "h", [U("X")]), ("thread", "t", [S("X", "s")])],
                 "s", id="posix: unset then set in a later layer sets it"),
    pytest.param("posix", {}, [("hook", "h", [U("X")])], None,
                 id="posix: unset of an absent variable leaves it absent"),
    pytest.param("posix", {"X": "v"}, [("hook", "h", [S("X", "1"), S("X", "2")])], "2",
                 id="posix: the later of two sets in one layer wins"),
    pytest.param("posix", {"X": "v"}, [("hook", "h", [S("X", "")])], "",
                 id="posix: set to the empty string keeps the variable, empty"),
    pytest.param("posix", {"PATH": "/a"},
                 [("hook", "h", [U("PATH")]), ("thread", "t", [P("PATH", "/n")])], "/n",
                 id="posix: prepend after an unset starts a fresh list"),
    pytest.param("posix", {"PATH": "/a"},
                 [("hook", "h", [P("PATH", "/n")]), ("thread", "t", [A("PATH", "/n")])], "/a:/n",
                 id="posix: a later append moves an entry a hook prepended"),
    pytest.param("posix", {"x": "lower"}, [("hook", "h", [S("X", "upper")])], "upper",
                 id="posix: X and x are two variables"),
    pytest.param("windows", {"Path": "C:\\a"}, [("hook", "h", [D("PATH", "C:\\d")])], "C:\\a",
                 id="windows: default through another spelling sees the inherited value"),
    pytest.param("windows", {"Path": ""}, [("hook", "h", [D("PATH", "C:\\d")])], "C:\\d",
                 id="windows: default through another spelling fires on an empty value"),
    pytest.param("windows", {"Path": "C:\\a"}, [("hook", "h", [U("PATH")])], None,
                 id="windows: unset through another spelling removes the variable"),
    pytest.param("windows", {"Path": "C:\\a"},
                 [("hook", "h", [U("path")]), ("thread", "t", [S("PATH", "C:\\s")])], "C:\\s",
                 id="windows: unset then set in a later layer sets it"),
    pytest.param("windows", {"x": "lower"}, [("hook", "h", [S("X", "upper")])], "upper",
                 id="windows: set through another spelling replaces the value"),
]  # fmt: skip


@pytest.mark.parametrize(("platform", "base", "specs", "expected"), FOLD_CASES)
def test_fold_of_set_unset_default(
    platform: eo.Platform, base: dict[str, str], specs: list[LayerSpec], expected: str | None
) -> None:
    result = eo.compose(base, build(specs), platform=platform)
    assert result.ok, result.errors
    key = fold(platform)
    name = specs[-1][2][-1].name
    by_key = {key(spelled): value for spelled, value in result.env.items()}
    assert by_key.get(key(name)) == expected
    assert len(by_key) == len(result.env)  # never two spellings of one name


# ---------------------------------------------------------------------------------------
# §1 precedence of kinds
# ---------------------------------------------------------------------------------------

PRECEDENCE_CASES = [
    pytest.param(["provider", "config"], None, "provider",
                 id="provider beats config even when passed first"),
    pytest.param(["hook", "provider"], None, "hook",
                 id="hook beats provider even when passed first"),
    pytest.param(["thread", "hook"], None, "thread",
                 id="thread beats hook even when passed first"),
    pytest.param(["runtime", "thread"], None, "runtime",
                 id="runtime beats thread even when passed first"),
    pytest.param(["config", "provider", "hook", "thread", "runtime"], None, "runtime",
                 id="runtime wins when every kind is passed in precedence order"),
    pytest.param(["runtime", "thread", "hook", "provider", "config"], None, "runtime",
                 id="runtime wins when every kind is passed in reverse order"),
    pytest.param(["thread", "config", "hook", "provider"], None, "thread",
                 id="thread wins over every other non-runtime kind in any order"),
    pytest.param(["hook:first", "hook:second"], None, "hook:second",
                 id="of two hooks the later one given wins"),
    pytest.param(["hook:second", "hook:first"], None, "hook:first",
                 id="of two hooks given the other way round the later one still wins"),
    pytest.param(["hook:a", "config", "hook:b", "provider"], None, "hook:b",
                 id="hooks keep their given order when interleaved with other kinds"),
    pytest.param(["provider:a", "provider:b", "config"], None, "provider:b",
                 id="providers keep their given order"),
    pytest.param(["config", "thread"], ("thread", "hook", "provider", "config"), "config",
                 id="a custom precedence can put config above thread"),
    pytest.param(["hook", "provider"], ("config", "hook", "provider", "thread"), "provider",
                 id="a custom precedence can put provider above hook"),
    pytest.param(["runtime", "config"], ("thread", "hook", "provider", "config"), "runtime",
                 id="runtime stays last under a custom precedence"),
    pytest.param(["hook:a", "hook:b"], ("thread", "hook", "provider", "config"), "hook:b",
                 id="a custom precedence keeps the given order within a kind"),
]  # fmt: skip


@pytest.mark.parametrize(("order", "precedence", "winner"), PRECEDENCE_CASES)
def test_precedence_of_kinds(
    order: list[str], precedence: tuple[eo.LayerKind, ...] | None, winner: str
) -> None:
    layers = []
    for entry in order:
        kind, _, name = entry.partition(":")
        lid = entry if name else kind
        layers.append(eo.Layer.from_ops([S("WINNER", lid)], kind=cast(eo.LayerKind, kind), id=lid))
    result = eo.compose({"WINNER": "inherited"}, layers, platform="posix", precedence=precedence)
    assert result.env["WINNER"] == winner
    assert result.provenance("WINNER").source.id == winner


@pytest.mark.parametrize(
    "precedence",
    [
        pytest.param(("config", "provider", "hook"), id="a precedence missing a kind"),
        pytest.param(("config", "provider", "hook", "hook"), id="a precedence repeating a kind"),
        pytest.param(("config", "provider", "hook", "thread", "runtime"),
                     id="a precedence that places runtime"),
        pytest.param(("inherited", "config", "provider", "hook"),
                     id="a precedence that places inherited"),
    ],
)  # fmt: skip
def test_invalid_precedence_is_refused(precedence: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError, match="precedence"):
        eo.compose({}, [], platform="posix", precedence=precedence)


# ---------------------------------------------------------------------------------------
# §2 Windows names (and their posix counterparts)
# ---------------------------------------------------------------------------------------

NAME_CASES = [
    pytest.param("windows", {"Path": "C:\\old"}, [("hook", "h", [P("PATH", "C:\\new")])],
                 [("Path", "C:\\new;C:\\old")],
                 id="windows: inherited Path plus a hook's PATH prepend is one Path, new first"),
    pytest.param("windows", {"PATH": "C:\\old"}, [("hook", "h", [S("Path", "C:\\new")])],
                 [("PATH", "C:\\new")],
                 id="windows: inherited PATH keeps its spelling when a hook sets Path"),
    pytest.param("windows", {},
                 [("config", "c", [S("path", "1")]), ("thread", "t", [S("PATH", "2")])],
                 [("path", "2")],
                 id="windows: a variable created by an op keeps the first spelling seen"),
    pytest.param("windows", {}, [("hook", "h", [S("Foo", "1"), S("FOO", "2")])],
                 [("Foo", "2")],
                 id="windows: two spellings in one layer are one variable"),
    pytest.param("windows", {STRASSE_SHARP: "1"}, [("hook", "h", [S("STRASSE", "2")])],
                 [("STRASSE", "2"), (STRASSE_SHARP, "1")],
                 id="windows: STRAsharpsE and STRASSE are two names (no length-changing fold)"),
    pytest.param("windows", {PI_SMALL: "1"}, [("hook", "h", [S(PI_CAPITAL, "2")])],
                 [(PI_SMALL, "2")],
                 id="windows: small pi and capital pi are one name"),
    pytest.param("windows", {E_ACUTE_CAPITAL: "1"}, [("hook", "h", [S(E_ACUTE_SMALL, "2")])],
                 [(E_ACUTE_CAPITAL, "2")],
                 id="windows: e-acute and E-acute are one name"),
    pytest.param("windows", {DE_CAPITAL: "1"}, [("hook", "h", [U(DE_SMALL)])], [],
                 id="windows: Cyrillic small and capital de are one name"),
    pytest.param("windows", {"FF": "1"}, [("hook", "h", [S(FF_LIGATURE, "2")])],
                 [("FF", "1"), (FF_LIGATURE, "2")],
                 id="windows: the ff ligature and FF are two names"),
    pytest.param("windows", {"=C:": "C:\\work", "Path": "C:\\a"}, [("hook", "h", [S("PATH", "x")])],
                 [("=C:", "C:\\work"), ("Path", "x")],
                 id="windows: an inherited =C: drive variable passes through untouched"),
    pytest.param("windows", {"=D:": "D:\\", "=C:": "C:\\"}, [],
                 [("=C:", "C:\\"), ("=D:", "D:\\")],
                 id="windows: several drive variables pass through, sorted"),
    pytest.param("windows", {"Path": "a", "PATH": "b"}, [],
                 [("Path", "a")],
                 id="windows: of duplicate inherited spellings the first in block order wins"),
    pytest.param("windows", {"PATH": "b", "Path": "a"}, [],
                 [("PATH", "b")],
                 id="windows: the same duplicates in the other order keep the other one"),
    pytest.param("windows", {"Path": "a", "path": "c", "PATH": "b"},
                 [("hook", "h", [A("PATH", "z")])], [("Path", "a;z")],
                 id="windows: ops apply to the surviving spelling of an inherited duplicate"),
    pytest.param("posix", {"Path": "/old"}, [("hook", "h", [P("PATH", "/new")])],
                 [("Path", "/old"), ("PATH", "/new")],
                 id="posix: Path and PATH are two variables"),
    pytest.param("posix", {"Path": "a", "PATH": "b"}, [],
                 [("Path", "a"), ("PATH", "b")],
                 id="posix: differently cased inherited names are not duplicates"),
    pytest.param("posix", {PI_SMALL: "1"}, [("hook", "h", [S(PI_CAPITAL, "2")])],
                 [(PI_SMALL, "1"), (PI_CAPITAL, "2")],
                 id="posix: small pi and capital pi are two names"),
]  # fmt: skip


@pytest.mark.parametrize(("platform", "base", "specs", "expected"), NAME_CASES)
def test_names(
    platform: eo.Platform,
    base: dict[str, str],
    specs: list[LayerSpec],
    expected: list[tuple[str, str]],
) -> None:
    result = eo.compose(base, build(specs), platform=platform)
    assert list(result.env.items()) == expected
    assert result.ok, result.errors


@pytest.mark.parametrize(
    ("base", "kept", "left_out"),
    [
        pytest.param({"Path": "a", "PATH": "b"}, "Path", ["PATH"],
                     id="a second spelling of an inherited name is reported"),
        pytest.param({"temp": "1", "TEMP": "2", "Temp": "3"}, "temp", ["TEMP", "Temp"],
                     id="every later spelling of an inherited name is reported"),
        pytest.param({PI_CAPITAL: "1", PI_SMALL: "2"}, PI_CAPITAL, [PI_SMALL],
                     id="a non-ASCII inherited duplicate is reported"),
    ],
)  # fmt: skip
def test_windows_duplicates_in_the_base_are_reported(
    base: dict[str, str], kept: str, left_out: list[str]
) -> None:
    result = eo.compose(base, [], platform="windows")
    assert list(result.env) == [kept]
    assert result.env[kept] == base[kept]
    reported = found(result, "duplicate-name")
    assert sorted(d.name or "" for d in reported) == sorted(left_out)
    assert all(d.source == eo.Source("inherited", "launcher") for d in reported)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: S("=C:", "C:\\x"), id="set of a drive variable"),
        pytest.param(lambda: U("=C:"), id="unset of a drive variable"),
        pytest.param(lambda: D("=D:", "D:\\"), id="default of a drive variable"),
        pytest.param(lambda: P("=ExitCode", "0"), id="prepend to =ExitCode"),
    ],
)
def test_ops_may_not_create_names_beginning_with_equals(make: Callable[[], eo.Op]) -> None:
    with pytest.raises(eo.OverlayError) as caught:
        make()
    assert [d.code for d in caught.value.diagnostics] == ["invalid-name"]


@pytest.mark.parametrize(
    ("platform", "lookup", "expected_name"),
    [
        pytest.param("windows", "PATH", "Path", id="windows: provenance is found by any spelling"),
        pytest.param("windows", "path", "Path", id="windows: provenance by lower case too"),
        pytest.param("posix", "Path", "Path", id="posix: provenance is found by the exact name"),
    ],
)
def test_provenance_lookup_follows_the_name_rule(
    platform: eo.Platform, lookup: str, expected_name: str
) -> None:
    result = eo.compose({"Path": "a"}, [], platform=platform)
    assert result.provenance(lookup).name == expected_name


def test_posix_provenance_lookup_is_case_sensitive() -> None:
    result = eo.compose({"Path": "a"}, [], platform="posix")
    with pytest.raises(KeyError):
        result.provenance("PATH")


# ---------------------------------------------------------------------------------------
# §2 output order
# ---------------------------------------------------------------------------------------

WINDOWS_ORDER_CASES = [
    pytest.param(["b", "A", "c"], ["A", "b", "c"], id="sorted ignoring case"),
    pytest.param(["path", "Temp", "HOME"], ["HOME", "path", "Temp"],
                 id="sorted ignoring case whatever the spelling"),
    pytest.param(["A_B", "AB"], ["AB", "A_B"],
                 id="AB sorts before A_B because underscore is after upper-case letters"),
    pytest.param(["_X", "Z", "a"], ["a", "Z", "_X"],
                 id="underscore sorts after Z, and lower-case a sorts as A"),
    pytest.param(["a_b", "AB", "aZ"], ["AB", "aZ", "a_b"],
                 id="lower-case names sort by their upper case, before underscore"),
    pytest.param(["A", "=C:"], ["=C:", "A"], id="a drive variable sorts before letters"),
    pytest.param(["B1", "B", "B10", "B2"], ["B", "B1", "B10", "B2"],
                 id="digits sort by code unit, not numerically"),
    pytest.param([FULLWIDTH_BANG, SUN], [SUN, FULLWIDTH_BANG],
                 id="a name outside the BMP sorts by its UTF-16 surrogates"),
    pytest.param([PI_SMALL, "Z"], ["Z", PI_SMALL], id="Greek sorts after ASCII"),
]  # fmt: skip


@pytest.mark.parametrize(("names", "expected"), WINDOWS_ORDER_CASES)
def test_windows_output_is_sorted_case_insensitively(names: list[str], expected: list[str]) -> None:
    # Half the names are inherited, half created by ops (a drive variable can only be inherited).
    half = len(names) // 2
    base = {name: "1" for i, name in enumerate(names) if i < half or name.startswith("=")}
    ops = [S(name, "1") for name in names if name not in base]
    result = eo.compose(base, [layer("hook", *ops)], platform="windows")
    assert list(result.env) == expected
    reversed_base = dict(reversed(list(base.items())))
    again = eo.compose(reversed_base, [layer("hook", *reversed(ops))], platform="windows")
    assert list(again.env.items()) == list(result.env.items())


POSIX_ORDER_CASES = [
    pytest.param({"b": "1", "A": "1", "c": "1"}, [], ["b", "A", "c"],
                 id="the inherited order is kept"),
    pytest.param({"Z": "1", "A": "1"}, [S("Z", "2")], ["Z", "A"],
                 id="changing an inherited variable keeps its place"),
    pytest.param({"Z": "1"}, [S("M", "1"), S("B", "1")], ["Z", "M", "B"],
                 id="new variables follow in the order the ops created them"),
    pytest.param({"A": "1", "B": "1"}, [U("A"), S("A", "2")], ["B", "A"],
                 id="a variable unset and set again goes to the end"),
    pytest.param({"_X": "1", "a": "1", "Z": "1"}, [], ["_X", "a", "Z"],
                 id="nothing is sorted"),
]  # fmt: skip


@pytest.mark.parametrize(("base", "ops", "expected"), POSIX_ORDER_CASES)
def test_posix_output_keeps_insertion_order(
    base: dict[str, str], ops: list[eo.Op], expected: list[str]
) -> None:
    result = eo.compose(base, [layer("hook", *ops)], platform="posix")
    assert list(result.env) == expected


@pytest.mark.parametrize("platform", ["posix", "windows"])
def test_same_inputs_give_a_byte_identical_spawn_map(platform: eo.Platform) -> None:
    base = {"Path": "/a", "HOME": "/h", "zeta": "z", "ALPHA": "a", "LD_LIBRARY_PATH": "/l"}
    layers = [
        layer("thread", S("T", "1"), P("PATH", ["/t", "rel"])),
        layer("hook", S("H", "1"), A("Path", "/h"), S("LD_PRELOAD", "x")),
        layer("config", D("ALPHA", "no"), U("zeta")),
        layer("runtime", S("CODEX_THREAD_ID", "t1")),
    ]
    runs = [eo.compose(dict(base), list(layers), platform=platform) for _ in range(3)]
    blocks = [
        "".join(f"{name}={value}\0" for name, value in run.env.items()).encode(
            "utf-8", "surrogatepass"
        )
        for run in runs
    ]
    assert blocks[0] == blocks[1] == blocks[2]
    assert runs[0].diagnostics == runs[1].diagnostics == runs[2].diagnostics


# ---------------------------------------------------------------------------------------
# §2 validation
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


BASE_VALIDATION_CASES = [
    pytest.param("posix", "", "x", "invalid-name", id="posix: an inherited empty name"),
    pytest.param("posix", "A=B", "x", "invalid-name", id="posix: an inherited name with '='"),
    pytest.param("posix", "=C:", "C:\\", "invalid-name",
                 id="posix: an inherited name beginning with '='"),
    pytest.param("posix", "A\0B", "x", "nul", id="posix: an inherited name with NUL"),
    pytest.param("posix", "BAD", "x\0y", "nul", id="posix: an inherited value with NUL"),
    pytest.param("posix", "BAD", 1, "invalid-value", id="posix: an inherited int value"),
    pytest.param("posix", "BAD", None, "invalid-value", id="posix: an inherited None value"),
    pytest.param("posix", "BAD", b"x", "invalid-value", id="posix: an inherited bytes value"),
    pytest.param("posix", 7, "x", "invalid-name", id="posix: an inherited int name"),
    pytest.param("windows", "A=B", "x", "invalid-name", id="windows: an inherited name with '='"),
    pytest.param("windows", "=", "x", "invalid-name", id="windows: an inherited name of just '='"),
    pytest.param("windows", "==C:", "x", "invalid-name",
                 id="windows: an inherited name with a second '='"),
    pytest.param("windows", "BAD", ["x"], "invalid-value", id="windows: an inherited list value"),
    pytest.param("windows", "BAD", "x\0", "nul", id="windows: an inherited value with NUL"),
]  # fmt: skip


@pytest.mark.parametrize(("platform", "name", "value", "code"), BASE_VALIDATION_CASES)
def test_bad_inherited_entries_are_reported_and_left_out(
    platform: eo.Platform, name: Any, value: Any, code: str
) -> None:
    base: dict[Any, Any] = {"BEFORE": "1", name: value, "AFTER": "2"}
    result = eo.compose(base, [], platform=platform)
    assert result.env == {"AFTER": "2", "BEFORE": "1"}
    errors = result.errors
    assert [d.code for d in errors] == [code]
    assert errors[0].source == eo.Source("inherited", "launcher")
    assert not result.ok


SIZE_CASES = [
    # name "X": NAME=value is 2 + len(value) characters
    pytest.param("posix", "x" * (POSIX_LIMIT - 3), False,
                 id="posix: NAME=value of 131071 bytes plus NUL fits"),
    pytest.param("posix", "x" * (POSIX_LIMIT - 2), True,
                 id="posix: NAME=value of 131072 bytes plus NUL is too large"),
    pytest.param("posix", "\u00e9" * 65534 + "a", False,
                 id="posix: multi-byte UTF-8 exactly at the limit fits"),
    pytest.param("posix", "\u00e9" * 65535, True,
                 id="posix: the limit counts UTF-8 bytes, not characters"),
    pytest.param("posix", "x" * 40000, False,
                 id="posix: a value over the windows limit is fine on posix"),
    pytest.param("windows", "x" * (WINDOWS_LIMIT - 2), False,
                 id="windows: NAME=value of 32767 code units fits"),
    pytest.param("windows", "x" * (WINDOWS_LIMIT - 1), True,
                 id="windows: NAME=value of 32768 code units is too large"),
    pytest.param("windows", "\u00e9" * (WINDOWS_LIMIT - 2), False,
                 id="windows: a BMP character is one code unit"),
    pytest.param("windows", SUN * 16382 + "a", False,
                 id="windows: characters outside the BMP exactly at the limit fit"),
    pytest.param("windows", SUN * 16383, True,
                 id="windows: a character outside the BMP counts as two code units"),
]  # fmt: skip


@pytest.mark.parametrize(("platform", "value", "too_large"), SIZE_CASES)
def test_size_limit_of_a_value_set_by_an_op(
    platform: eo.Platform, value: str, too_large: bool
) -> None:
    result = eo.compose(
        {"KEEP": "1"}, [layer("hook", S("X", value), S("OTHER", "1"))], platform=platform
    )
    assert result.env["OTHER"] == "1"
    errors = found(result, "too-large")
    if too_large:
        assert "X" not in result.env
        assert [(d.severity, d.name, d.source) for d in errors] == [
            ("error", "X", eo.Source("hook", "hook"))
        ]
        assert result.provenance("X").history[-1].status == "rejected"
    else:
        assert errors == []
        assert result.env["X"] == value


@pytest.mark.parametrize(("platform", "value", "too_large"), SIZE_CASES)
def test_size_limit_of_an_inherited_value(
    platform: eo.Platform, value: str, too_large: bool
) -> None:
    result = eo.compose({"X": value, "KEEP": "1"}, [], platform=platform)
    assert result.env["X"] == value  # kept, never truncated
    errors = found(result, "too-large")
    if too_large:
        assert [(d.severity, d.name, d.source) for d in errors] == [
            ("error", "X", eo.Source("inherited", "launcher"))
        ]
    else:
        assert errors == []


GROWING_OP_CASES = [
    pytest.param("posix", "/" + "a" * (POSIX_LIMIT - 10), P("X", "/bbbbbbbbb"),
                 id="posix: a prepend that pushes a value over the limit is rejected"),
    pytest.param("posix", "/" + "a" * (POSIX_LIMIT - 10), A("X", "/bbbbbbbbb"),
                 id="posix: an append that pushes a value over the limit is rejected"),
    pytest.param("windows", "C:\\" + "a" * (WINDOWS_LIMIT - 10), P("X", "C:\\bbbbbb"),
                 id="windows: a prepend that pushes a value over the limit is rejected"),
    pytest.param("windows", "C:\\" + "a" * (WINDOWS_LIMIT - 10), A("x", "C:\\bbbbbb"),
                 id="windows: an append through another spelling is measured too"),
]  # fmt: skip


@pytest.mark.parametrize(("platform", "before", "op"), GROWING_OP_CASES)
def test_an_op_that_would_grow_a_value_over_the_limit_is_rejected(
    platform: eo.Platform, before: str, op: eo.Op
) -> None:
    result = eo.compose({"X": before}, [layer("provider", op, S("OTHER", "1"))], platform=platform)
    assert result.env == {"X": before, "OTHER": "1"}
    assert [(d.code, d.source) for d in result.errors] == [
        ("too-large", eo.Source("provider", "provider"))
    ]


@pytest.mark.parametrize("platform", ["posix", "windows"])
def test_a_default_that_does_not_fire_on_an_oversize_value_is_skipped(
    platform: eo.Platform,
) -> None:
    big = "x" * (POSIX_LIMIT if platform == "posix" else WINDOWS_LIMIT)
    result = eo.compose({"X": big}, [layer("hook", D("X", "small"))], platform=platform)
    assert result.env["X"] == big
    assert result.provenance("X").history[-1].status == "skipped"
    assert [d.source for d in found(result, "too-large")] == [eo.Source("inherited", "launcher")]


@pytest.mark.parametrize("via", ["an op", "the inherited map"], ids=lambda v: f"given by {v}")
@pytest.mark.parametrize("length", [1, 40_000], ids=["short", "long"])
def test_a_value_with_a_lone_surrogate_is_an_error_on_posix(via: str, length: int) -> None:
    value = "\ud800" * length
    base = {"X": value} if via == "the inherited map" else {}
    layers = [] if base else [layer("hook", S("X", value))]
    result = eo.compose(base, layers, platform="posix")
    assert "X" not in result.env
    assert [(d.code, d.name) for d in result.errors] == [("invalid-value", "X")]
    if length == 1:  # (40000 units would be over the Windows size limit)
        windows = eo.compose(base, layers, platform="windows")  # UTF-16 blocks carry them
        assert windows.env["X"] == value


BLOCK_CASES = [
    pytest.param("posix", {"A": "x" * 50, "B": "y" * 50}, 100, True,
                 id="posix: a block over a small configured limit is reported"),
    pytest.param("posix", {"A": "x" * 50, "B": "y" * 50}, 10_000, False,
                 id="posix: a block well under the configured limit is not"),
    pytest.param("posix", {f"V{i}": "x" * 120_000 for i in range(20)}, None, True,
                 id="posix: twenty 120 kB variables are over the default 2 MiB"),
    pytest.param("posix", {f"V{i}": "x" * 100_000 for i in range(10)}, None, False,
                 id="posix: ten 100 kB variables are under the default 2 MiB"),
    pytest.param("windows", {"A": "x" * 50, "B": "y" * 50}, 100, True,
                 id="windows: a block over a small configured limit is reported"),
    pytest.param("windows", {f"V{i}": "x" * 30_000 for i in range(40)}, None, True,
                 id="windows: forty 30000-unit variables are over the default 2 MiB"),
    pytest.param("windows", {f"V{i}": "x" * 30_000 for i in range(10)}, None, False,
                 id="windows: ten 30000-unit variables are under the default 2 MiB"),
]  # fmt: skip


@pytest.mark.parametrize(("platform", "base", "limit", "reported"), BLOCK_CASES)
def test_block_size_is_reported_never_truncated(
    platform: eo.Platform, base: dict[str, str], limit: int | None, reported: bool
) -> None:
    kwargs: dict[str, Any] = {} if limit is None else {"block_limit": limit}
    result = eo.compose(base, [], platform=platform, **kwargs)
    assert result.env == base
    errors = found(result, "block-too-large")
    assert len(errors) == (1 if reported else 0)
    assert all(d.severity == "error" for d in errors)


def test_an_op_pushing_the_block_over_the_limit_is_still_applied() -> None:
    result = eo.compose({"A": "x" * 50}, [layer("hook", S("B", "y" * 50))],
                        platform="posix", block_limit=100)  # fmt: skip
    assert result.env == {"A": "x" * 50, "B": "y" * 50}
    assert [d.code for d in result.errors] == ["block-too-large"]


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


# ---------------------------------------------------------------------------------------
# §2 strict mode
# ---------------------------------------------------------------------------------------

STRICT_CASES = [
    pytest.param({}, [("hook", "venv", [S("CODEX_THREAD_ID", "x")])], "protected",
                 "CODEX_THREAD_ID", id="a protected name"),
    pytest.param({}, [("provider", "direnv", [S("LD_PRELOAD", "x")])], "sensitive",
                 "LD_PRELOAD", id="a sensitive name under deny"),
    pytest.param({}, [("thread", "api", [S("BIG", "x" * POSIX_LIMIT)])], "too-large", "BIG",
                 id="an oversize value"),
    pytest.param({"BAD": 3}, [], "invalid-value", "BAD", id="a non-string inherited value"),
]  # fmt: skip


@pytest.mark.parametrize(("base", "specs", "code", "name"), STRICT_CASES)
def test_strict_mode_raises_naming_variable_layer_and_code(
    base: dict[str, Any], specs: list[LayerSpec], code: str, name: str
) -> None:
    layers = build(specs)
    kwargs: dict[str, Any] = {
        "platform": "posix", "protected": ["CODEX_THREAD_ID"], "sensitive": "deny"
    }  # fmt: skip
    assert not eo.compose(base, layers, **kwargs).ok
    with pytest.raises(eo.ComposeError) as caught:
        eo.compose(base, layers, strict=True, **kwargs)
    message = str(caught.value)
    assert name in message
    assert code in message
    where = str(layers[0].source) if layers else "launcher"
    assert where in message
    assert [d.code for d in caught.value.diagnostics] == [code]


def test_strict_mode_does_not_raise_on_warnings() -> None:
    result = eo.compose(
        {}, [layer("hook", S("LD_PRELOAD", "x"), P("PATH", "rel"), S("A-B", "1"))],
        platform="posix", strict=True,
    )  # fmt: skip
    assert result.ok
    assert {d.code for d in result.warnings} == {
        "sensitive", "relative-path-entry", "non-portable-name"
    }  # fmt: skip


# ---------------------------------------------------------------------------------------
# §2 provenance
# ---------------------------------------------------------------------------------------

PROVENANCE_CASES = [
    pytest.param("posix", {"PATH": "/a"},
                 [("hook", "venv", [P("PATH", "/v")]), ("thread", "t", [A("PATH", "/z")])],
                 "PATH", "thread:t",
                 [("inherited:launcher", "inherit", "/a", "applied"),
                  ("hook:venv", "prepend", "/v:/a", "applied"),
                  ("thread:t", "append", "/v:/a:/z", "applied")],
                 id="posix: the chain starts with the inherited value and ends at the source"),
    pytest.param("posix", {}, [("hook", "h", [S("X", "1")])], "X", "hook:h",
                 [("hook:h", "set", "1", "applied")],
                 id="posix: without an inherited value the chain starts with the first op"),
    pytest.param("posix", {"X": "v"}, [("hook", "h", [D("X", "d")])], "X", "inherited:launcher",
                 [("inherited:launcher", "inherit", "v", "applied"),
                  ("hook:h", "default", "v", "skipped")],
                 id="posix: a default that did not fire is skipped and not the source"),
    pytest.param("posix", {"X": ""}, [("hook", "h", [D("X", "d")])], "X", "hook:h",
                 [("inherited:launcher", "inherit", "", "applied"),
                  ("hook:h", "default", "d", "applied")],
                 id="posix: a default that fired on an empty value is the source"),
    pytest.param("posix", {"X": "v"},
                 [("config", "c", [S("X", "c")]), ("hook", "h", [D("X", "d")])], "X", "config:c",
                 [("inherited:launcher", "inherit", "v", "applied"),
                  ("config:c", "set", "c", "applied"),
                  ("hook:h", "default", "c", "skipped")],
                 id="posix: a skipped default leaves the earlier layer as the source"),
    pytest.param("posix", {"HOME": "/h"}, [("hook", "h", [S("HOME", "/x")])], "HOME",
                 "inherited:launcher",
                 [("inherited:launcher", "inherit", "/h", "applied"),
                  ("hook:h", "set", "/h", "rejected")],
                 id="posix: a rejected op is in the chain but not the source"),
    pytest.param("posix", {"X": "v"},
                 [("hook", "h", [U("X")]), ("thread", "t", [S("X", "s")])], "X", "thread:t",
                 [("inherited:launcher", "inherit", "v", "applied"),
                  ("hook:h", "unset", None, "applied"),
                  ("thread:t", "set", "s", "applied")],
                 id="posix: an unset and a later set are both in the chain"),
    pytest.param("windows", {"Path": "C:\\a"}, [("hook", "h", [P("PATH", "C:\\n")])], "PATH",
                 "hook:h",
                 [("inherited:launcher", "inherit", "C:\\a", "applied"),
                  ("hook:h", "prepend", "C:\\n;C:\\a", "applied")],
                 id="windows: ops through another spelling join the inherited chain"),
    pytest.param("windows", {"Path": "C:\\a"},
                 [("hook", "h", [S("PATH", "C:\\h")]), ("thread", "t", [D("path", "C:\\d")])],
                 "Path", "hook:h",
                 [("inherited:launcher", "inherit", "C:\\a", "applied"),
                  ("hook:h", "set", "C:\\h", "applied"),
                  ("thread:t", "default", "C:\\h", "skipped")],
                 id="windows: a skipped default through another spelling is not the source"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("platform", "base", "specs", "name", "source", "history"), PROVENANCE_CASES
)
def test_provenance_chain(
    platform: eo.Platform,
    base: dict[str, str],
    specs: list[LayerSpec],
    name: str,
    source: str,
    history: list[tuple[str, str, str | None, str]],
) -> None:
    result = eo.compose(base, build(specs), platform=platform, protected=["HOME"])
    provenance = result.provenance(name)
    assert str(provenance.source) == source
    assert [(str(c.source), c.action, c.value, c.status) for c in provenance.history] == history
    assert provenance.value == result.env.get(provenance.name)
    if provenance.value is not None:
        assert result.variables[provenance.name] == provenance


REMOVED_CASES = [
    pytest.param("posix", {"X": "v"}, [("hook", "h", [U("X")])], None, "X", "hook:h",
                 id="posix: an unset op is who removed a variable"),
    pytest.param("posix", {"X": "v"},
                 [("hook", "h", [S("X", "s")]), ("thread", "t", [U("X")])], None, "X", "thread:t",
                 id="posix: the last unset is who removed a variable"),
    pytest.param("posix", {}, [("hook", "h", [S("X", "s")]), ("thread", "t", [U("X")])], None,
                 "X", "thread:t", id="posix: a variable set and unset by ops is removed"),
    pytest.param("posix", {"AWS_KEY": "k"}, [], eo.InheritPolicy(exclude=["AWS_*"]), "AWS_KEY",
                 "inherit-policy", id="posix: the inherit policy is who removed an excluded one"),
    pytest.param("posix", {"FOO": "1"}, [], eo.InheritPolicy(inherit="none"), "FOO",
                 "inherit-policy", id="posix: inherit none removes every inherited variable"),
    pytest.param("windows", {"Path": "C:\\a"}, [("hook", "h", [U("PATH")])], None, "Path",
                 "hook:h", id="windows: a removed variable is listed under its inherited spelling"),
    pytest.param("windows", {"Foo": "1"}, [], eo.InheritPolicy(include_only=["PATH"]), "Foo",
                 "inherit-policy", id="windows: include_only removes unmatched inherited ones"),
]  # fmt: skip


@pytest.mark.parametrize(("platform", "base", "specs", "policy", "name", "remover"), REMOVED_CASES)
def test_removed_names_who_removed_them(
    platform: eo.Platform,
    base: dict[str, str],
    specs: list[LayerSpec],
    policy: eo.InheritPolicy | None,
    name: str,
    remover: str,
) -> None:
    result = eo.compose(base, build(specs), platform=platform, policy=policy)
    assert name not in result.env
    removed = result.removed[name]
    assert removed.value is None
    assert remover in (str(removed.source), removed.source.id)
    if name in base:
        assert removed.history[0].action == "inherit"
        assert removed.history[0].value == base[name]


@pytest.mark.parametrize(
    ("specs", "protected"),
    [
        pytest.param([("hook", "h", [S("CODEX_THREAD_ID", "x")])], ["CODEX_THREAD_ID"],
                     id="a rejected set of a name that never existed"),
        pytest.param([("hook", "h", [S("X", "1")])], [], id="a name that is set"),
        pytest.param([("hook", "h", [D("X", "1")])], [], id="a name a default set"),
    ],
)  # fmt: skip
def test_removed_lists_only_variables_that_existed(
    specs: list[LayerSpec], protected: list[str]
) -> None:
    result = eo.compose({"KEEP": "1"}, build(specs), platform="posix", protected=protected)
    assert result.removed == {}


# ---------------------------------------------------------------------------------------
# §2 secrets
# ---------------------------------------------------------------------------------------

SECRET = "hunter2-s3cr3t"


def _secret_layers(form: str, platform: eo.Platform) -> tuple[list[eo.Layer], str]:
    """Layers giving SECRET to a variable in one way, and the variable's name. Every
    scenario also has a rejected secret op (protected) and an oversize secret op."""
    rejected = layer(
        "hook",
        S("CODEX_THREAD_ID", SECRET, secret=True),
        S("HUGE", SECRET + "x" * POSIX_LIMIT, secret=True),
        lid="rejects",
    )
    if form == "set":
        made = layer("hook", S("DB_PASSWORD", SECRET, secret=True))
        name = "DB_PASSWORD"
    elif form == "default":
        made = layer("provider", D("DB_PASSWORD", SECRET, secret=True))
        name = "DB_PASSWORD"
    elif form == "prepend":
        # SECRET is a relative entry: the relative-path warning must not show it
        made = layer("hook", P("CRED_PATH", [SECRET], secret=True))
        name = "CRED_PATH"
    elif form == "append":
        made = layer("thread", A("PATH", [SECRET], secret=True))
        name = "PATH"
    else:
        made = eo.Layer.from_overlay(
            {"DB_PASSWORD": {"set": SECRET, "secret": True}}, kind="hook", id="h", platform=platform
        )
        name = "DB_PASSWORD"
    return [rejected, made, layer("thread", S("AFTER", "1"), lid="t2")], name


SECRET_FORMS = ["set", "default", "prepend", "append", "overlay"]


def _everything_but_the_env(result: eo.ComposeResult, layers: list[eo.Layer], surface: str) -> str:
    if surface == "repr of the result":
        return repr(result)
    if surface == "redacted env":
        return json.dumps(result.redacted_env())
    if surface == "repr of ops and layers":
        return repr(layers) + "".join(repr(op) + op.describe() for lay in layers for op in lay.ops)
    if surface == "diagnostics":
        return "\n".join(
            f"{d.message}|{d.hint}|{d.describe()}|{d!r}|{json.dumps(d.to_json())}"
            for d in result.diagnostics
        )
    if surface == "provenance and contributions":
        parts = []
        for name in [*result.env, "CODEX_THREAD_ID", "HUGE"]:
            provenance = result.provenance(name)
            parts.append(repr(provenance))
            parts.append(str(provenance.shown_value))
            parts.append(str(provenance.overridden))
            for step in provenance.history:
                parts.append(repr(step))
                parts.append(str(step.shown_value))
                parts.append(repr(step.argument))
        return "\n".join(parts)
    if surface == "explain json":
        return json.dumps({name: p.to_json() for name, p in result.variables.items()}) + json.dumps(
            {name: p.to_json() for name, p in result.removed.items()}
        )
    raise AssertionError(surface)


SECRET_SURFACES = [
    "repr of the result",
    "redacted env",
    "repr of ops and layers",
    "diagnostics",
    "provenance and contributions",
    "explain json",
]


@pytest.mark.parametrize("platform", ["posix", "windows"])
@pytest.mark.parametrize("form", SECRET_FORMS, ids=lambda f: f"secret given by {f}")
def test_a_secret_is_real_in_the_spawn_map(platform: eo.Platform, form: str) -> None:
    layers, name = _secret_layers(form, platform)
    base = {"PATH": "/usr/bin"}
    result = eo.compose(base, layers, platform=platform, protected=["CODEX_THREAD_ID"])
    assert SECRET in result.env[name]
    assert result.is_secret(name)
    assert result.redacted_env()[name] == eo.REDACTED
    assert result.provenance(name).shown_value == eo.REDACTED
    assert "CODEX_THREAD_ID" not in result.env
    assert "HUGE" not in result.env


@pytest.mark.parametrize("platform", ["posix", "windows"])
@pytest.mark.parametrize("form", SECRET_FORMS, ids=lambda f: f"secret given by {f}")
@pytest.mark.parametrize("surface", SECRET_SURFACES, ids=lambda s: f"absent from the {s}")
def test_a_secret_is_redacted_everywhere_else(
    platform: eo.Platform, form: str, surface: str
) -> None:
    layers, _ = _secret_layers(form, platform)
    result = eo.compose({"PATH": "/usr/bin"}, layers, platform=platform,
                        protected=["CODEX_THREAD_ID"])  # fmt: skip
    text = _everything_but_the_env(result, layers, surface)
    assert SECRET not in text
    assert "s3cr3t" not in text


@pytest.mark.parametrize("platform", ["posix", "windows"])
@pytest.mark.parametrize("form", SECRET_FORMS, ids=lambda f: f"secret given by {f}")
def test_a_secret_is_absent_from_the_strict_mode_error(platform: eo.Platform, form: str) -> None:
    layers, _ = _secret_layers(form, platform)
    with pytest.raises(eo.ComposeError) as caught:
        eo.compose({"PATH": "/usr/bin"}, layers, platform=platform,
                   protected=["CODEX_THREAD_ID"], strict=True)  # fmt: skip
    text = str(caught.value) + repr(caught.value) + repr(caught.value.diagnostics)
    assert "CODEX_THREAD_ID" in text
    assert "HUGE" in text
    assert SECRET not in text


@pytest.mark.parametrize("platform", ["posix", "windows"])
def test_a_secret_later_unset_leaves_no_trace(platform: eo.Platform) -> None:
    layers = [layer("hook", S("TOKEN", SECRET, secret=True)), layer("thread", U("TOKEN"))]
    result = eo.compose({}, layers, platform=platform)
    assert "TOKEN" not in result.env
    removed = result.removed["TOKEN"]
    assert SECRET not in repr(removed) + repr(removed.history)
    assert SECRET not in json.dumps(removed.to_json())


@pytest.mark.parametrize("platform", ["posix", "windows"])
def test_a_non_secret_op_on_a_secret_value_keeps_it_secret(platform: eo.Platform) -> None:
    layers = [layer("hook", S("CREDS", SECRET, secret=True)),
              layer("thread", A("CREDS", "/more"), D("CREDS", "other"))]  # fmt: skip
    result = eo.compose({}, layers, platform=platform)
    assert SECRET in result.env["CREDS"]
    assert result.redacted_env()["CREDS"] == eo.REDACTED
    assert SECRET not in repr(result.provenance("CREDS").history)
