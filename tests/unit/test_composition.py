"""Unit tests of envoverlay.composition: the fold, and the Composer that remembers results.

compose() is pure: it keeps nothing between calls. A Composer answers an equal call (the
same stack over a base equal by names and values, in order) with the same immutable
result, and nothing else ever does (a changed, reordered or mutated base, other layers).
"""

from __future__ import annotations

import gc
import importlib
import sys
import threading
import types
from collections import UserString

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_properties import PLATFORMS, bases, layers

import envoverlay as eo

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


@given(bases, layers(), PLATFORMS, st.sampled_from(["warn", "deny", "allow"]))
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
