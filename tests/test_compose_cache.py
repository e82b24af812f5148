"""compose() remembers its recent results: an equal call returns the same immutable result,
and nothing else ever does (a changed, reordered or mutated base, other layers or options)."""

from __future__ import annotations

import importlib
import sys
import threading
from collections import UserString
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_properties import PLATFORMS, bases, layers

import envoverlay as eo
from envoverlay.composition import clear_compose_cache

HOOK = eo.Layer.from_overlay(
    {"PATH": {"prepend": "/venv/bin"}, "TOKEN": {"set": "s3cret", "secret": True}},
    kind="hook",
    id="venv",
)


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    clear_compose_cache()
    yield
    clear_compose_cache()


def test_an_equal_call_returns_the_same_result() -> None:
    base = {"PATH": "/usr/bin", "HOME": "/h"}
    first = eo.compose(base, [HOOK], platform="posix")
    again = eo.compose(dict(base), (HOOK,), platform="posix")
    assert again is first


def test_env_is_a_new_dict_each_time_so_a_caller_cannot_poison_the_next_call() -> None:
    base = {"PATH": "/usr/bin"}
    env = eo.compose(base, [HOOK], platform="posix").env
    env["PATH"] = "tampered"
    env["EXTRA"] = "x"
    assert eo.compose(base, [HOOK], platform="posix").env == {
        "PATH": "/venv/bin:/usr/bin",
        "TOKEN": "s3cret",
    }


def test_mutating_the_base_after_composing_is_seen_by_the_next_call() -> None:
    base = {"PATH": "/usr/bin"}
    first = eo.compose(base, [HOOK], platform="posix")
    base["PATH"] = "/opt/bin"
    second = eo.compose(base, [HOOK], platform="posix")
    assert second is not first
    assert second.env["PATH"] == "/venv/bin:/opt/bin"


def test_the_same_names_in_another_order_fold_again() -> None:
    """Order decides which spelling a Windows child sees (and the posix output order)."""
    one = eo.compose({"Path": "a", "PATH": "b"}, platform="windows")
    other = eo.compose({"PATH": "b", "Path": "a"}, platform="windows")
    assert one.env == {"Path": "a"}
    assert other.env == {"PATH": "b"}
    posix = eo.compose({"A": "1", "B": "2"}, platform="posix")
    assert list(eo.compose({"B": "2", "A": "1"}, platform="posix").env) == ["B", "A"]
    assert list(posix.env) == ["A", "B"]


@pytest.mark.parametrize(
    ("options", "changed"),
    [
        ({"platform": "windows"}, {"platform": "posix"}),
        ({"protected": ["TOKEN"]}, {"protected": []}),
        ({"sensitive": "warn"}, {"sensitive": "deny"}),
        ({"base_id": "launcher"}, {"base_id": "daemon"}),
        ({"block_limit": 10}, {"block_limit": 1 << 21}),
        ({"policy": eo.InheritPolicy(exclude=["HOME"])}, {"policy": None}),
        ({"precedence": ["config", "provider", "hook", "thread"]},
         {"precedence": ["config", "provider", "thread", "hook"]}),
    ],
)  # fmt: skip
def test_other_options_fold_again(options: dict[str, object], changed: dict[str, object]) -> None:
    base = {"PATH": "/usr/bin", "HOME": "/h", "LD_PRELOAD": "x"}
    layer = eo.Layer.from_overlay({"LD_PRELOAD": "/evil.so"}, kind="hook", id="h")
    first = eo.compose(base, [HOOK, layer], **options)  # type: ignore[arg-type]
    second = eo.compose(base, [HOOK, layer], **changed)  # type: ignore[arg-type]
    assert second is not first
    clear_compose_cache()
    fresh = eo.compose(base, [HOOK, layer], **changed)  # type: ignore[arg-type]
    assert list(second.env.items()) == list(fresh.env.items())
    assert second.diagnostics == fresh.diagnostics


def test_other_layers_fold_again() -> None:
    base = {"PATH": "/usr/bin"}
    eo.compose(base, [HOOK], platform="posix")
    other = eo.Layer.from_overlay({"PATH": {"prepend": "/other/bin"}}, kind="hook", id="venv")
    assert eo.compose(base, [other], platform="posix").env["PATH"] == "/other/bin:/usr/bin"


def test_values_of_other_types_are_never_answered_from_memory() -> None:
    """1 == True, but the diagnostic must name the type the caller gave."""
    as_int = eo.compose({"A": 1}, platform="posix")  # type: ignore[dict-item]
    as_bool = eo.compose({"A": True}, platform="posix")  # type: ignore[dict-item]
    assert "not int" in as_int.diagnostics[0].message
    assert "not bool" in as_bool.diagnostics[0].message


def test_strict_raises_for_a_remembered_result_too() -> None:
    forged = eo.Layer.from_overlay({"CODEX_THREAD_ID": "x"}, kind="hook", id="h")
    assert not eo.compose({}, [forged], protected=["CODEX_THREAD_ID"]).ok
    with pytest.raises(eo.ComposeError, match="CODEX_THREAD_ID"):
        eo.compose({}, [forged], protected=["CODEX_THREAD_ID"], strict=True)


def test_bad_arguments_still_raise_when_unhashable() -> None:
    with pytest.raises(TypeError, match="Layer objects"):
        eo.compose({}, [{"PATH": "x"}])  # type: ignore[list-item]


def test_only_a_bounded_number_of_stacks_is_kept() -> None:
    compose_module = importlib.import_module("envoverlay.composition")
    for index in range(100):
        layer = eo.Layer.from_overlay({"N": str(index)}, kind="hook", id="h")
        eo.compose({}, [layer], platform="posix")
    assert len(compose_module._RECENT) <= compose_module._RECENT_SIZE


@given(bases, layers(), PLATFORMS, st.sampled_from(["warn", "deny", "allow"]))
def test_a_remembered_result_is_what_folding_again_gives(base, layer_list, platform, sensitive):
    first = eo.compose(base, layer_list, platform=platform, sensitive=sensitive)
    remembered = eo.compose(dict(base), list(layer_list), platform=platform, sensitive=sensitive)
    clear_compose_cache()
    fresh = eo.compose(base, layer_list, platform=platform, sensitive=sensitive)
    assert remembered is first
    assert list(remembered.env.items()) == list(fresh.env.items())
    assert remembered.diagnostics == fresh.diagnostics
    assert remembered.variables == fresh.variables
    assert remembered.removed == fresh.removed


def test_an_object_equal_to_a_string_is_never_answered_from_memory() -> None:
    """UserString("x") == "x", but it is not a string: the fold reports it every time."""
    layer = eo.Layer.from_overlay({"B": "1"}, kind="hook", id="h")
    assert eo.compose({"A": "x"}, [layer], platform="posix").ok
    odd = eo.compose({"A": UserString("x")}, [layer], platform="posix")  # type: ignore[dict-item]
    assert [d.code for d in odd.errors] == ["invalid-value"]
    assert "A" not in odd.env


def test_what_is_remembered_is_what_was_folded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A base changed while it is being folded (another thread writing os.environ) is never
    remembered under its new value."""
    compose_module = importlib.import_module("envoverlay.composition")
    base = {"A": "old"}
    fold = compose_module._fold

    def fold_while_another_thread_writes(snapshot: dict[str, str], *args: object) -> object:
        result = fold(snapshot, *args)
        base["A"] = "new"
        return result

    monkeypatch.setattr(compose_module, "_fold", fold_while_another_thread_writes)
    assert eo.compose(base, [HOOK], platform="posix").env["A"] == "old"
    monkeypatch.setattr(compose_module, "_fold", fold)
    assert eo.compose(base, [HOOK], platform="posix").env["A"] == "new"


def test_a_recently_used_stack_is_kept() -> None:
    """Least recently used goes first: a stack composed before every spawn stays while
    others come and go."""
    compose_module = importlib.import_module("envoverlay.composition")
    base = {"PATH": "/usr/bin"}
    first = eo.compose(base, [HOOK], platform="posix")
    for index in range(3 * compose_module._RECENT_SIZE):
        layer = eo.Layer.from_overlay({"N": str(index)}, kind="hook", id="h")
        eo.compose({}, [layer], platform="posix")
        assert eo.compose(base, [HOOK], platform="posix") is first


def test_clearing_forgets_results_and_layer_analyses() -> None:
    compose_module = importlib.import_module("envoverlay.composition")
    eo.compose({}, [HOOK], platform="posix")
    assert compose_module._RECENT
    assert compose_module._layer_plan.cache_info().currsize
    clear_compose_cache()
    assert not compose_module._RECENT
    assert compose_module._layer_plan.cache_info().currsize == 0


def test_a_base_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(TypeError, match="base must be a mapping"):
        eo.compose([("A", "1")], platform="posix")  # type: ignore[arg-type]


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
            clear_compose_cache()
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
