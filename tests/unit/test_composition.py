"""Unit tests of envoverlay.composition: the fold, and the Composer that remembers results.

compose() is pure: it keeps nothing between calls. A Composer answers an equal call (the
same stack over a base equal by names and values, in order) with the same immutable
result, and nothing else ever does (a changed, reordered or mutated base, other layers).
"""

from __future__ import annotations

import gc
import importlib
import json
import sys
import threading
import types
from collections import UserString
from typing import Any, cast
from unittest import mock

import pytest
from compose_cases import (
    FULLWIDTH_BANG,
    PI_SMALL,
    POSIX_LIMIT,
    SUN,
    WINDOWS_LIMIT,
    A,
    D,
    LayerSpec,
    P,
    S,
    U,
    build,
    fold,
    found,
    layer,
)  # fmt: skip
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    DRIVE_AND_BAD_NAMES,
    LAYER_KINDS,
    PLATFORMS,
    SENSITIVE_MODES,
    bases,
    layers,
    names,
    ops,
    values,
)

import envoverlay as eo
from envoverlay._names import DEFAULT_BLOCK_LIMIT, PlatformRules, rules_for

HOOK = eo.Layer.from_overlay(
    {"PATH": {"prepend": "/venv/bin"}, "TOKEN": {"set": "s3cret", "secret": True}},
    kind="hook",
    id="venv",
)


def posix() -> eo.Composer:
    return eo.Composer(platform="posix")


def test_an_equal_call_returns_the_same_result() -> None:
    composer = posix()
    base = {"PATH": "/usr/bin", "HOME": "/h"}
    first = composer.compose(base, [HOOK])
    again = composer.compose(dict(base), (HOOK,))
    assert again is first


def test_compose_itself_keeps_nothing_between_calls() -> None:
    """compose() is pure: an equal call folds again (and no module holds the result)."""
    base = {"PATH": "/usr/bin"}
    first = eo.compose(base, [HOOK], platform="posix")
    again = eo.compose(base, [HOOK], platform="posix")
    assert again is not first
    assert list(again.env.items()) == list(first.env.items())


def test_two_composers_share_nothing() -> None:
    base = {"PATH": "/usr/bin"}
    one, other = posix(), posix()
    assert one.compose(base, [HOOK]) is not other.compose(base, [HOOK])


def test_env_is_a_new_dict_each_time_so_a_caller_cannot_poison_the_next_call() -> None:
    composer = posix()
    base = {"PATH": "/usr/bin"}
    env = composer.compose(base, [HOOK]).env
    env["PATH"] = "tampered"
    env["EXTRA"] = "x"
    assert composer.compose(base, [HOOK]).env == {"PATH": "/venv/bin:/usr/bin", "TOKEN": "s3cret"}


def test_mutating_the_base_after_composing_is_seen_by_the_next_call() -> None:
    composer = posix()
    base = {"PATH": "/usr/bin"}
    first = composer.compose(base, [HOOK])
    base["PATH"] = "/opt/bin"
    second = composer.compose(base, [HOOK])
    assert second is not first
    assert second.env["PATH"] == "/venv/bin:/opt/bin"


def test_the_same_names_in_another_order_fold_again() -> None:
    """Order decides which spelling a Windows child sees (and the posix output order)."""
    windows = eo.Composer(platform="windows")
    assert windows.compose({"Path": "a", "PATH": "b"}).env == {"Path": "a"}
    assert windows.compose({"PATH": "b", "Path": "a"}).env == {"PATH": "b"}
    composer = posix()
    assert list(composer.compose({"A": "1", "B": "2"}).env) == ["A", "B"]
    assert list(composer.compose({"B": "2", "A": "1"}).env) == ["B", "A"]


@pytest.mark.parametrize(
    "options",
    [
        {"platform": "windows"},
        {"protected": ["TOKEN"]},
        {"protected": "TOKEN"},
        {"sensitive": "deny"},
        {"base_id": "daemon"},
        {"block_limit": 10},
        {"policy": eo.InheritPolicy(exclude=["HOME"])},
        {"precedence": ["config", "provider", "thread", "hook"]},
    ],
)
def test_a_composer_gives_what_compose_gives_with_its_options(options: dict[str, object]) -> None:
    base = {"PATH": "/usr/bin", "HOME": "/h", "LD_PRELOAD": "x"}
    layer = eo.Layer.from_overlay({"LD_PRELOAD": "/evil.so"}, kind="hook", id="h")
    composer = eo.Composer(**options)  # type: ignore[arg-type]
    remembered = composer.compose(base, [HOOK, layer])
    assert composer.compose(base, [HOOK, layer]) is remembered
    fresh = eo.compose(base, [HOOK, layer], **options)  # type: ignore[arg-type]
    assert list(remembered.env.items()) == list(fresh.env.items())
    assert remembered.diagnostics == fresh.diagnostics


def test_a_bare_string_protects_one_name_not_its_letters() -> None:
    forged = eo.Layer.from_overlay({"CODEX_THREAD_ID": "x", "C": "1"}, kind="hook", id="h")
    result = eo.Composer(platform="posix", protected="CODEX_THREAD_ID").compose({}, [forged])
    assert [(d.code, d.name) for d in result.errors] == [("protected", "CODEX_THREAD_ID")]
    assert result.env == {"C": "1"}


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"platform": "beos"}, "platform"),
        ({"sensitive": "maybe"}, "sensitive"),
        ({"precedence": ["hook"]}, "precedence"),
        ({"remember": -1}, "remember"),
    ],
)
def test_bad_composer_options_are_refused(options: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        eo.Composer(**options)  # type: ignore[arg-type]


def test_other_layers_fold_again() -> None:
    composer = posix()
    base = {"PATH": "/usr/bin"}
    composer.compose(base, [HOOK])
    other = eo.Layer.from_overlay({"PATH": {"prepend": "/other/bin"}}, kind="hook", id="venv")
    assert composer.compose(base, [other]).env["PATH"] == "/other/bin:/usr/bin"


def test_values_of_other_types_are_never_answered_from_memory() -> None:
    """1 == True, but the diagnostic must name the type the caller gave."""
    composer = posix()
    as_int = composer.compose({"A": 1})  # type: ignore[dict-item]
    as_bool = composer.compose({"A": True})  # type: ignore[dict-item]
    assert "not int" in as_int.diagnostics[0].message
    assert "not bool" in as_bool.diagnostics[0].message


def test_strict_raises_for_a_remembered_result_too() -> None:
    composer = eo.Composer(protected=["CODEX_THREAD_ID"])
    forged = eo.Layer.from_overlay({"CODEX_THREAD_ID": "x"}, kind="hook", id="h")
    assert not composer.compose({}, [forged]).ok
    with pytest.raises(eo.ComposeError, match="CODEX_THREAD_ID"):
        composer.compose({}, [forged], strict=True)


def test_bad_arguments_still_raise_when_unhashable() -> None:
    with pytest.raises(TypeError, match="Layer objects"):
        posix().compose({}, [{"PATH": "x"}])  # type: ignore[list-item]


@pytest.mark.parametrize("remember", [0, 1, 5])
def test_only_a_bounded_number_of_stacks_is_kept(remember: int) -> None:
    composer = eo.Composer(platform="posix", remember=remember)
    stacks = [[eo.Layer.from_overlay({"N": str(n)}, kind="hook", id="h")] for n in range(9)]
    first = [composer.compose({}, stack) for stack in stacks]
    again = [composer.compose({}, stack) for stack in stacks[-remember:]] if remember else []
    assert again == first[len(first) - remember :]
    assert all(composer.compose({}, stack) is not result for stack, result in
               zip(stacks[: len(stacks) - remember - 1], first, strict=False))  # fmt: skip


@given(bases, layers(), PLATFORMS, SENSITIVE_MODES)
def test_a_remembered_result_is_what_folding_again_gives(base, layer_list, platform, sensitive):
    composer = eo.Composer(platform=platform, sensitive=sensitive)
    first = composer.compose(base, layer_list)
    remembered = composer.compose(dict(base), list(layer_list))
    fresh = eo.compose(base, layer_list, platform=platform, sensitive=sensitive)
    assert remembered is first
    assert list(remembered.env.items()) == list(fresh.env.items())
    assert remembered.diagnostics == fresh.diagnostics
    assert remembered.variables == fresh.variables
    assert remembered.removed == fresh.removed


def test_an_object_equal_to_a_string_is_never_answered_from_memory() -> None:
    """UserString("x") == "x", but it is not a string: the fold reports it every time."""
    composer = posix()
    layer = eo.Layer.from_overlay({"B": "1"}, kind="hook", id="h")
    assert composer.compose({"A": "x"}, [layer]).ok
    odd = composer.compose({"A": UserString("x")}, [layer])  # type: ignore[dict-item]
    assert [d.code for d in odd.errors] == ["invalid-value"]
    assert "A" not in odd.env


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({}, {"": ""}),
        ({"": ""}, {}),
        ({"A": "1\0", "B": "2"}, {"A": "1", "B": "\0" + "2"}),
        ({"A\0B": "1", "C": "2"}, {"A": "1", "B\0C": "2"}),
        ({"A": "1", "B": "2"}, {"B": "2", "A": "1"}),
    ],
)
def test_only_an_equal_base_is_answered_from_memory(
    first: dict[str, str], second: dict[str, str]
) -> None:
    """Bases that differ subtly from the remembered one (an empty name, the same texts cut
    elsewhere, another order) fold again."""
    composer = posix()
    remembered = composer.compose(first, [HOOK])
    result = composer.compose(second, [HOOK])
    fresh = eo.compose(second, [HOOK], platform="posix")
    assert result is not remembered
    assert list(result.env.items()) == list(fresh.env.items())
    assert result.diagnostics == fresh.diagnostics


def test_what_is_remembered_is_what_was_folded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A base changed while it is being folded (another thread writing os.environ) is never
    remembered under its new value."""
    composer = posix()
    base = {"A": "old"}
    fold = eo.Composer._fold

    def fold_while_another_thread_writes(self: eo.Composer, *args: object) -> object:
        result = fold(self, *args)  # type: ignore[arg-type]
        base["A"] = "new"
        return result

    monkeypatch.setattr(eo.Composer, "_fold", fold_while_another_thread_writes)
    assert composer.compose(base, [HOOK]).env["A"] == "old"
    monkeypatch.setattr(eo.Composer, "_fold", fold)
    assert composer.compose(base, [HOOK]).env["A"] == "new"


def test_a_recently_used_stack_is_kept() -> None:
    """Least recently used goes first: a stack composed before every spawn stays while
    others come and go."""
    composer = eo.Composer(platform="posix", remember=4)
    base = {"PATH": "/usr/bin"}
    first = composer.compose(base, [HOOK])
    for index in range(12):
        layer = eo.Layer.from_overlay({"N": str(index)}, kind="hook", id="h")
        composer.compose({}, [layer])
        assert composer.compose(base, [HOOK]) is first


def holds(root: object, text: str) -> bool:
    """Whether the string ``text`` is reachable from ``root`` (modules are not entered)."""
    seen: set[int] = set()
    todo = [root]
    while todo:
        item = todo.pop()
        if id(item) in seen or isinstance(item, types.ModuleType):
            continue
        seen.add(id(item))
        if isinstance(item, str):
            if text in item:
                return True
            continue
        todo.extend(gc.get_referents(item))
    return False


def secret_layer(secret: str) -> eo.Layer:
    return eo.Layer.from_overlay({"DB": {"set": secret, "secret": True}}, kind="hook", id="h")


def test_clearing_forgets_results_and_their_secrets() -> None:
    secret = "".join(["hunter", "2-clear"])  # built at run time: not a code constant
    composer = posix()
    first = composer.compose({}, [secret_layer(secret)])
    assert holds(composer, secret)
    composer.clear()
    assert not holds(composer, secret)
    assert composer.compose({}, [secret_layer(secret)]) is not first


@pytest.mark.parametrize(
    "module", ["envoverlay.composition", "envoverlay.ops", "envoverlay._names", "envoverlay.policy"]
)
def test_no_module_level_state_holds_a_secret(module: str) -> None:
    """compose() leaves no secret behind in a module: nothing but the result holds it."""
    secret = "".join(["hunter", "2-module"])
    result = eo.compose({}, [secret_layer(secret)], platform="posix")
    assert result.env["DB"] == secret
    assert not holds(vars(importlib.import_module(module)), secret)


def test_clear_compose_cache_is_deprecated_and_does_nothing() -> None:
    with pytest.warns(DeprecationWarning, match="Composer"):
        eo.clear_compose_cache()


def test_a_base_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(TypeError, match="base must be a mapping"):
        posix().compose([("A", "1")])  # type: ignore[arg-type]


def test_windows_provenance_is_right_when_threads_share_a_result() -> None:
    """Results are shared; the Windows name index is built aside and published at once."""
    base = {f"V{n}": str(n) for n in range(3000)}

    def look_up(result: eo.ComposeResult, n: int, seen: list[str | None]) -> None:
        seen.append(result.provenance(f"V{n}").value)

    names = (0, 1, 2999, 1500, 2000, 2500)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        for _ in range(30):
            result = eo.compose(base, platform="windows")
            seen: list[str | None] = []
            workers = [threading.Thread(target=look_up, args=(result, n, seen)) for n in names]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            assert sorted(seen, key=str) == sorted((str(n) for n in names), key=str)
    finally:
        sys.setswitchinterval(interval)


# == the composition rules of SPEC §1 and §2, as tables, on posix and on windows ==========
# Written from the SPEC and the OS facts it cites, not from the implementation.

# ---------------------------------------------------------------------------------------
# §1 set / unset / default, folded over several layers
# ---------------------------------------------------------------------------------------


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
# §2 sizes in the fold: an edit that would grow a value over the limit is rejected
# ---------------------------------------------------------------------------------------

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


def one_separator_per_variable(ops: list[eo.Op], platform: eo.Platform) -> bool:
    """Whether each variable's path edits use one single-character separator: stacks
    applied twice then give what they give once (docs/concepts.md). Edits of one variable
    with two separators are not idempotent: each reads the other's separator as text."""
    separator = eo.rules_for(platform).separator
    key = fold(platform)
    used: dict[str, str] = {}
    for op in ops:
        if op.action in ("prepend", "append"):
            sep = op.separator or separator
            if len(sep) > 1 or used.setdefault(key(op.name), sep) != sep:
                return False
    return True


@given(bases, layers(), PLATFORMS)
def test_applying_a_layer_twice_is_applying_it_once(base, layer_list, platform):
    """docs/concepts.md: with one-character separators, every op is idempotent."""
    if not one_separator_per_variable([op for stack in layer_list for op in stack.ops], platform):
        return
    once = eo.compose(base, layer_list, platform=platform)
    twice = eo.compose(base, [*layer_list, *layer_list], platform=platform)
    assert once.env == twice.env


def test_windows_provenance_of_every_variable_of_a_large_map():
    """variables gives each name's provenance on windows too (the lookups by folded key
    were once quadratic; the speed is measured in benchmarks/, this checks the answers)."""
    base = {f"V{i}": str(i) for i in range(3000)}
    result = eo.compose(base, platform="windows")
    variables = result.variables
    assert len(variables) == 3000
    assert variables["V2999"].value == "2999"
    assert result.provenance("v2999").name == "V2999"  # looked up by its folded key


# ---------------------------------------------------------------------------------------
# invariants of compose(), checked with hypothesis
# ---------------------------------------------------------------------------------------


@given(bases, layers(), PLATFORMS, SENSITIVE_MODES)
def test_compose_is_deterministic(base, layer_list, platform, sensitive):
    first = eo.compose(base, layer_list, platform=platform, sensitive=sensitive)
    second = eo.compose(dict(base), list(layer_list), platform=platform, sensitive=sensitive)
    assert list(first.env.items()) == list(second.env.items())
    assert first.diagnostics == second.diagnostics
    assert repr(first) == repr(second)


@given(bases, layers(kinds=LAYER_KINDS[:-1]), PLATFORMS)
def test_no_non_runtime_layer_changes_a_protected_name(base, layer_list, platform):
    protected = ["CODEX_THREAD_ID", "HOME"]
    result = eo.compose(base, layer_list, platform=platform, protected=protected)
    key = fold(platform)
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
    key = fold(platform)
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
    folded = [eo.windows_fold(name) for name in result.env]
    assert len(folded) == len(set(folded))
    assert folded == sorted(folded, key=lambda k: k.encode("utf-16-be", "surrogatepass"))


@given(bases, st.lists(ops(), max_size=8), PLATFORMS, st.sampled_from(LAYER_KINDS[:-1]))
def test_applying_a_layer_twice_equals_once(base, op_list, platform, kind):
    # Each variable gets one op per layer, as in the overlay format.
    seen: set[str] = set()
    key = fold(platform)
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
        key = fold(platform)
        assert key(name) not in {key(n) for n in result.env}


@given(st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=6), PLATFORMS)
def test_any_base_map_composes_without_raising(base, platform):
    result = eo.compose(base, [], platform=platform)
    for name, value in result.env.items():
        assert "\0" not in name
        assert "\0" not in value
        assert name
        assert "=" not in name[1:]


# Lengths around both platforms' thresholds: the per-variable limits (131,072 bytes, 32,767
# UTF-16 units), the characters that fit whatever they hold (a quarter of each, less two)
# and half of those, spelled with characters of 1, 2 and 4 bytes (1 or 2 UTF-16 units).
_SIZE_LENGTHS = (0, 3, 4094, 4095, 4096, 8189, 8190, 16382, 16383, 16384, 32766, 32767, 65540)
_sized_texts = st.tuples(
    st.sampled_from(("x", "\u00e9", "\U0001f600")), st.sampled_from(_SIZE_LENGTHS)
)
_sized_values = st.one_of(_sized_texts.map(lambda drawn: drawn[0] * drawn[1]), values)
_sized_names = st.one_of(names, _sized_texts.map(lambda drawn: "N" + drawn[0] * drawn[1]))
_sized_bases = st.dictionaries(_sized_names, _sized_values, max_size=6)
# None, or a policy that removes some inherited names (long ones start with N).
_size_policies = st.sampled_from(
    [None, eo.InheritPolicy(exclude=["N*", "PATH"]), eo.InheritPolicy(exclude=["FOO", "HOME"])]
)


def _expected_size_findings(
    base: dict[str, str], result: eo.ComposeResult, block_limit: int
) -> list[tuple[str, str | None, str]]:
    """The size findings on what was inherited, measured entry by entry: every spawn-map
    entry still holding its inherited value (the first spelling's, on Windows) over the
    per-variable limit, then the block over ``block_limit``."""
    rules = rules_for(result.platform)
    key = fold(result.platform)
    inherited: dict[str, str] = {}
    for name, value in base.items():
        inherited.setdefault(key(name), value)
    env = result.env
    out = []
    for name, value in env.items():
        if inherited.get(key(name)) == value:
            problem = rules.variable_too_large(name, value, origin="inherited")
            if problem is not None:
                out.append((problem.code, name, problem.message))
    problem = rules.block_too_large(env, block_limit)
    if problem is not None:
        out.append((problem.code, None, problem.message))
    return out


@given(_sized_bases, layers(), PLATFORMS, _size_policies, st.data())
def test_size_checks_from_the_base_measures_agree_with_measuring_every_entry(
    base, layer_list, platform, policy, data
):
    """compose() works the spawn map's size out from what the clean base's check measured
    and the variables the fold touched (no pass over the whole map); the findings are the
    ones measuring every entry gives, at a block limit one byte either side of the size."""
    size = rules_for(platform).block_size(
        eo.compose(base, layer_list, platform=platform, policy=policy).env.items()
    )
    block_limit = size + data.draw(st.sampled_from((-1, 0, 1)))
    result = eo.compose(base, layer_list, platform=platform, policy=policy, block_limit=block_limit)
    findings = [
        (d.code, d.name, d.message)
        for d in result.diagnostics
        if d.code in ("too-large", "block-too-large") and d.source in (None, result.base_source)
    ]
    assert findings == _expected_size_findings(base, result, block_limit)


@given(_sized_bases, layers(), PLATFORMS, _size_policies)
def test_the_block_check_is_given_the_spawn_maps_characters(base, layer_list, platform, policy):
    """The characters compose() hands the block check (worked out from the base's and the
    touched variables') are those of the spawn map's names and values, or none at all."""
    given: list[int | None] = []
    check = PlatformRules.block_too_large

    def spy(self, env, block_limit=DEFAULT_BLOCK_LIMIT, *, chars=None):
        given.append(chars)
        return check(self, env, block_limit, chars=chars)

    with mock.patch.object(PlatformRules, "block_too_large", spy):
        env = eo.compose(base, layer_list, platform=platform, policy=policy).env
    assert given in ([None], [sum(map(len, env)) + sum(map(len, env.values()))])


_H = "\U0001f600"  # 4 bytes, 2 UTF-16 units


# (platform, base, ops of one hook layer): each has an inherited variable over the
# per-variable limit next to a long PATH the hook changes.
SIZE_FAST_PATH_CASES = [
    pytest.param("posix", {"PATH": "/a:" * 20_000, "BIG": _H * 32_767}, [P("PATH", "/v")],
                 id="posix: an untouched value over the limit beside a changed long PATH"),
    pytest.param("posix", {"PATH": "/a:" * 20_000, "BIG": _H * 32_767},
                 [P("PATH", "/v"), D("BIG", "small")],
                 id="posix: a touched value over the limit that a default leaves as it is"),
    pytest.param("posix", {"PATH": "/a:" * 20_000, "N" * 70_000: "x" * 70_000},
                 [P("PATH", "/v")], id="posix: a long name and a long value over the limit"),
    pytest.param("windows", {"=C:": "C:\\", "Path": "C:\\a;" * 6_000, "BIG": "x" * 32_767},
                 [P("PATH", "C:\\v")],
                 id="windows: an untouched value over the limit beside a changed long Path"),
    pytest.param("windows", {"Path": "C:\\a;" * 6_000, "=" + "D" * 32_767: "x"},
                 [P("PATH", "C:\\v")], id="windows: a hidden name over the limit"),
    pytest.param("windows", {"Path": "C:\\a;" * 6_000, "BIG": "x" * 32_767},
                 [P("PATH", "C:\\v"), S("BIG", "x" * 32_767)],
                 id="windows: a value over the limit an op rejects, so it stays inherited"),
]  # fmt: skip


@pytest.mark.parametrize(("platform", "base", "hook_ops"), SIZE_FAST_PATH_CASES)
def test_an_inherited_value_over_the_limit_is_found_beside_changed_long_ones(
    platform, base, hook_ops
):
    result = eo.compose(
        base, [eo.Layer.from_ops(hook_ops, kind="hook", id="hook")], platform=platform
    )
    findings = [
        (d.code, d.name, d.message)
        for d in result.diagnostics
        if d.code == "too-large" and d.source == result.base_source
    ]
    assert findings
    assert findings == _expected_size_findings(base, result, DEFAULT_BLOCK_LIMIT)[: len(findings)]


@given(
    st.dictionaries(st.one_of(names, st.sampled_from(DRIVE_AND_BAD_NAMES)), values, max_size=8),
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
