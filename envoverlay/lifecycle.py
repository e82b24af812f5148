"""A thread's env state and the events that change it.

Theory of operation
-------------------
A thread's env state is its non-inherited layers plus its ids. The inherited base is never
part of it: it is re-captured at every spawn, with provenance. The state changes only through
the rows of the table below, each a pure function from the old state (and the event's inputs:
hook and provider results, the embedder's layers, new ids) to a new state.

The whole lifecycle is the table :data:`TRANSITIONS` (SPEC §4). A row is an event: the five
SessionStart sources, plus ``subagent`` (a child thread spawned with its SubagentStart
results). A row has one cell per part of the state, and every cell names the functions that
carry it out, in order — :data:`LAYER_STEPS` for the three layer parts, :data:`ID_STEPS` for
the ids from which the runtime layer is rendered. Nothing outside the table decides what an
event does::

    event     config / provider   hook layers                 thread layers   runtime (ids)
    startup   from_embedder       from_hooks                  drop            regenerate
    resume    restore             restore replace_rerun       restore         regenerate
    clear     keep                from_hooks                  drop            regenerate
    compact   keep                keep replace_rerun          keep            keep
    fork      restore             restore replace_rerun       restore         new_thread
    subagent  inheritable         inheritable replace_rerun   inheritable     child

The layer steps:

* ``keep`` — the layers as they are (the same session goes on).
* ``restore`` — the layers that outlive a session: ``lifetime="session"`` layers belong to
  one session and a new session (``resume``, or a ``fork``, which is a copy of the thread
  resumed under new ids) starts without them. This is the session-lifetime rule; it lives
  here and nowhere else.
* ``inheritable`` — the parent's ``inherit: true`` layers, as they are at spawn (a
  snapshot: later parent events never reach the child).
* ``drop`` — none.
* ``from_hooks`` — only this event's hook outputs, in configured order.
* ``replace_rerun`` — *a hook that runs again replaces its own layer*, matched by hook id and
  kept in its configured place; a hook seen for the first time is appended. A hook that ran
  and succeeded without publishing env removes its old layer. A hook whose re-run failed
  keeps its previous layer — its last good activation — and the failure is reported in
  ``state.diagnostics``: the user's environment is never lost to a transient error.
* ``from_embedder`` — the config/provider layers the embedder passes (``layers=``) and the
  layers of its provider results (``provider_results=``); a failed provider contributes no
  layer and its errors are reported in ``state.diagnostics``. Without either, the current
  layers stay.

The id steps (the runtime layer is derived, never stored: it is rendered from the embedder's
runtime template, e.g. ``{"CODEX_THREAD_ID": "{thread_id}"}``, with the state's ids):

* ``keep`` — the same ids; the event takes no new ones.
* ``regenerate`` — the same thread; a new session id when one is given.
* ``new_thread`` — a new thread id and session id, both required; the source thread becomes
  ``parent_thread_id``.
* ``child`` — a new thread id (required), the parent's session id unless one is given, the
  parent as ``parent_thread_id``.

An input that no cell of a row takes (``layers=`` on a ``resume``, a ``thread_id`` on a
``clear``) is refused with a :class:`LifecycleError` naming the row: nothing passed to an event
is silently ignored.

Thread overrides (``thread`` layers) come from the user or an API call, between events:
:meth:`ThreadState.with_thread_layer` and :meth:`ThreadState.without_thread_layer`.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Final, Literal, TypeAlias, TypeVar

import attrs

from ._names import joined_pairs
from .diagnostics import Diagnostic, Findings
from .errors import ArgumentTypeError, LifecycleError
from .hooks import HookResult
from .layers import Layer
from .ops import Op
from .sources import LayerKind, Source

if TYPE_CHECKING:
    from .providers import ProviderResult

#: The SessionStart sources: the events a thread goes through itself.
Event = Literal["startup", "resume", "clear", "compact", "fork"]
EVENTS: Final[tuple[Event, ...]] = ("startup", "resume", "clear", "compact", "fork")

#: The rows of the lifecycle table: the events, and the spawn of a subagent.
Row = Literal["startup", "resume", "clear", "compact", "fork", "subagent"]
ROWS: Final[tuple[Row, ...]] = (*EVENTS, "subagent")

#: The placeholders a runtime template may use.
RUNTIME_FIELDS: Final = ("thread_id", "session_id", "parent_thread_id")

#: A ready-made runtime template for Codex-like runtimes.
CODEX_RUNTIME: Final[Mapping[str, str]] = {
    "CODEX_THREAD_ID": "{thread_id}",
    "CODEX_SESSION_ID": "{session_id}",
}

LayerStep = Literal[
    "keep", "restore", "inheritable", "drop", "from_hooks", "replace_rerun", "from_embedder"
]
IdStep = Literal["keep", "regenerate", "new_thread", "child"]

#: The three layer parts of a state, each with the layer kinds it holds, in stack order.
PARTS: Final[Mapping[str, tuple[LayerKind, ...]]] = {
    "embedder": ("config", "provider"),
    "hooks": ("hook",),
    "thread": ("thread",),
}


def _steps(cell: str | tuple[str, ...]) -> tuple[str, ...]:
    """A cell's step names: written in the table as one string, space-separated."""
    return tuple(cell.split()) if isinstance(cell, str) else tuple(cell)


@attrs.frozen
class Transition:
    """One row of the lifecycle table: for each part of a thread's state, the names of the
    steps (:data:`LAYER_STEPS`, :data:`ID_STEPS`) that carry the event out, in order."""

    embedder: tuple[LayerStep, ...] = attrs.field(converter=_steps)
    hooks: tuple[LayerStep, ...] = attrs.field(converter=_steps)
    thread: tuple[LayerStep, ...] = attrs.field(converter=_steps)
    runtime: IdStep

    def layer_cells(self) -> tuple[tuple[str, tuple[LayerStep, ...]], ...]:
        """``(part, steps)`` for the three layer parts, in stack order."""
        return (("embedder", self.embedder), ("hooks", self.hooks), ("thread", self.thread))


_T = Transition
# fmt: off
#: SPEC §4, one row per event; each cell names its steps, in order (see the module docs).
TRANSITIONS: Final[Mapping[Row, Transition]] = {
    #              config/provider   hook layers                   thread          runtime
    "startup":  _T("from_embedder",  "from_hooks",                 "drop",         "regenerate"),
    "resume":   _T("restore",        "restore replace_rerun",      "restore",      "regenerate"),
    "clear":    _T("keep",           "from_hooks",                 "drop",         "regenerate"),
    "compact":  _T("keep",           "keep replace_rerun",         "keep",         "keep"),
    "fork":     _T("restore",        "restore replace_rerun",      "restore",      "new_thread"),
    "subagent": _T("inheritable",    "inheritable replace_rerun",  "inheritable",  "child"),
}
# fmt: on


@attrs.frozen
class EventInputs:
    """What one event is given: the hook results (SessionStart's, or for ``subagent`` the
    child's SubagentStart ones), the embedder's layers and provider results, and new ids."""

    row: Row
    hook_results: tuple[HookResult, ...] = ()
    provider_results: tuple[ProviderResult, ...] = ()
    layers: tuple[Layer, ...] | None = None
    thread_id: str | None = None
    session_id: str | None = None


_Item = TypeVar("_Item")
Layers: TypeAlias = tuple[Layer, ...]
Diagnostics: TypeAlias = tuple[Diagnostic, ...]


# -- the layer steps ------------------------------------------------------------------------


def keep(layers: Layers, inputs: EventInputs) -> tuple[Layers, Diagnostics]:
    """The layers as they are."""
    return layers, ()


def restore(layers: Layers, inputs: EventInputs) -> tuple[Layers, Diagnostics]:
    """The layers that outlive a session (``lifetime="session"`` ones are dropped)."""
    return tuple(layer for layer in layers if layer.lifetime != "session"), ()


def inheritable(layers: Layers, inputs: EventInputs) -> tuple[Layers, Diagnostics]:
    """The ``inherit: true`` layers (what a subagent gets from its parent)."""
    return tuple(layer for layer in layers if layer.inherit), ()


def drop(layers: Layers, inputs: EventInputs) -> tuple[Layers, Diagnostics]:
    """No layers."""
    return (), ()


def from_hooks(layers: Layers, inputs: EventInputs) -> tuple[Layers, Diagnostics]:
    """Only this event's hook outputs: each successful hook's layer, in configured order."""
    return replace_rerun((), inputs)


def replace_rerun(layers: Layers, inputs: EventInputs) -> tuple[Layers, Diagnostics]:
    """Each hook that ran replaces its own layer in place (or is appended); a failed re-run
    keeps the previous layer, with a warning; a run that published no env removes it."""
    stack = list(layers)
    diagnostics: list[Diagnostic] = []
    for result in inputs.hook_results:
        position = next(
            (i for i, layer in enumerate(stack) if layer.id == result.hook_id),
            None,
        )
        diagnostics.extend(result.errors)  # a failure, or policy findings on a kept layer
        if result.layer is None and result.errors:  # failed: nothing of it applies
            if position is not None:
                diagnostics.append(_kept_after_failure(result.hook_id, stack[position].source))
        elif result.layer is None:  # ran fine, published no env: its old values are gone
            if position is not None:
                del stack[position]
        elif position is not None:
            stack[position] = result.layer
        else:
            stack.append(result.layer)
    return tuple(stack), tuple(diagnostics)


def from_embedder(layers: Layers, inputs: EventInputs) -> tuple[Layers, Diagnostics]:
    """The embedder's config/provider layers and its provider results' layers (the current
    layers when it passes neither); a failed provider's errors are reported."""
    if inputs.layers is None and not inputs.provider_results:
        return layers, ()
    given = inputs.layers if inputs.layers is not None else ()
    produced = tuple(r.layer for r in inputs.provider_results if r.layer is not None)
    diagnostics = tuple(d for r in inputs.provider_results for d in r.errors)
    return (*given, *produced), diagnostics


LayerStepFunction: TypeAlias = Callable[[Layers, EventInputs], tuple[Layers, Diagnostics]]

#: The function each layer-step name of :data:`TRANSITIONS` stands for.
LAYER_STEPS: Final[Mapping[LayerStep, LayerStepFunction]] = {
    "keep": keep,
    "restore": restore,
    "inheritable": inheritable,
    "drop": drop,
    "from_hooks": from_hooks,
    "replace_rerun": replace_rerun,
    "from_embedder": from_embedder,
}


def _kept_after_failure(hook_id: str, source: Source) -> Diagnostic:
    return Diagnostic(
        "warning",
        "hook-failed",
        None,
        source,
        f"hook {hook_id!r} failed when it ran again; its previous layer is kept",
        hint="fix the hook; its next successful run replaces the layer",
    )


# -- the id steps ---------------------------------------------------------------------------

Ids: TypeAlias = tuple[str, str, "str | None"]  # thread_id, session_id, parent_thread_id


def keep_ids(state: ThreadState, inputs: EventInputs) -> Ids:
    """The same ids: the event takes no new ones."""
    _refuse(inputs, "thread_id", "session_id", why="it keeps the thread's ids")
    return state.thread_id, state.session_id, state.parent_thread_id


def regenerate(state: ThreadState, inputs: EventInputs) -> Ids:
    """The same thread; a new session id when one is given."""
    _refuse(inputs, "thread_id", why="the thread keeps its id; a new thread is a fork")
    return state.thread_id, inputs.session_id or state.session_id, state.parent_thread_id


def new_thread(state: ThreadState, inputs: EventInputs) -> Ids:
    """A new thread id and session id (both required); the source thread as parent."""
    thread_id = _new_thread_id(state, inputs)
    if inputs.session_id is None:
        raise LifecycleError(
            f"{inputs.row} starts a new session: pass session_id= (the new thread's session)"
        )
    return thread_id, inputs.session_id, state.thread_id


def child(state: ThreadState, inputs: EventInputs) -> Ids:
    """A new thread id (required), the parent's session unless given, the parent's id."""
    thread_id = _new_thread_id(state, inputs)
    return thread_id, inputs.session_id or state.session_id, state.thread_id


#: The function each runtime-step name of :data:`TRANSITIONS` stands for.
ID_STEPS: Final[Mapping[IdStep, Callable[[ThreadState, EventInputs], Ids]]] = {
    "keep": keep_ids,
    "regenerate": regenerate,
    "new_thread": new_thread,
    "child": child,
}


def _refuse(inputs: EventInputs, *fields: str, why: str) -> None:
    for field in fields:
        if getattr(inputs, field) is not None:
            raise LifecycleError(f"{inputs.row} takes no {field}=: {why}")


def _new_thread_id(state: ThreadState, inputs: EventInputs) -> str:
    if inputs.thread_id is None:
        raise LifecycleError(f"{inputs.row} makes a new thread: pass thread_id= (its new id)")
    if joined_pairs(inputs.thread_id) == state.thread_id:
        raise LifecycleError(
            f"{inputs.row} makes a new thread: thread_id= must differ from the source "
            f"thread's {state.thread_id!r}"
        )
    return inputs.thread_id


# -- the state ------------------------------------------------------------------------------


def _check_id(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str):
        raise ArgumentTypeError(
            f"{attribute.name} must be a non-empty string, not {type(value).__name__}"
        )
    if not value:
        raise LifecycleError(f"{attribute.name} must be a non-empty string, not ''")
    if "\0" in value:  # ids are rendered into runtime variables, which cannot hold NUL
        raise LifecycleError(f"{attribute.name} must not contain a NUL character")


def _check_parent(
    instance: object, attribute: attrs.Attribute[str | None], value: str | None
) -> None:
    if value is not None:
        _check_id(instance, attribute, value)  # type: ignore[arg-type]


def _layer_tuple(layers: Iterable[Layer]) -> tuple[Layer, ...]:
    return _items(layers, "layers", Layer)


def _check_stack(
    instance: object, attribute: attrs.Attribute[tuple[Layer, ...]], value: tuple[Layer, ...]
) -> None:
    for layer in value:
        if layer.kind == "runtime":
            raise LifecycleError(
                f"layer {layer.source}: the runtime layer is generated from the runtime "
                "template; pass runtime={NAME: TEMPLATE} instead"
            )


def _template(value: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    if isinstance(value, Mapping):
        items = tuple(value.items())
    elif isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ArgumentTypeError(
            "runtime= maps each runtime-owned name to its template, e.g. "
            f'{{"CODEX_THREAD_ID": "{{thread_id}}"}}, not {type(value).__name__}'
        )
    else:
        items = tuple(value)
    pairs = []
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise ArgumentTypeError(f"runtime= holds (name, template) pairs, not {item!r}")
        name, template = item
        if not isinstance(name, str) or not isinstance(template, str):
            raise ArgumentTypeError(
                f"runtime= maps names to template strings; {name!r}: {template!r} is not "
                "a pair of strings"
            )
        pairs.append((joined_pairs(name), joined_pairs(template)))
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
    return tuple(pairs)


@attrs.frozen(repr=False)
class ThreadState:
    """A thread's env state: its ids, its non-inherited layers (config, provider, hook and
    thread, in order) and the template of its runtime layer.

    ``layers`` — what :func:`~envoverlay.compose` takes — includes the runtime layer.
    ``diagnostics`` tell what the last event could not do (a failed hook or provider, ...).
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
        provider_results: Iterable[ProviderResult] = (),
        runtime: Mapping[str, str] | None = None,
        runtime_id: str = "runtime",
        parent_thread_id: str | None = None,
    ) -> ThreadState:
        """A new thread. ``layers`` are its config/provider (and any thread) layers, then
        the layers of ``provider_results`` (a failed provider adds none; its errors are in
        ``diagnostics``); ``runtime`` maps runtime-owned variables to templates such as
        ``"{thread_id}"``."""
        results = _provider_results(provider_results)
        produced, diagnostics = from_embedder((), EventInputs("startup", provider_results=results))
        return cls(
            thread_id,
            session_id,
            parent_thread_id,
            (*_layer_tuple(layers), *produced),
            {} if runtime is None else runtime,
            runtime_id,
            diagnostics,
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
        event: Row,
        hook_results: Iterable[HookResult] = (),
        *,
        provider_results: Iterable[ProviderResult] = (),
        layers: Iterable[Layer] | None = None,
        thread_id: str | None = None,
        session_id: str | None = None,
    ) -> ThreadState:
        """The state after ``event``, as its row of :data:`TRANSITIONS` says.

        ``hook_results``: the hooks that ran for it, in configured order (SessionStart's;
        the child's SubagentStart ones for ``subagent``). ``layers`` and
        ``provider_results``: the embedder's config/provider layers (``startup`` only).
        ``thread_id``: the new thread's id (``fork``, ``subagent``). ``session_id``: the new
        session's id (``startup``, ``resume``, ``clear``; required by ``fork``).
        """
        if event not in TRANSITIONS:
            raise LifecycleError(
                f"event must be one of {', '.join(ROWS)}, not {event!r}",
            )
        inputs = EventInputs(
            event,
            _hook_results(hook_results),
            _provider_results(provider_results),
            None if layers is None else _embedder_layers(event, layers),
            thread_id,
            session_id,
        )
        return _transition(self, TRANSITIONS[event], inputs)

    def fork(
        self, *, thread_id: str, session_id: str, hook_results: Iterable[HookResult] = ()
    ) -> ThreadState:
        """The state of a fork of this thread (``apply("fork", ...)``): its layers that
        outlive a session, copied under new ids, this thread as parent; ``hook_results``
        are the SessionStart(fork) hooks, each replacing its own layer."""
        return self.apply("fork", hook_results, thread_id=thread_id, session_id=session_id)

    def spawn_child(
        self,
        *,
        thread_id: str,
        session_id: str | None = None,
        hook_results: Iterable[HookResult] = (),
    ) -> ThreadState:
        """A subagent's state (``apply("subagent", ...)``): a snapshot of this thread's
        ``inherit: true`` layers, its own thread id, this thread as parent, the same session
        id unless given, and the runtime layer rendered with the child's ids.
        ``hook_results`` are the child's SubagentStart hooks: their layers belong to the
        child, each replacing the inherited layer of the same hook id."""
        return self.apply("subagent", hook_results, thread_id=thread_id, session_id=session_id)

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
        if not isinstance(layer_id, str):
            raise ArgumentTypeError(f"a layer id is a string, not {type(layer_id).__name__}")
        layer_id = joined_pairs(layer_id)  # as layer ids are stored
        stack = tuple(layer for layer in self.layer_stack if not _is_thread(layer, layer_id))
        if len(stack) == len(self.layer_stack):
            ids = [layer.id for layer in self.layer_stack if layer.kind == "thread"]
            raise LifecycleError(
                f"no thread override {layer_id!r}; this thread has {ids or 'none'}"
            )
        return attrs.evolve(self, layer_stack=stack)

    def __repr__(self) -> str:
        return (
            f"ThreadState(thread_id={self.thread_id!r}, session_id={self.session_id!r}, "
            f"parent_thread_id={self.parent_thread_id!r}, layers={list(self.layers)!r})"
        )


def _is_thread(layer: Layer, layer_id: str) -> bool:
    return layer.kind == "thread" and layer.id == layer_id


def _transition(state: ThreadState, rule: Transition, inputs: EventInputs) -> ThreadState:
    """Carry out one row: each layer part through its steps, then the ids."""
    if "from_embedder" not in rule.embedder and (
        inputs.layers is not None or inputs.provider_results
    ):
        raise LifecycleError(
            f"{inputs.row}: config/provider layers and provider results come from the "
            "embedder only at startup; later events keep the thread's own"
        )
    stack: list[Layer] = []
    diagnostics: list[Diagnostic] = []
    for part, steps in rule.layer_cells():
        layers = tuple(layer for layer in state.layer_stack if layer.kind in PARTS[part])
        for step in steps:
            layers, found = LAYER_STEPS[step](layers, inputs)
            diagnostics.extend(found)
        stack.extend(layers)
    thread_id, session_id, parent = ID_STEPS[rule.runtime](state, inputs)
    return attrs.evolve(
        state,
        thread_id=thread_id,
        session_id=session_id,
        parent_thread_id=parent,
        layer_stack=tuple(stack),
        diagnostics=tuple(diagnostics),
    )


# -- checking what an event is given ------------------------------------------------------


def _items(values: Iterable[_Item], argument: str, item: type[_Item]) -> tuple[_Item, ...]:
    """``values`` as a tuple, each an ``item``; a single one, a string or a mapping is
    refused rather than iterated into pieces."""
    kind = item.__name__
    if isinstance(values, (item, str, bytes, Mapping)) or not isinstance(values, Iterable):
        hint = f"; wrap one in a list: [{kind.lower()}]" if isinstance(values, item) else ""
        raise ArgumentTypeError(
            f"{argument}= takes a list of {kind} objects, not {type(values).__name__}{hint}"
        )
    checked = tuple(values)
    for value in checked:
        if not isinstance(value, item):
            raise ArgumentTypeError(f"{argument}= takes {kind} objects, not {type(value).__name__}")
    return checked


def _hook_results(results: Iterable[HookResult]) -> tuple[HookResult, ...]:
    checked = _items(results, "hook_results", HookResult)
    for result in checked:
        if result.layer is not None and result.layer.kind != "hook":
            raise LifecycleError(
                f"hook_results: hook {result.hook_id!r} made a layer of kind "
                f"{result.layer.kind!r}; pass provider results as provider_results="
            )
    return checked


def _provider_results(results: Iterable[ProviderResult]) -> tuple[ProviderResult, ...]:
    # Checked on the results' shared base, so the lifecycle never imports the providers
    # (which run programs).
    checked: tuple[ProviderResult, ...] = _items(results, "provider_results", Findings)  # type: ignore[arg-type]
    for result in checked:
        layer = getattr(result, "layer", None)
        if isinstance(result, HookResult) or (
            layer is not None and (not isinstance(layer, Layer) or layer.kind != "provider")
        ):
            raise LifecycleError(
                f"provider_results: {result!r} is not a provider's result; pass hook results "
                "as hook_results="
            )
    return checked


def _embedder_layers(row: Row, layers: Iterable[Layer]) -> tuple[Layer, ...]:
    checked = _items(layers, "layers", Layer)
    for layer in checked:
        if layer.kind not in PARTS["embedder"]:
            raise LifecycleError(f"{row}: layer {layer.source} is not a config or provider layer")
    return checked


__all__ = [
    "CODEX_RUNTIME",
    "EVENTS",
    "ID_STEPS",
    "LAYER_STEPS",
    "PARTS",
    "ROWS",
    "RUNTIME_FIELDS",
    "TRANSITIONS",
    "Event",
    "EventInputs",
    "LifecycleError",
    "Row",
    "ThreadState",
    "Transition",
]
