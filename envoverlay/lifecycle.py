"""A thread's env state and the events that change it.

Theory of operation
-------------------
A thread's env state is its non-inherited layers plus its ids. The inherited base is never
part of it: it is re-captured at every spawn, with provenance. The state changes only through
the events below, each a pure function from the old state (and the event's inputs: the
SessionStart hook results, the embedder's layers, new ids) to a new state.

The whole lifecycle is the table :data:`TRANSITIONS` (SPEC §4). Each row says, for one
event, what happens to each part of the state:

================  =================  ==============================  ===========  ===========
event             config / provider  hook layers                     thread       runtime
================  =================  ==============================  ===========  ===========
startup           from the embedder  from SessionStart(startup)      none         generated
resume            restored           restored; a hook that runs      restored     regenerated
                                     again replaces its own layer
clear             kept               all dropped, then               dropped      regenerated
                                     SessionStart(clear) outputs
compact           kept               kept; a hook that runs again    kept         kept
                                     replaces its own layer
subagent / fork   parent's, at spawn (only ``inherit: true`` layers), same for    regenerated
                  hooks and thread layers                                          with the
                                                                                   child's ids
================  =================  ==============================  ===========  ===========

Two rules complete the table:

* *A hook that runs again replaces its own layer* (matched by hook id, keeping its place in
  the configured order; a hook seen for the first time is appended). A hook that ran and
  succeeded without publishing env removes its old layer. A hook whose re-run failed keeps
  its previous layer — its last good activation — and the failure is reported in
  ``state.diagnostics``: the user's environment is never lost to a transient error.
* Layers with ``lifetime="session"`` belong to one session: ``resume`` (a new session) drops
  them; ``clear`` and ``compact`` (the same session) follow the table.

Thread overrides (``thread`` layers) come from the user or an API call, between events:
:meth:`ThreadState.with_thread_layer` and :meth:`ThreadState.without_thread_layer`.

The runtime layer is derived, never stored: it is rendered from the embedder's runtime
template (``{"CODEX_THREAD_ID": "{thread_id}", "CODEX_SESSION_ID": "{session_id}"}``) with
the state's ids. A child's snapshot is taken at spawn: later parent events do not reach it.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from typing import Final, Literal

import attrs

from ._names import joined_pairs
from .diagnostics import Diagnostic
from .errors import LifecycleError
from .hooks import HookResult
from .layers import Layer
from .ops import Op
from .sources import Source

Event = Literal["startup", "resume", "clear", "compact"]
EVENTS: Final[tuple[Event, ...]] = ("startup", "resume", "clear", "compact")

#: The placeholders a runtime template may use.
RUNTIME_FIELDS: Final = ("thread_id", "session_id", "parent_thread_id")

#: A ready-made runtime template for Codex-like runtimes.
CODEX_RUNTIME: Final[Mapping[str, str]] = {
    "CODEX_THREAD_ID": "{thread_id}",
    "CODEX_SESSION_ID": "{session_id}",
}

EmbedderRule = Literal["from-embedder", "keep"]
HookRule = Literal["replace-all", "rerun-replaces", "drop-then-add"]
ThreadRule = Literal["none", "keep", "drop"]
RuntimeRule = Literal["generate", "keep"]


@attrs.frozen
class Transition:
    """What one event does to each part of a thread's state. (The runtime layer is derived
    from the ids, so "keep" and "generate" differ only in whether the ids may change: the
    ``new_session`` events take a new session id.)"""

    embedder: EmbedderRule
    hooks: HookRule
    thread: ThreadRule
    runtime: RuntimeRule
    new_session: bool


# fmt: off
#: SPEC §4, one row per event.
TRANSITIONS: Final[Mapping[Event, Transition]] = {
    #          config / provider     hook layers       thread   runtime     new session
    "startup": Transition("from-embedder", "replace-all",    "none", "generate", True),
    "resume":  Transition("keep",          "rerun-replaces", "keep", "generate", True),
    "clear":   Transition("keep",          "drop-then-add",  "drop", "generate", False),
    "compact": Transition("keep",          "rerun-replaces", "keep", "keep",     False),
}
# fmt: on


def _check_id(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value:
        raise LifecycleError(f"{attribute.name} must be a non-empty string, not {value!r}")
    if "\0" in value:  # ids are rendered into runtime variables, which cannot hold NUL
        raise LifecycleError(f"{attribute.name} must not contain a NUL character")


def _check_parent(
    instance: object, attribute: attrs.Attribute[str | None], value: str | None
) -> None:
    if value is not None:
        _check_id(instance, attribute, value)  # type: ignore[arg-type]


def _layer_tuple(layers: Iterable[Layer]) -> tuple[Layer, ...]:
    return tuple(layers)


def _check_stack(
    instance: object, attribute: attrs.Attribute[tuple[Layer, ...]], value: tuple[Layer, ...]
) -> None:
    for layer in value:
        if not isinstance(layer, Layer):
            raise LifecycleError(
                f"a thread's layers must be Layer objects, not {type(layer).__name__}"
            )
        if layer.kind == "runtime":
            raise LifecycleError(
                f"layer {layer.source}: the runtime layer is generated from the runtime "
                "template; pass runtime={NAME: TEMPLATE} instead"
            )


def _template(value: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    pairs = tuple(
        (joined_pairs(str(name)), joined_pairs(str(template))) for name, template in items
    )
    for name, template in pairs:
        for _, field, spec, conversion in string.Formatter().parse(template):
            if field is None:
                continue
            if field not in RUNTIME_FIELDS or spec or conversion:
                raise LifecycleError(
                    f"runtime template for {name}: {{{field}}} is not a placeholder; use "
                    f"{', '.join('{' + f + '}' for f in RUNTIME_FIELDS)}, and {{{{ }}}} for "
                    "literal braces"
                )
        Op.set(name, template)  # the name must be a valid variable name
    return pairs


@attrs.frozen(repr=False)
class ThreadState:
    """A thread's env state: its ids, its non-inherited layers (config, provider, hook and
    thread, in order) and the template of its runtime layer.

    ``layers`` — what :func:`~envoverlay.compose` takes — includes the runtime layer.
    ``diagnostics`` tell what the last event could not do (a failed hook, ...).
    """

    thread_id: str = attrs.field(converter=joined_pairs, validator=_check_id)
    session_id: str = attrs.field(converter=joined_pairs, validator=_check_id)
    parent_thread_id: str | None = attrs.field(
        default=None, converter=joined_pairs, validator=_check_parent
    )
    layer_stack: tuple[Layer, ...] = attrs.field(
        default=(), converter=_layer_tuple, validator=_check_stack
    )
    runtime: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_template)
    runtime_id: str = attrs.field(default="runtime", converter=joined_pairs, validator=_check_id)
    diagnostics: tuple[Diagnostic, ...] = attrs.field(default=(), eq=False)

    @classmethod
    def new(
        cls,
        *,
        thread_id: str,
        session_id: str,
        layers: Iterable[Layer] = (),
        runtime: Mapping[str, str] | None = None,
        runtime_id: str = "runtime",
        parent_thread_id: str | None = None,
    ) -> ThreadState:
        """A new thread. ``layers`` are its config/provider (and any thread) layers;
        ``runtime`` maps runtime-owned variables to templates such as ``"{thread_id}"``."""
        return cls(
            thread_id, session_id, parent_thread_id, tuple(layers), dict(runtime or {}), runtime_id
        )

    @property
    def runtime_layer(self) -> Layer | None:
        """The runtime layer rendered with this state's ids (None without a template)."""
        if not self.runtime:
            return None
        fields = {
            "thread_id": self.thread_id,
            "session_id": self.session_id,
            "parent_thread_id": self.parent_thread_id or "",
        }
        ops = [Op.set(name, template.format_map(fields)) for name, template in self.runtime]
        return Layer(Source("runtime", self.runtime_id), tuple(ops), "session", inherit=False)

    @property
    def layers(self) -> tuple[Layer, ...]:
        """Every layer to compose, the runtime layer last."""
        runtime = self.runtime_layer
        return self.layer_stack if runtime is None else (*self.layer_stack, runtime)

    def apply(
        self,
        event: Event,
        hook_results: Iterable[HookResult] = (),
        *,
        layers: Iterable[Layer] | None = None,
        session_id: str | None = None,
    ) -> ThreadState:
        """The state after ``event`` (see :data:`TRANSITIONS`). ``hook_results`` are the
        SessionStart hooks that ran for it, in configured order; ``layers`` are the
        embedder's config/provider layers (``startup`` only); ``session_id`` is the new
        session's id (``startup``/``resume``)."""
        if event not in TRANSITIONS:
            raise LifecycleError(f"event must be one of {', '.join(EVENTS)}, not {event!r}")
        return _transition(self, TRANSITIONS[event], event, tuple(hook_results), layers, session_id)

    def with_thread_layer(self, layer: Layer) -> ThreadState:
        """This state with an explicit per-thread override (a user's ``/env set``, an API
        call): ``layer`` (kind ``thread``) replaces the thread layer with the same id in
        place, or is added after the others. Not an event: the table decides what later
        events do with it (kept by resume and compact, dropped by clear), and the last
        event's diagnostics stay."""
        if not isinstance(layer, Layer) or layer.kind != "thread":
            shown = layer.source if isinstance(layer, Layer) else type(layer).__name__
            raise LifecycleError(f"a thread override is a layer of kind 'thread', not {shown}")
        same = [i for i, old in enumerate(self.layer_stack) if _is_thread(old, layer.id)]
        stack = [old for i, old in enumerate(self.layer_stack) if i not in same[1:]]
        if same:
            stack[same[0]] = layer
        else:
            stack.append(layer)
        return attrs.evolve(self, layer_stack=tuple(stack))

    def without_thread_layer(self, layer_id: str) -> ThreadState:
        """This state without the thread override ``layer_id``; a LifecycleError names the
        ids there are when it has none of that id (nothing is removed by a typo quietly)."""
        layer_id = joined_pairs(layer_id)  # as layer ids are stored
        stack = tuple(layer for layer in self.layer_stack if not _is_thread(layer, layer_id))
        if len(stack) == len(self.layer_stack):
            ids = [layer.id for layer in self.layer_stack if layer.kind == "thread"]
            raise LifecycleError(
                f"no thread override {layer_id!r}; this thread has {ids or 'none'}"
            )
        return attrs.evolve(self, layer_stack=stack)

    def spawn_child(
        self,
        *,
        thread_id: str,
        session_id: str | None = None,
        hook_results: Iterable[HookResult] = (),
    ) -> ThreadState:
        """A subagent's (or fork's) state: a snapshot of this thread's ``inherit: true``
        layers, its own thread id, this thread as parent, the same session id unless given,
        and the runtime layer regenerated with the child's ids. ``hook_results`` (e.g. from
        SubagentStart) replace or add hook layers like a re-run does."""
        inherited = tuple(layer for layer in self.layer_stack if layer.inherit)
        child = attrs.evolve(
            self,
            thread_id=thread_id,
            session_id=session_id or self.session_id,
            parent_thread_id=self.thread_id,
            layer_stack=inherited,
            diagnostics=(),
        )
        stack, diagnostics = _rerun_hooks(child.layer_stack, tuple(hook_results), keep_failed=False)
        return attrs.evolve(child, layer_stack=stack, diagnostics=diagnostics)

    def __repr__(self) -> str:
        return (
            f"ThreadState(thread_id={self.thread_id!r}, session_id={self.session_id!r}, "
            f"parent_thread_id={self.parent_thread_id!r}, layers={list(self.layers)!r})"
        )


def _is_thread(layer: Layer, layer_id: str) -> bool:
    return layer.kind == "thread" and layer.id == layer_id


def _transition(
    state: ThreadState,
    rule: Transition,
    event: Event,
    hook_results: tuple[HookResult, ...],
    embedder_layers: Iterable[Layer] | None,
    session_id: str | None,
) -> ThreadState:
    if embedder_layers is not None and rule.embedder != "from-embedder":
        raise LifecycleError(
            f"{event}: config/provider layers come from the embedder only at startup"
        )
    if session_id is not None and not rule.new_session:
        raise LifecycleError(f"{event} stays in the same session; it takes no session_id")

    stack = state.layer_stack
    if event == "resume":
        stack = tuple(layer for layer in stack if layer.lifetime != "session")

    embedder = [layer for layer in stack if layer.kind in ("config", "provider")]
    if rule.embedder == "from-embedder" and embedder_layers is not None:
        embedder = list(embedder_layers)
        for layer in embedder:
            if layer.kind not in ("config", "provider"):
                raise LifecycleError(
                    f"{event}: layer {layer.source} is not a config or provider layer"
                )
    hooks = tuple(layer for layer in stack if layer.kind == "hook")
    thread = [layer for layer in stack if layer.kind == "thread"]

    if rule.hooks == "rerun-replaces":
        hooks, diagnostics = _rerun_hooks(hooks, hook_results, keep_failed=True)
    else:  # replace-all, drop-then-add: only this event's outputs remain
        hooks, diagnostics = _rerun_hooks((), hook_results, keep_failed=False)
    if rule.thread in ("none", "drop"):
        thread = []

    return attrs.evolve(
        state,
        session_id=session_id or state.session_id,
        layer_stack=(*embedder, *hooks, *thread),
        diagnostics=diagnostics,
    )


def _rerun_hooks(
    layers: tuple[Layer, ...], results: tuple[HookResult, ...], *, keep_failed: bool
) -> tuple[tuple[Layer, ...], tuple[Diagnostic, ...]]:
    """Hook layers after ``results`` ran: each replaces its own layer in place (or is
    appended); a failed re-run keeps the previous layer when ``keep_failed``."""
    stack = list(layers)
    diagnostics: list[Diagnostic] = []
    for result in results:
        if not isinstance(result, HookResult):
            raise LifecycleError(
                f"hook_results must be HookResult objects, not {type(result).__name__}"
            )
        position = next(
            (
                i
                for i, layer in enumerate(stack)
                if layer.kind == "hook" and layer.id == result.hook_id
            ),
            None,
        )
        failed = result.layer is None and bool(result.errors)
        if failed:
            diagnostics.extend(result.errors)
            if position is not None and keep_failed:
                diagnostics.append(
                    Diagnostic(
                        "warning",
                        "hook-failed",
                        None,
                        stack[position].source,
                        f"hook {result.hook_id!r} failed when it ran again; its previous layer "
                        "is kept",
                        hint="fix the hook; its next successful run replaces the layer",
                    )
                )
                continue
            if position is not None:
                del stack[position]
            continue
        if result.layer is None:  # ran fine, published no env: its old values are gone
            if position is not None:
                del stack[position]
        elif position is not None:
            stack[position] = result.layer
        else:
            stack.append(result.layer)
        diagnostics.extend(result.errors)  # policy findings: the layer still applies
    return tuple(stack), tuple(diagnostics)


__all__ = [
    "CODEX_RUNTIME",
    "EVENTS",
    "RUNTIME_FIELDS",
    "TRANSITIONS",
    "Event",
    "LifecycleError",
    "ThreadState",
    "Transition",
]
