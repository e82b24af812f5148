"""Every cell of the SPEC §4 lifecycle table, and the rules around it.

The table-driven tests at the top run every row (event) through one thread whose layers
differ in kind, ``lifetime`` and ``inherit``, and check each column against what SPEC §4
says; the tests after them show each rule on a small example."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import LAYER_KINDS

import envoverlay as eo


def hook(
    hook_id: str,
    env: dict[str, object] | None = None,
    *,
    exit_code: int = 0,
    raw: str | None = None,
    lifetime: str = "thread",
) -> eo.HookResult:
    if raw is None:
        specific: dict[str, object] = {"hookEventName": "SessionStart"}
        if env is not None:
            specific["env"] = env
        raw = json.dumps({"hookSpecificOutput": specific})
    return eo.parse_hook_output(
        raw, hook_id=hook_id, exit_code=exit_code, platform="posix", lifetime=lifetime
    )  # type: ignore[arg-type]


def layer(kind: str, layer_id: str, env: dict[str, object], **kw: object) -> eo.Layer:
    return eo.Layer.from_overlay(env, kind=kind, id=layer_id, platform="posix", **kw)  # type: ignore[arg-type]


def env_of(state: eo.ThreadState, base: dict[str, str] | None = None) -> dict[str, str]:
    return eo.compose(base or {}, state.layers, platform="posix").env


def kinds(state: eo.ThreadState) -> list[tuple[str, str]]:
    return [(item.kind, item.id) for item in state.layers]


CONFIG = layer("config", "settings", {"CI": "1"})
PROVIDER = layer("provider", "direnv:/repo", {"DATABASE_URL": "pg://dev"})
THREAD = layer("thread", "user", {"DEBUG": "1"})


@pytest.fixture
def running() -> eo.ThreadState:
    """A thread after startup with two hooks and a thread override."""
    state = eo.ThreadState.new(
        thread_id="t1", session_id="s1", layers=[CONFIG, PROVIDER], runtime=eo.CODEX_RUNTIME
    )
    state = state.apply(
        "startup", [hook("venv", {"VIRTUAL_ENV": "/v"}), hook("tools", {"TOOLS": "old"})]
    )
    return eo.ThreadState(
        state.thread_id,
        state.session_id,
        None,
        (*state.layer_stack, THREAD),
        state.runtime,
        state.runtime_id,
    )


def test_the_table_has_one_row_per_event_and_the_subagent_row():
    assert eo.EVENTS == ("startup", "resume", "clear", "compact", "fork")
    assert tuple(eo.TRANSITIONS) == (*eo.EVENTS, "subagent")


def test_every_cell_names_steps_that_exist():
    from envoverlay.lifecycle import ID_STEPS, LAYER_STEPS

    for rule in eo.TRANSITIONS.values():
        for _, steps in rule.layer_cells():
            assert steps
            assert set(steps) <= set(LAYER_STEPS)
        assert rule.runtime in ID_STEPS


# -- the table, row by row and column by column ----------------------------------------------
# One thread whose layers differ in kind, lifetime and inherit; each row is checked against
# what SPEC §4 says of each column.

C_KEPT = layer("config", "c", {"C": "1"})
P_SESSION = layer("provider", "p-session", {"P1": "1"}, lifetime="session")
P_PRIVATE = layer("provider", "p-private", {"P2": "1"}, inherit=False)
H_VENV = layer("hook", "venv", {"VIRTUAL_ENV": "/v"})
H_SESSION = layer("hook", "h-session", {"H1": "1"}, lifetime="session")
H_PRIVATE = layer("hook", "h-private", {"H2": "1"}, inherit=False)
T_USER = layer("thread", "user", {"T": "1"})
T_SESSION = layer("thread", "t-session", {"T1": "1"}, lifetime="session")
T_PRIVATE = layer("thread", "t-private", {"T2": "1"}, inherit=False)

EMBEDDER = (C_KEPT, P_SESSION, P_PRIVATE)
HOOKS = (H_VENV, H_SESSION, H_PRIVATE)
THREADS = (T_USER, T_SESSION, T_PRIVATE)

#: The ids each row is given: the new ids it needs (fork, subagent) or may take.
NEW_IDS: dict[str, dict[str, str]] = {
    "startup": {"session_id": "s2"},
    "resume": {"session_id": "s2"},
    "clear": {},
    "compact": {},
    "fork": {"thread_id": "t2", "session_id": "s2"},
    "subagent": {"thread_id": "c1"},
}


def source_thread() -> eo.ThreadState:
    return eo.ThreadState(
        "t1", "s1", None, (*EMBEDDER, *HOOKS, *THREADS), tuple(eo.CODEX_RUNTIME.items())
    )


def ids_of(layers: tuple[eo.Layer, ...], kinds_: tuple[str, ...]) -> list[str]:
    return [item.id for item in layers if item.kind in kinds_]


# row: (config/provider, hook layers, thread layers, (thread id, session id, parent)) with
# no hook ran and no new layers given.
TABLE = {
    "startup": (["c", "p-session", "p-private"], [], [], ("t1", "s2", None)),
    "resume": (
        ["c", "p-private"],
        ["venv", "h-private"],
        ["user", "t-private"],
        ("t1", "s2", None),
    ),
    "clear": (["c", "p-session", "p-private"], [], [], ("t1", "s1", None)),
    "compact": (
        ["c", "p-session", "p-private"],
        ["venv", "h-session", "h-private"],
        ["user", "t-session", "t-private"],
        ("t1", "s1", None),
    ),
    "fork": (["c", "p-private"], ["venv", "h-private"], ["user", "t-private"], ("t2", "s2", "t1")),
    "subagent": (
        ["c", "p-session"],
        ["venv", "h-session"],
        ["user", "t-session"],
        ("c1", "s1", "t1"),
    ),
}


def test_the_table_test_covers_every_row():
    assert set(TABLE) == set(eo.TRANSITIONS) == set(NEW_IDS)


@pytest.mark.parametrize("row", TABLE)
@pytest.mark.parametrize("column", ["config/provider", "hooks", "thread", "runtime"])
def test_each_cell_of_the_table(row, column):
    after = source_thread().apply(row, **NEW_IDS[row])
    embedder, hooks, threads, ids = TABLE[row]
    if column == "config/provider":
        assert ids_of(after.layer_stack, ("config", "provider")) == embedder
    elif column == "hooks":
        assert ids_of(after.layer_stack, ("hook",)) == hooks
    elif column == "thread":
        assert ids_of(after.layer_stack, ("thread",)) == threads
    else:
        assert (after.thread_id, after.session_id, after.parent_thread_id) == ids
        runtime = eo.compose({}, [after.layers[-1]], platform="posix").env
        assert runtime == {"CODEX_THREAD_ID": ids[0], "CODEX_SESSION_ID": ids[1]}
    assert after.diagnostics == ()


# row: the hook layers after the hook "venv" ran again with a new value and "fresh" ran
# for the first time.
RERUN = {
    "startup": ["venv", "fresh"],
    "resume": ["venv", "h-private", "fresh"],
    "clear": ["venv", "fresh"],
    "compact": ["venv", "h-session", "h-private", "fresh"],
    "fork": ["venv", "h-private", "fresh"],
    "subagent": ["venv", "h-session", "fresh"],
}


@pytest.mark.parametrize("row", RERUN)
def test_each_row_takes_its_hook_results(row):
    results = [hook("venv", {"VIRTUAL_ENV": "/new"}), hook("fresh", {"FRESH": "1"})]
    after = source_thread().apply(row, results, **NEW_IDS[row])
    assert ids_of(after.layer_stack, ("hook",)) == RERUN[row]
    env = env_of(after)
    assert (env["VIRTUAL_ENV"], env["FRESH"]) == ("/new", "1")


# row: whether a hook that fails when it runs again keeps its previous layer
KEEPS_AFTER_FAILURE = {
    "startup": False,  # from_hooks: only this event's outputs
    "resume": True,
    "clear": False,
    "compact": True,
    "fork": True,
    "subagent": True,
}


@pytest.mark.parametrize("row", KEEPS_AFTER_FAILURE)
def test_each_row_on_a_hook_that_fails(row):
    failed = hook("venv", {"VIRTUAL_ENV": "/new"}, exit_code=1)
    after = source_thread().apply(row, [failed], **NEW_IDS[row])
    kept = KEEPS_AFTER_FAILURE[row]
    assert ("venv" in ids_of(after.layer_stack, ("hook",))) is kept
    codes = [(d.severity, d.code) for d in after.diagnostics]
    expected = [("error", "hook-failed")] + ([("warning", "hook-failed")] if kept else [])
    assert codes == expected
    assert env_of(after).get("VIRTUAL_ENV") == ("/v" if kept else None)


# row: the keyword arguments it refuses (with a part of the message), then the ones it needs.
REFUSED = {
    "startup": [({"thread_id": "x"}, "startup takes no thread_id=")],
    "resume": [
        ({"thread_id": "x"}, "resume takes no thread_id="),
        ({"layers": [CONFIG]}, "only at startup"),
    ],
    "clear": [({"thread_id": "x"}, "clear takes no thread_id="), ({"layers": []}, "at startup")],
    "compact": [
        ({"session_id": "s9"}, "compact takes no session_id="),
        ({"thread_id": "x"}, "compact takes no thread_id="),
        ({"layers": [CONFIG]}, "at startup"),
    ],
    "fork": [
        ({"session_id": "s2"}, "fork makes a new thread: pass thread_id="),
        ({"thread_id": "t2"}, "fork starts a new session: pass session_id="),
        ({"thread_id": "t1", "session_id": "s2"}, "must differ from the source thread's 't1'"),
        ({"thread_id": "t2", "session_id": "s2", "layers": [CONFIG]}, "at startup"),
    ],
    "subagent": [
        ({}, "subagent makes a new thread: pass thread_id="),
        ({"thread_id": "t1"}, "must differ"),
        ({"thread_id": "c1", "layers": [CONFIG]}, "at startup"),
    ],
}


@pytest.mark.parametrize(
    ("row", "kwargs", "match"),
    [(row, kwargs, match) for row, cases in REFUSED.items() for kwargs, match in cases],
)
def test_each_row_refuses_what_it_cannot_take(row, kwargs, match):
    with pytest.raises(eo.LifecycleError, match=match):
        source_thread().apply(row, **kwargs)


# -- fork ------------------------------------------------------------------------------------


def test_a_fork_copies_the_thread_under_new_ids(running):
    forked = running.fork(thread_id="t2", session_id="s2")
    assert (forked.thread_id, forked.session_id, forked.parent_thread_id) == ("t2", "s2", "t1")
    assert forked.layer_stack == running.layer_stack
    env = env_of(forked)
    assert (env["CODEX_THREAD_ID"], env["CODEX_SESSION_ID"]) == ("t2", "s2")
    assert forked == running.apply("fork", thread_id="t2", session_id="s2")


def test_fork_hooks_replace_their_own_layer_and_leave_the_source_alone(running):
    forked = running.fork(
        thread_id="t2", session_id="s2", hook_results=[hook("tools", {"TOOLS": "forked"})]
    )
    assert env_of(forked)["TOOLS"] == "forked"
    assert env_of(running)["TOOLS"] == "old"
    assert [k for k in kinds(forked) if k[0] == "hook"] == [("hook", "venv"), ("hook", "tools")]


# -- providers -------------------------------------------------------------------------------


@pytest.fixture
def providers(tmp_path):
    from envoverlay.providers import dotenv

    good = tmp_path / ".env"
    good.write_text("DATABASE_URL=pg://dev\n")
    return dotenv(str(good)), dotenv(str(tmp_path / "missing.env"))


def test_new_takes_provider_results_and_reports_a_failed_one(providers):
    good, failed = providers
    assert failed.layer is None
    state = eo.ThreadState.new(
        thread_id="t1", session_id="s1", layers=[CONFIG], provider_results=[good, failed]
    )
    assert [item.kind for item in state.layer_stack] == ["config", "provider"]
    assert env_of(state)["DATABASE_URL"] == "pg://dev"
    assert [d.code for d in state.diagnostics] == ["provider-failed"]
    assert state.diagnostics == failed.errors


def test_startup_takes_provider_results(providers):
    good, failed = providers
    started = eo.ThreadState.new(thread_id="t1", session_id="s1").apply(
        "startup", provider_results=[failed, good], layers=[CONFIG]
    )
    assert [item.kind for item in started.layer_stack] == ["config", "provider"]
    assert [d.code for d in started.diagnostics] == ["provider-failed"]


@pytest.mark.parametrize("row", ["resume", "clear", "compact", "fork", "subagent"])
def test_later_events_refuse_provider_results(row, providers):
    with pytest.raises(eo.LifecycleError, match="only at startup"):
        source_thread().apply(row, provider_results=[providers[0]], **NEW_IDS[row])


def test_results_of_one_kind_are_refused_as_the_other(providers):
    state = eo.ThreadState.new(thread_id="t1", session_id="s1")
    with pytest.raises(eo.LifecycleError, match="pass hook results as hook_results="):
        state.apply("startup", provider_results=[hook("venv", {"A": "1"})])
    with pytest.raises(eo.ArgumentTypeError, match="takes HookResult objects, not ProviderResult"):
        state.apply("startup", [providers[0]])


# -- the names and lists ThreadState takes ---------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"runtime": "CODEX_THREAD_ID"}, r"runtime= maps each runtime-owned name .* not str"),
        ({"runtime": ["CODEX_THREAD_ID"]}, r"\(name, template\) pairs, not 'CODEX_THREAD_ID'"),
        ({"runtime": {"X": 1}}, "not a pair of strings"),
        ({"runtime": {1: "x"}}, "not a pair of strings"),
        ({"layers": CONFIG}, r"layers= takes a list of Layer objects, not Layer; wrap one"),
        ({"layers": "CONFIG"}, "layers= takes a list of Layer objects, not str"),
        ({"layers": [CONFIG, "x"]}, "layers= takes Layer objects, not str"),
        ({"provider_results": "dotenv"}, "provider_results= takes a list"),
    ],
    ids=[
        "runtime as a bare name",
        "runtime as a list of names",
        "template not a string",
        "name not a string",
        "one layer",
        "layers as a string",
        "a non-layer",
        "provider results as a string",
    ],
)
def test_new_refuses_arguments_of_the_wrong_shape(kwargs, match):
    with pytest.raises(eo.ArgumentTypeError, match=match) as info:
        eo.ThreadState.new(thread_id="t1", session_id="s1", **kwargs)
    assert isinstance(info.value, TypeError)


def test_a_single_hook_result_is_refused_not_iterated(running):
    with pytest.raises(eo.ArgumentTypeError, match=r"not HookResult; wrap one in a list"):
        running.apply("compact", hook("venv", {"A": "1"}))


# -- startup ---------------------------------------------------------------------------------


def test_startup_config_and_provider_from_the_embedder():
    state = eo.ThreadState.new(thread_id="t1", session_id="s1", layers=[CONFIG])
    started = state.apply("startup", layers=[CONFIG, PROVIDER])
    assert kinds(started) == [("config", "settings"), ("provider", "direnv:/repo")]


def test_startup_hook_layers_from_session_start_startup():
    started = eo.ThreadState.new(thread_id="t1", session_id="s1").apply(
        "startup", [hook("a", {"A": "1"}), hook("b", {"A": "2", "B": "1"})]
    )
    assert kinds(started) == [("hook", "a"), ("hook", "b")]
    assert env_of(started) == {"A": "2", "B": "1"}  # configured order: later wins


def test_startup_has_no_thread_layers(running):
    assert ("thread", "user") in kinds(running)
    restarted = running.apply("startup", [hook("venv", {"VIRTUAL_ENV": "/v"})])
    assert [k for k in kinds(restarted) if k[0] == "thread"] == []
    assert [k for k in kinds(restarted) if k[0] == "hook"] == [("hook", "venv")]


def test_startup_generates_the_runtime_layer():
    started = eo.ThreadState.new(thread_id="t1", session_id="s1", runtime=eo.CODEX_RUNTIME).apply(
        "startup"
    )
    assert env_of(started) == {"CODEX_THREAD_ID": "t1", "CODEX_SESSION_ID": "s1"}
    assert started.layers[-1].source == eo.Source("runtime", "runtime")


def test_startup_rejects_non_embedder_layers():
    with pytest.raises(eo.LifecycleError, match="not a config or provider layer"):
        eo.ThreadState.new(thread_id="t", session_id="s").apply("startup", layers=[THREAD])


# -- resume ----------------------------------------------------------------------------------


def test_resume_restores_config_provider_and_thread_layers(running):
    restored = eo.loads(eo.dumps(running))
    resumed = restored.apply("resume", session_id="s2")
    assert kinds(resumed)[:2] == [("config", "settings"), ("provider", "direnv:/repo")]
    assert ("thread", "user") in kinds(resumed)
    assert env_of(resumed)["DEBUG"] == "1"


def test_resume_a_hook_that_runs_again_replaces_its_own_layer(running):
    resumed = running.apply("resume", [hook("tools", {"TOOLS_NEW": "new"})])
    env = env_of(resumed)
    assert "TOOLS" not in env  # its old values are gone
    assert env["TOOLS_NEW"] == "new"
    assert env["VIRTUAL_ENV"] == "/v"  # the hook that did not run is kept
    hooks = [k for k in kinds(resumed) if k[0] == "hook"]
    assert hooks == [("hook", "venv"), ("hook", "tools")]  # configured order kept


def test_resume_regenerates_the_runtime_layer_with_the_new_session(running):
    resumed = running.apply("resume", session_id="s2")
    assert env_of(resumed)["CODEX_SESSION_ID"] == "s2"
    assert env_of(resumed)["CODEX_THREAD_ID"] == "t1"


def test_resume_drops_session_lifetime_layers(running):
    with_session = eo.ThreadState(
        running.thread_id,
        running.session_id,
        None,
        (*running.layer_stack, layer("thread", "once", {"ONCE": "1"}, lifetime="session")),
        running.runtime,
    )
    assert "ONCE" in env_of(with_session)
    assert "ONCE" not in env_of(with_session.apply("resume"))
    assert "ONCE" in env_of(with_session.apply("compact"))  # same session


def test_resume_hook_that_fails_keeps_its_previous_layer_and_says_so(running):
    resumed = running.apply("resume", [hook("venv", {"VIRTUAL_ENV": "/new"}, exit_code=1)])
    assert env_of(resumed)["VIRTUAL_ENV"] == "/v"
    codes = [d.code for d in resumed.diagnostics]
    assert codes == ["hook-failed", "hook-failed"]  # the hook's failure, and what was kept
    assert resumed.diagnostics[1].severity == "warning"


def test_resume_hook_that_publishes_nothing_removes_its_layer(running):
    resumed = running.apply("resume", [hook("venv", None)])
    assert "VIRTUAL_ENV" not in env_of(resumed)


def test_resume_reports_a_missing_secret_instead_of_dropping_it():
    state = eo.ThreadState.new(thread_id="t1", session_id="s1").apply(
        "startup", [hook("vault", {"TOKEN": {"set": "s3cret", "secret": True}})]
    )
    restored = eo.loads(eo.dumps(state))
    result = eo.compose({}, restored.apply("resume").layers, platform="posix")
    assert "TOKEN" not in result.env
    [diagnostic] = result.errors
    assert (diagnostic.code, diagnostic.name) == ("missing-secret", "TOKEN")
    assert diagnostic.source == eo.Source("hook", "vault")
    assert "re-run hook:vault" in diagnostic.hint
    rerun = restored.apply("resume", [hook("vault", {"TOKEN": {"set": "s3cret", "secret": True}})])
    assert eo.compose({}, rerun.layers, platform="posix").env["TOKEN"] == "s3cret"


# -- clear -----------------------------------------------------------------------------------


def test_clear_keeps_config_and_provider(running):
    cleared = running.apply("clear")
    assert kinds(cleared)[:2] == [("config", "settings"), ("provider", "direnv:/repo")]


def test_clear_drops_every_hook_then_applies_session_start_clear(running):
    cleared = running.apply("clear", [hook("fresh", {"FRESH": "1"})])
    assert [k for k in kinds(cleared) if k[0] == "hook"] == [("hook", "fresh")]
    env = env_of(cleared)
    assert "VIRTUAL_ENV" not in env
    assert "TOOLS" not in env
    assert env["FRESH"] == "1"


def test_clear_drops_thread_layers(running):
    assert "DEBUG" not in env_of(running.apply("clear"))


def test_clear_regenerates_the_runtime_layer(running):
    assert env_of(running.apply("clear"))["CODEX_THREAD_ID"] == "t1"


def test_clear_may_start_a_new_session_compact_may_not(running):
    assert env_of(running.apply("clear", session_id="s9"))["CODEX_SESSION_ID"] == "s9"
    with pytest.raises(eo.LifecycleError, match="compact takes no session_id="):
        running.apply("compact", session_id="s9")


# -- compact ---------------------------------------------------------------------------------


def test_compact_keeps_everything(running):
    compacted = running.apply("compact")
    assert compacted.layers == running.layers


def test_compact_a_hook_that_runs_again_replaces_its_own_layer(running):
    compacted = running.apply("compact", [hook("venv", {"VIRTUAL_ENV": "/v2"})])
    assert env_of(compacted)["VIRTUAL_ENV"] == "/v2"
    assert env_of(compacted)["TOOLS"] == "old"
    assert env_of(compacted)["DEBUG"] == "1"


# -- subagents -------------------------------------------------------------------------------


def test_child_gets_only_inherit_true_layers():
    private = layer("hook", "private", {"PRIVATE": "1"}, inherit=False)
    shared = layer("hook", "shared", {"SHARED": "1"})
    parent = eo.ThreadState.new(
        thread_id="p",
        session_id="s",
        layers=[CONFIG, layer("provider", "p2", {"P2": "1"}, inherit=False)],
        runtime=eo.CODEX_RUNTIME,
    )
    parent = eo.ThreadState(
        parent.thread_id,
        parent.session_id,
        None,
        (*parent.layer_stack, shared, private, THREAD),
        parent.runtime,
    )
    child = parent.spawn_child(thread_id="c")
    assert kinds(child) == [
        ("config", "settings"),
        ("hook", "shared"),
        ("thread", "user"),
        ("runtime", "runtime"),
    ]


def test_child_has_its_own_thread_id_and_the_shared_session_id(running):
    child = running.spawn_child(thread_id="c1")
    assert (child.thread_id, child.session_id, child.parent_thread_id) == ("c1", "s1", "t1")
    env = env_of(child)
    assert env["CODEX_THREAD_ID"] == "c1"
    assert env["CODEX_SESSION_ID"] == "s1"


def test_later_parent_events_do_not_reach_an_existing_child(running):
    child = running.spawn_child(thread_id="c1")
    before = env_of(child)
    running.apply("clear", [hook("venv", {"VIRTUAL_ENV": "/changed"})])
    running.apply("resume", [hook("tools", None)], session_id="s2")
    assert env_of(child) == before


def test_child_subagent_start_hooks_replace_or_add(running):
    child = running.spawn_child(
        thread_id="c1",
        hook_results=[hook("venv", {"VIRTUAL_ENV": "/c"}), hook("sub", {"SUB": "1"})],
    )
    env = env_of(child)
    assert env["VIRTUAL_ENV"] == "/c"
    assert env["SUB"] == "1"


# -- rules around the table ------------------------------------------------------------------


def test_transitions_are_pure(running):
    snapshot = eo.dumps(running)
    for event in eo.TRANSITIONS:
        running.apply(event, [hook("venv", {"X": "1"})], **NEW_IDS[event])
    assert eo.dumps(running) == snapshot


def test_same_inputs_give_equal_states(running):
    results = [hook("venv", {"X": "1"})]
    assert running.apply("resume", results) == running.apply("resume", results)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"thread_id": "", "session_id": "s"}, "thread_id"),
        ({"thread_id": "t", "session_id": ""}, "session_id"),
        ({"thread_id": "t", "session_id": "s", "runtime": {"X": "{thread}"}}, "not a placeholder"),
        ({"thread_id": "t", "session_id": "s", "runtime": {"X": "{thread_id!r}"}}, "placeholder"),
        (
            {"thread_id": "t", "session_id": "s", "layers": [layer("runtime", "r", {"A": "1"})]},
            "runtime layer is generated",
        ),
    ],
    ids=[
        "empty thread id",
        "empty session id",
        "unknown placeholder",
        "conversion",
        "explicit runtime layer",
    ],
)
def test_bad_states_are_refused(kwargs, match):
    with pytest.raises(eo.EnvOverlayError, match=match):
        eo.ThreadState.new(**kwargs)


def test_unknown_event_is_refused(running):
    with pytest.raises(eo.LifecycleError, match=r"event must be one of startup, .*, subagent"):
        running.apply("restart")  # type: ignore[arg-type]


def test_runtime_names_are_protected_from_hooks():
    state = eo.ThreadState.new(thread_id="t1", session_id="s1", runtime=eo.CODEX_RUNTIME).apply(
        "startup", [hook("evil", {"CODEX_THREAD_ID": "forged", "OK": "1"})]
    )
    result = eo.compose({}, state.layers, platform="posix")
    assert result.env["CODEX_THREAD_ID"] == "t1"
    assert result.env["OK"] == "1"
    assert [d.code for d in result.errors] == ["protected"]


def test_literal_braces_in_runtime_templates():
    state = eo.ThreadState.new(
        thread_id="t", session_id="s", runtime={"X": "{{literal}}-{thread_id}"}
    )
    assert env_of(state) == {"X": "{literal}-t"}


# -- thread overrides (between events) ---------------------------------------------------------


def test_a_thread_override_is_added_after_startup_and_replaced_by_id():
    state = eo.ThreadState.new(thread_id="t1", session_id="s1").apply("startup")
    state = state.with_thread_layer(THREAD)
    assert kinds(state) == [("thread", "user")]
    assert env_of(state) == {"DEBUG": "1"}
    other = layer("thread", "api", {"MODE": "x"})
    newer = layer("thread", "user", {"DEBUG": "2"})
    state = state.with_thread_layer(other).with_thread_layer(newer)
    assert kinds(state) == [("thread", "user"), ("thread", "api")]  # replaced in place
    assert env_of(state) == {"DEBUG": "2", "MODE": "x"}


def test_thread_overrides_follow_the_table(running):
    added = running.with_thread_layer(layer("thread", "api", {"MODE": "x"}))
    assert ("thread", "api") in kinds(added.apply("resume", session_id="s2"))
    assert ("thread", "api") in kinds(added.apply("compact"))
    assert [k for k in kinds(added.apply("clear")) if k[0] == "thread"] == []


def test_removing_a_thread_override():
    state = eo.ThreadState.new(thread_id="t1", session_id="s1").with_thread_layer(THREAD)
    assert kinds(state.without_thread_layer("user")) == []
    with pytest.raises(eo.LifecycleError, match=r"no thread override 'usr'.*\['user'\]"):
        state.without_thread_layer("usr")


@pytest.mark.parametrize("bad", [CONFIG, PROVIDER, "not a layer"])
def test_only_thread_layers_are_thread_overrides(bad):
    state = eo.ThreadState.new(thread_id="t1", session_id="s1")
    with pytest.raises(eo.LifecycleError, match="kind 'thread'"):
        state.with_thread_layer(bad)


PAIR = "\ud83d\ude00"  # a surrogate pair held as two code points


def test_thread_overrides_keep_the_last_events_diagnostics():
    failing = eo.parse_hook_output(b"{not json", hook_id="venv", exit_code=0, platform="posix")
    state = eo.ThreadState.new(thread_id="t1", session_id="s1").apply("startup", [failing])
    assert state.diagnostics
    user = eo.Layer.from_overlay({"EDITOR": "nano"}, kind="thread", id="user")
    assert state.with_thread_layer(user).diagnostics == state.diagnostics
    assert state.with_thread_layer(user).without_thread_layer("user").diagnostics == (
        state.diagnostics
    )


def test_with_thread_layer_replaces_every_override_of_that_id():
    """without_thread_layer removes every layer of an id; with_thread_layer replaces them
    all too (in the place of the first), rather than leaving a second one behind."""
    one = eo.Layer.from_overlay({"A": "1"}, kind="thread", id="user")
    two = eo.Layer.from_overlay({"A": "2"}, kind="thread", id="user")
    other = eo.Layer.from_overlay({"B": "1"}, kind="thread", id="api")
    state = eo.ThreadState.new(thread_id="t1", session_id="s1", layers=[one, other, two])
    newer = eo.Layer.from_overlay({"A": "3"}, kind="thread", id="user")
    assert state.with_thread_layer(newer).layer_stack == (newer, other)


def test_a_thread_override_id_holding_a_split_pair_is_found():
    layer = eo.Layer.from_overlay({"A": "1"}, kind="thread", id=f"u{PAIR}")
    state = eo.ThreadState.new(thread_id="t1", session_id="s1").with_thread_layer(layer)
    assert state.without_thread_layer(f"u{PAIR}").layer_stack == ()


# -- properties over any thread and any row ---------------------------------------------------

STACK_KINDS = LAYER_KINDS[:-1]

# Threads whose layers are told apart by name, and runs of hooks: what the lifecycle table
# acts on (specific to it).


@st.composite
def threads(draw: st.DrawFn) -> eo.ThreadState:
    stack = []
    for kind in STACK_KINDS:  # a valid stack is in kind order, as the table keeps it
        for index in range(draw(st.integers(0, 3))):
            stack.append(
                eo.Layer.from_ops(
                    [eo.Op.set(f"{kind.upper()}_{index}", "v")],
                    kind=kind,
                    id=f"{kind}-{index}",
                    lifetime=draw(st.sampled_from(["thread", "session"])),
                    inherit=draw(st.booleans()),
                )
            )
    return eo.ThreadState("t1", "s1", draw(st.none() | st.just("p0")), stack, eo.CODEX_RUNTIME)


hook_runs = st.lists(
    st.tuples(
        st.sampled_from(["hook-0", "hook-1", "hook-9"]),
        st.sampled_from(["publishes", "nothing", "fails"]),
    ),
    max_size=4,
)


def results_of(runs: list[tuple[str, str]]) -> list[eo.HookResult]:
    return [
        hook(
            hook_id,
            None if outcome == "nothing" else {"H": hook_id},
            exit_code=int(outcome == "fails"),
        )
        for hook_id, outcome in runs
    ]


@given(threads(), st.sampled_from(list(eo.TRANSITIONS)), hook_runs)
def test_every_row_keeps_the_stack_in_kind_order_and_the_runtime_layer_last(state, row, runs):
    after = state.apply(row, results_of(runs), **NEW_IDS[row])
    order = [STACK_KINDS.index(layer.kind) for layer in after.layer_stack]
    assert order == sorted(order)
    assert after.layers[-1].kind == "runtime"
    assert all(layer.kind != "runtime" for layer in after.layer_stack)


@given(threads(), st.sampled_from(list(eo.TRANSITIONS)), hook_runs)
def test_events_commute_with_persistence(state, row, runs):
    """Saving and loading a thread never changes what an event does to it."""
    results = results_of(runs)
    restored = eo.loads(eo.dumps(state, include_secrets=True))
    assert restored.apply(row, results, **NEW_IDS[row]) == state.apply(row, results, **NEW_IDS[row])


@given(threads(), st.sampled_from(list(eo.TRANSITIONS)))
def test_no_layer_is_made_up_without_hooks(state, row):
    """With no hook results, every row only keeps, restores, copies or drops layers."""
    after = state.apply(row, **NEW_IDS[row])
    assert set(after.layer_stack) <= set(state.layer_stack)
    assert after.diagnostics == ()


@given(threads(), hook_runs)
def test_a_failed_rerun_never_loses_a_layer_that_was_there(state, runs):
    failing = [(hook_id, "fails") for hook_id, _ in runs]
    for row in ("resume", "compact", "fork", "subagent"):
        before = state.apply(row, **NEW_IDS[row])
        after = state.apply(row, results_of(failing), **NEW_IDS[row])
        assert after.layer_stack == before.layer_stack


def test_the_table_in_the_embedders_guide_is_the_table_in_the_code():
    from pathlib import Path

    guide = Path(__file__).resolve().parents[2] / "docs" / "embedders.md"
    rows = {}
    for line in guide.read_text("utf-8").splitlines():
        cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] in eo.TRANSITIONS and cells[1].replace("_", "").isalpha():
            rows[cells[0]] = cells[1:]
    assert rows == {
        row: [" ".join(steps) for _, steps in rule.layer_cells()] + [rule.runtime]
        for row, rule in eo.TRANSITIONS.items()
    }


def test_a_subagent_start_output_is_the_childs_layer(running):
    sub = eo.parse_hook_output(
        json.dumps(
            {"hookSpecificOutput": {"hookEventName": "SubagentStart", "env": {"ROLE": "r"}}}
        ),
        hook_id="role",
        event="SubagentStart",
        platform="posix",
    )
    assert sub.ok
    child = running.spawn_child(thread_id="c1", hook_results=[sub])
    assert env_of(child)["ROLE"] == "r"
    assert ("hook", "role") in kinds(child)
    assert "ROLE" not in env_of(running)
    assert ("hook", "role") not in kinds(running)
