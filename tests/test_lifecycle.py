"""Every cell of the SPEC §4 lifecycle table, and the rules around it."""

from __future__ import annotations

import json

import pytest

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


def test_the_table_has_one_row_per_event():
    assert set(eo.TRANSITIONS) == set(eo.EVENTS) == {"startup", "resume", "clear", "compact"}


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


def test_clear_and_compact_take_no_new_session(running):
    for event in ("clear", "compact"):
        with pytest.raises(eo.LifecycleError, match="same session"):
            running.apply(event, session_id="s9")  # type: ignore[arg-type]


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
    for event in eo.EVENTS:
        running.apply(event, [hook("venv", {"X": "1"})])  # type: ignore[arg-type]
    running.spawn_child(thread_id="c")
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
    with pytest.raises(eo.LifecycleError, match="event must be one of"):
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
