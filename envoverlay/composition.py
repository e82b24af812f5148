"""Composition: fold layers of ops over the inherited map into a spawn map.

Theory of operation
-------------------
1. **Intake.** The inherited map (``base``) is read in order. Entries that no environment
   block can hold (empty name, '=' or NUL in a name, NUL or a non-string value) are errors
   and left out. On Windows, names that Windows treats as one are resolved as a child would
   see them: the first in block order wins and the others are reported.
2. **Inherit policy.** :class:`~envoverlay.InheritPolicy` filters the inherited map; every
   name it removes is recorded with the rule that removed it.
3. **Fold.** Layers are ordered by kind (``config`` < ``provider`` < ``hook`` < ``thread``,
   or an order the embedder gives; ``runtime`` always last), stable within a kind. Each op
   is judged — protected names (only the runtime layer may change them), sensitive names
   (hooks and providers: warn, deny or allow), size limits — and then applied as
   :func:`~envoverlay.ops.apply_op` applies it (path lists through the same
   :class:`~envoverlay.ops.PathList` engine). A rejected op is not applied; the rest are.
4. **Output.** POSIX keeps insertion order; Windows keeps the first spelling seen for each
   name and sorts case-insensitively, as Windows documents for environment blocks. The
   block size is checked (reported, never truncated).

Only what ops touched is recorded during the fold; the provenance objects are built when
asked for, so compose() stays cheap on the spawn path. compose() is a pure function; a
runtime that composes the same stack before every spawn holds a :class:`Composer`, which
remembers its recent results (and each layer's analysis) for its own thread only.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterable, Mapping
from operator import countOf
from typing import Any, Final, Literal, NamedTuple

import attrs

from ._names import (
    DEFAULT_BLOCK_LIMIT,
    Platform,
    PlatformArg,
    encoding_problem,
    inherited_name_problem,
    keys_of,
    list_separator,
    long_runs,
    name_key,
    names_argument,
    resolve_platform,
    rules_for,
    value_problem,
    variable_limit,
    variable_size,
    windows_sorted_keys,
)
from .diagnostics import ComposeError, Diagnostic, summarize
from .errors import ArgumentError, ArgumentTypeError
from .layers import Layer
from .ops import PATH_ACTIONS, REDACTED, Op, PathList, apply_op, new_entries, op_warnings
from .policy import InheritPolicy, ProtectedNames, SensitiveMode, judge_op, sensitive_mode
from .sources import DEFAULT_PRECEDENCE, LayerKind, Origin, Source

Status = Literal["applied", "skipped", "rejected"]
POLICY_SOURCE: Final = Source("config", "inherit-policy")


def _shown(value: str | None, secret: bool) -> str | None:
    return REDACTED if value is not None and secret else value


@attrs.frozen(repr=False)
class Contribution:
    """One step in a variable's history: who did what, and the value after it
    (None = absent). ``status`` is ``applied``, ``skipped`` (a ``default`` on a set
    variable) or ``rejected`` (not applied; see the diagnostics)."""

    source: Source
    action: str
    argument: str | list[str] | None
    value: str | None
    status: Status = "applied"
    secret: bool = False
    #: The op itself (None for the inherited value and policy removals); its repr redacts.
    op: Op | None = attrs.field(default=None, repr=False)

    @property
    def shown_value(self) -> str | None:
        """The value after this step, ``***`` when it holds a secret."""
        return _shown(self.value, self.secret)

    @property
    def origin(self) -> Origin | None:
        """The file and line the op was read from (env files), else None."""
        return self.op.origin if self.op is not None else None

    def to_json(self) -> dict[str, object]:
        """The step's JSON view, its value redacted when secret (see :mod:`.views`)."""
        from .views import contribution_view

        return contribution_view(self)

    def __repr__(self) -> str:
        return (
            f"Contribution({self.source}, {self.action!r}, {self.argument!r}, "
            f"value={self.shown_value!r}, status={self.status!r})"
        )


@attrs.frozen(repr=False)
class Provenance:
    """Where one variable's final value came from.

    ``value`` is the final value (None when the variable was removed), ``source`` the layer
    whose op gave it (or removed it), ``history`` every contribution in order, starting with
    the inherited value when there was one.
    """

    name: str
    value: str | None
    source: Source
    history: tuple[Contribution, ...]
    secret: bool = False

    @property
    def shown_value(self) -> str | None:
        """The final value, ``***`` when it holds a secret."""
        return _shown(self.value, self.secret)

    @property
    def origin(self) -> Origin | None:
        """The file and line of the op that gave (or removed) the value, if an env file
        wrote it."""
        effective = next(
            (step for step in reversed(self.history) if step.status == "applied"), None
        )
        return effective.origin if effective is not None else None

    @property
    def overridden(self) -> str | None:
        """The value the effective contribution replaced (redacted if secret), if any."""
        applied = [step for step in self.history if step.status == "applied"]
        return applied[-2].shown_value if len(applied) >= 2 else None

    def to_json(self) -> dict[str, object]:
        """The provenance's JSON view, values redacted when secret (see :mod:`.views`)."""
        from .views import provenance_view

        return provenance_view(self)

    def __repr__(self) -> str:
        return f"Provenance({self.name!r}, {self.shown_value!r}, source={self.source})"


@attrs.frozen(repr=False, eq=False)
class ComposeResult:
    """What :func:`compose` produced: the spawn map, its provenance, and diagnostics."""

    platform: Platform
    diagnostics: tuple[Diagnostic, ...]
    base_source: Source
    #: The protected names and globs compose() was given (runtime names are added to these).
    protected: tuple[str, ...]
    _env: dict[str, str] = attrs.field(alias="env_map")
    _secret_keys: frozenset[str] = attrs.field(alias="secret_keys")
    _key: Callable[[str], str] = attrs.field(alias="key")
    _inherited: dict[str, str] = attrs.field(alias="inherited")
    _inherited_spelling: dict[str, str] = attrs.field(alias="inherited_spelling")
    _excluded: dict[str, tuple[str, str]] = attrs.field(alias="excluded")
    _trail: dict[str, list[StepFields]] = attrs.field(alias="trail")
    _dropped: dict[str, tuple[str, str]] = attrs.field(alias="dropped")
    _shadowed: dict[str, list[tuple[str, str]]] = attrs.field(alias="shadowed")
    _separator: str = attrs.field(alias="separator")
    _final_names: dict[str, str] = attrs.field(factory=dict, alias="final_names")

    @property
    def env(self) -> dict[str, str]:
        """The spawn map, ready for ``subprocess.Popen(env=...)``: a new dict each time,
        secrets real, in the platform's order."""
        return dict(self._env)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "warning")

    @property
    def ok(self) -> bool:
        """True when composition found no error."""
        return not any(d.severity == "error" for d in self.diagnostics)

    def redacted_env(self) -> dict[str, str]:
        """The spawn map with every secret value replaced by ``***``: values an op marked
        secret, and every value whose name matches the default secret patterns (SPEC §3a)."""
        return {
            name: REDACTED if self.is_secret(name) else value for name, value in self._env.items()
        }

    def is_secret(self, name: str, *, by_name: bool = True) -> bool:
        """Whether ``name``'s value is shown as ``***`` outside the spawn map: an op marked
        it secret, or (unless ``by_name=False``) its name matches the default secret
        patterns."""
        if self._key(name) in self._secret_keys:
            return True
        if not by_name:
            return False
        from .secrets import is_secret_name

        return is_secret_name(name)

    def provenance(self, name: str) -> Provenance:
        """The chain of contributions for one name (compared by the platform's rule).
        Raises KeyError for a name that was never inherited nor touched by an op."""
        key = self._key(name)
        final_name = self._final_name(key)
        history: list[Contribution] = []
        inherited = self._inherited.get(key)
        if inherited is not None:
            history.append(Contribution(self.base_source, "inherit", None, inherited))
            history.extend(
                # A later spelling of the same name in the base: a Windows child never sees it.
                Contribution(self.base_source, "inherit", spelled, inherited, "rejected")
                for spelled, _ in self._shadowed.get(key, ())
            )
        excluded = self._excluded.get(key)
        if excluded is not None:
            history.append(Contribution(POLICY_SOURCE, "exclude", excluded[1], None))
        dropped = self._dropped.get(key)
        if dropped is not None and inherited is None:
            history.append(Contribution(self.base_source, "inherit", None, None, "rejected"))
        value = inherited if excluded is None else None
        # A secret's name masks every step of its history, the inherited value included.
        named_secret = self.is_secret(name)
        if named_secret:
            history = [attrs.evolve(step, secret=True) for step in history]
        for step in map(Step._make, self._trail.get(key, ())):
            op = step.op
            if step.status == "applied":
                value = apply_op(value, op, separator=self._separator, entry_key=self._key)
            argument = op.argument()
            if named_secret and argument is not None:
                argument = [REDACTED] * len(argument) if isinstance(argument, list) else REDACTED
            history.append(
                Contribution(
                    step.source,
                    op.action,
                    argument,
                    value,
                    step.status,
                    step.secret or named_secret,
                    op,
                )
            )
        if not history:
            raise KeyError(f"{name!r} was neither inherited nor touched by any layer")
        effective = next(
            (step for step in reversed(history) if step.status == "applied"), history[0]
        )
        value = None
        if final_name is None:
            final_name = self._spelling(key)
        else:
            value = self._env[final_name]
        return Provenance(final_name, value, effective.source, tuple(history), named_secret)

    def _final_name(self, key: str) -> str | None:
        if self.platform == "posix":
            return key if key in self._env else None
        names = self._final_names
        if not names and self._env:  # built on first use (Windows keys differ from names)
            # Built aside and published in one step: results are shared between threads.
            names.update({self._key(name): name for name in self._env})
        return names.get(key)

    @property
    def variables(self) -> dict[str, Provenance]:
        """Provenance of every variable in the spawn map, in spawn-map order."""
        return {name: self.provenance(name) for name in self._env}

    @property
    def touched_names(self) -> list[str]:
        """Every name an op of some layer touched (applied, skipped or rejected), in the
        order first touched — including unsets of names that never existed."""
        return [self._spelling(key) for key in self._trail]

    @property
    def removed(self) -> dict[str, Provenance]:
        """Provenance of every variable that was inherited or set and is not in the spawn
        map, with who removed it."""
        final = {self._key(name) for name in self._env}
        out: dict[str, Provenance] = {}
        for key in [*self._inherited, *self._excluded, *self._dropped, *self._trail]:
            if key in final or not self._existed(key):
                continue
            provenance = self.provenance(self._spelling(key))
            out.setdefault(provenance.name, provenance)
        return out

    def _existed(self, key: str) -> bool:
        """Whether the variable had a value at some point (so its absence is a removal)."""
        if key in self._inherited or key in self._excluded or key in self._dropped:
            return True
        history = self.provenance(self._spelling(key)).history
        return any(step.status == "applied" and step.value is not None for step in history)

    def _spelling(self, key: str) -> str:
        if key in self._inherited:
            return self._inherited_spelling.get(key, key)
        for table in (self._excluded, self._dropped):
            if key in table:
                return table[key][0]
        trail = self._trail.get(key)
        return Step._make(trail[-1]).op.name if trail else key

    def raise_for_errors(self) -> None:
        """Raise :class:`ComposeError` if composition found any error."""
        errors = self.errors
        if errors:
            raise ComposeError(summarize("composition found errors:", errors), errors)

    def __repr__(self) -> str:
        return (
            f"ComposeResult(platform={self.platform!r}, env={self.redacted_env()!r}, "
            f"diagnostics={len(self.diagnostics)})"
        )


def compose(
    base: Mapping[str, str],
    layers: Iterable[Layer] = (),
    *,
    platform: PlatformArg = "auto",
    protected: Iterable[str] = (),
    sensitive: SensitiveMode = "warn",
    strict: bool = False,
    policy: InheritPolicy | None = None,
    base_id: str = "launcher",
    precedence: Iterable[LayerKind] | None = None,
    block_limit: int = DEFAULT_BLOCK_LIMIT,
) -> ComposeResult:
    """Compose the environment of a command.

    ``base`` is the inherited map (pass ``os.environ`` for this process's env; it is never
    read otherwise); ``base_id`` records where it came from (``launcher``, ``daemon``,
    ``remote:<host>``, ``snapshot``, ...). ``layers`` apply in precedence order (see the
    module docs). ``protected`` names (exact or globs; a bare string is one name) may be
    changed by the runtime layer only; every name a runtime layer sets or unsets is
    protected too. ``sensitive`` decides what happens to provider and hook ops on
    code-injecting variables. With ``strict=True`` any error raises :class:`ComposeError`;
    otherwise errors are returned as diagnostics.

    A pure function: it keeps nothing between calls. A runtime that composes the same
    stack before every spawn holds a :class:`Composer`, which answers an equal call from
    memory.
    """
    composer = Composer(
        platform=platform,
        protected=protected,
        sensitive=sensitive,
        policy=policy,
        base_id=base_id,
        precedence=precedence,
        block_limit=block_limit,
        remember=0,
    )
    return composer.compose(base, layers, strict=strict)


def clear_compose_cache() -> None:
    """Deprecated, and does nothing: :func:`compose` keeps nothing between calls any more
    (a :class:`Composer` holds what a runtime wants remembered; :meth:`Composer.clear`
    forgets it). Will be removed in the next release."""
    import warnings  # only a caller of the deprecated function pays for the import

    warnings.warn(
        "clear_compose_cache() does nothing: compose() keeps no results; hold an "
        "envoverlay.Composer per thread and call its clear() instead",
        DeprecationWarning,
        stacklevel=2,
    )


# -- arguments ------------------------------------------------------------------------------


def _protected_argument(value: Iterable[str]) -> tuple[str, ...]:
    return names_argument(value, argument="protected")  # a bare str is one name


def _check_sensitive(instance: object, attribute: object, value: object) -> None:
    sensitive_mode(value)


def _precedence(value: Iterable[LayerKind] | None) -> tuple[LayerKind, ...]:
    order = tuple(value) if value is not None else DEFAULT_PRECEDENCE
    if isinstance(value, str) or sorted(order) != sorted(DEFAULT_PRECEDENCE):
        raise ArgumentError(
            "precedence must list each of config, provider, hook and thread exactly once "
            f"(runtime is always last), not {list(order)!r}"
        )
    return order


def _check_remember(instance: object, attribute: object, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ArgumentError(f"remember must be a whole number of stacks (0 or more), not {value!r}")


# -- the composer -------------------------------------------------------------------------------

#: How many layers' analyses a composer keeps before it starts afresh.
_PLANS_KEPT: Final = 4096
#: How many stacks' orders a composer keeps before it starts afresh.
_STACKS_KEPT: Final = 64


class Judged(NamedTuple):
    """An op's fate in one stack: rejected or not, and the findings to report when it is
    met — the policy's verdict (:func:`~envoverlay.policy.judge_op`) and, for an op the
    policy lets through, its layer's own findings (a missing secret, lint warnings)."""

    rejected: bool
    findings: tuple[Diagnostic, ...]


class StackPlan(NamedTuple):
    """What the fold needs of a stack whatever the base: its layers in the order they
    apply, each with its :class:`PlannedOp` s and their :class:`Judged` fates."""

    layers: tuple[tuple[Layer, tuple[PlannedOp, ...], tuple[Judged, ...]], ...]


@attrs.frozen(eq=False, repr=False)
class Composer:
    """compose() with fixed options and a memory: what a runtime holds per thread.

    ``composer.compose(base, layers)`` gives what :func:`compose` gives with the same
    options. A runtime composes the same stack over the same inherited map before every
    command it spawns, so the composer remembers the results of its last ``remember``
    stacks (least recently used first out): a call with an equal stack and a base equal by
    names and values, in the same order, returns the same immutable result without folding
    again. Each layer's analysis (sensitive names, warnings, missing secrets, constant
    sizes) is kept too, so a changed base costs only the fold.

    What it remembers holds secret values: a composer belongs to one thread, and
    :meth:`clear` (or dropping the composer) forgets everything. Only bases of plain
    strings are remembered: equality says nothing about other types (``UserString("x") ==
    "x"``, ``1 == True``), which the fold must see to report them.
    """

    platform: Platform = attrs.field(default="auto", converter=resolve_platform)
    protected: tuple[str, ...] = attrs.field(default=(), converter=_protected_argument)
    sensitive: SensitiveMode = attrs.field(default="warn", validator=_check_sensitive)
    policy: InheritPolicy | None = None
    base_id: str = "launcher"
    precedence: tuple[LayerKind, ...] = attrs.field(default=None, converter=_precedence)
    block_limit: int = DEFAULT_BLOCK_LIMIT
    remember: int = attrs.field(default=32, validator=_check_remember)
    # stack -> (names, values, result); a dict keeps least recently used first.
    _results: dict[tuple[Layer, ...], tuple[list[str], list[str], ComposeResult]] = attrs.field(
        init=False, factory=dict
    )
    _plans: dict[Layer, tuple[PlannedOp, ...]] = attrs.field(init=False, factory=dict)
    _stacks: dict[tuple[Layer, ...], StackPlan] = attrs.field(init=False, factory=dict)

    def compose(
        self, base: Mapping[str, str], layers: Iterable[Layer] = (), *, strict: bool = False
    ) -> ComposeResult:
        """Compose ``layers`` over ``base`` with this composer's options (see
        :func:`compose`); an equal call returns the remembered result."""
        stack = tuple(layers)
        result = self._recall(stack, base)
        if result is None:
            if not isinstance(base, Mapping):
                raise ArgumentTypeError(
                    f"base must be a mapping of names to values, not {type(base).__name__}"
                )
            # One snapshot, read once: what is folded is exactly what is remembered, even if
            # another thread changes the caller's map (os.environ) meanwhile.
            snapshot = dict(base)
            result = self._fold(snapshot, stack)
            self._remember(stack, snapshot, result)
        if strict:
            result.raise_for_errors()
        return result

    def clear(self) -> None:
        """Forget every remembered result and layer analysis, and so their secrets."""
        self._results.clear()
        self._plans.clear()
        self._stacks.clear()

    def __repr__(self) -> str:
        return (
            f"Composer(platform={self.platform!r}, protected={self.protected!r}, "
            f"sensitive={self.sensitive!r}, remembered={len(self._results)})"
        )

    # -- memory -----------------------------------------------------------------------------

    def _recall(self, stack: tuple[Layer, ...], base: Mapping[str, str]) -> ComposeResult | None:
        """The remembered result of an equal call: the same names and values in the same
        order (order decides which spelling a Windows child sees, and the posix order)."""
        results = self._results
        try:
            remembered = results.get(stack)
            if remembered is None:
                return None
            names, values, result = remembered
            given = list(base)
            if given != names:
                return None
            given_values = list(base.values())
            if given_values != values:
                return None
            "".join(given)  # TypeError for a name or value that is not a str (UserString, ...)
            "".join(given_values)
            if next(reversed(results)) != stack:  # (each move hashes the stack twice)
                results[stack] = results.pop(stack)  # most recently used
        except Exception:  # unhashable layers (the fold reports them), a raising __eq__, ...
            return None
        return result

    def _remember(
        self, stack: tuple[Layer, ...], snapshot: dict[str, str], result: ComposeResult
    ) -> None:
        if not self.remember or not _only_text(snapshot):
            return
        results = self._results
        results.pop(stack, None)
        while len(results) >= self.remember:
            with contextlib.suppress(KeyError, RuntimeError, StopIteration):  # another thread
                del results[next(iter(results))]  # the least recently used stack
        results[stack] = (list(snapshot), list(snapshot.values()), result)

    def _stack_plan(self, stack: tuple[Layer, ...]) -> StackPlan:
        """The stack's order, its layers' analyses and its protected names: computed once
        per stack (a changed base folds the same stack again)."""
        stacks = self._stacks
        with contextlib.suppress(KeyError, TypeError):  # TypeError: not all layers (below)
            return stacks[stack]
        # Validates the layers: something else in the stack is refused here.
        ordered = _order_layers(stack, self.precedence)
        protected = _protected_names(self.protected, ordered, self.platform)
        rules, sensitive = rules_for(self.platform), self.sensitive
        layers = []
        for layer in ordered:
            plan = self._plan(layer)
            judged = []
            for planned_op in plan:
                verdict = judge_op(
                    planned_op.op,
                    layer.source,
                    rules=rules,
                    protected=protected,
                    sensitive=sensitive,
                )
                if verdict.applies:
                    findings = verdict.diagnostics + planned_op.found
                    judged.append(Judged(planned_op.refused, findings))
                else:  # reported alone: the op goes no further
                    judged.append(Judged(True, verdict.diagnostics))
            layers.append((layer, plan, tuple(judged)))
        planned = StackPlan(tuple(layers))
        if len(stacks) >= _STACKS_KEPT:
            stacks.clear()
        stacks[stack] = planned
        return planned

    def _plan(self, layer: Layer) -> tuple[PlannedOp, ...]:
        plans = self._plans
        plan = plans.get(layer)
        if plan is None:
            plan = _layer_plan(layer, self.platform)
            if len(plans) >= _PLANS_KEPT:
                plans.clear()
            plans[layer] = plan
        return plan

    # -- the fold ---------------------------------------------------------------------------

    def _fold(self, base: dict[str, str], stack: tuple[Layer, ...]) -> ComposeResult:
        """compose() itself: intake, inherit policy, fold, output (see the module docs)."""
        plat = self.platform
        planned = self._stack_plan(stack)
        base_source = Source("inherited", self.base_id)
        key = name_key(plat)

        # 1. intake
        intake = _intake(base, plat, key, base_source)
        env, spelling, diagnostics = intake.env, intake.spelling, intake.diagnostics
        inherited_spelling = dict(spelling)
        # 2. inherit policy
        excluded = _apply_inherit_policy(env, spelling, self.policy, plat)
        # 3. fold
        fold = _Fold(env, spelling, plat, diagnostics)
        for layer, plan, judged in planned.layers:
            fold.layer(layer, plan, judged)
        # 4. output
        final = fold.spawn_map()
        known = _known_sizes(intake, excluded, fold, inherited_spelling)
        _check_sizes(
            final, intake.inherited, key, plat, self.block_limit, base_source, diagnostics, known
        )
        return ComposeResult(
            plat,
            tuple(diagnostics),
            base_source,
            self.protected,
            env_map=final,
            secret_keys=frozenset(fold.secret_keys),
            key=key,
            inherited=intake.inherited,
            inherited_spelling=inherited_spelling,
            excluded=excluded,
            trail=fold.trail,
            dropped=intake.dropped,
            shadowed=intake.shadowed,
            separator=list_separator(plat),
        )


def _only_text(env: Mapping[Any, object]) -> bool:
    """Whether every name and value is exactly a ``str`` (C-level: counts, no set)."""
    size = len(env)
    return countOf(map(type, env.values()), str) == size and countOf(map(type, env), str) == size


def _order_layers(layers: tuple[Layer, ...], precedence: tuple[LayerKind, ...]) -> list[Layer]:
    """Layers by kind (``precedence``, then runtime), stable within a kind."""
    rank = {kind: index for index, kind in enumerate((*precedence, "runtime"))}
    for layer in layers:
        if not isinstance(layer, Layer):
            raise ArgumentTypeError(f"layers must be Layer objects, not {type(layer).__name__}")
    return sorted(layers, key=lambda layer: rank[layer.kind])


# -- 1. intake ----------------------------------------------------------------------------------


class Intake(NamedTuple):
    """The inherited map as a child can receive it, keyed by the platform's name key."""

    #: key -> value, what the fold starts from (the inherit policy then removes some).
    env: dict[str, str]
    #: key -> value, as inherited (provenance's first step).
    inherited: dict[str, str]
    #: key -> the name as spelled (names differ from keys on Windows only).
    spelling: dict[str, str]
    #: key -> (name, why): entries no environment block can hold, left out.
    dropped: dict[str, tuple[str, str]]
    #: Windows: key -> later spellings of a name, which a child never sees.
    shadowed: dict[str, list[tuple[str, str]]]
    diagnostics: list[Diagnostic]
    #: What the check of a clean base measured (None: some entry was looked at alone).
    clean: CleanBase | None = None


def _intake(
    base: dict[str, str], plat: Platform, key: Callable[[str], str], source: Source
) -> Intake:
    """Read the inherited map: fast when every entry is clean (the usual case), else entry
    by entry, reporting what is left out."""
    clean = _clean_base(base, plat)
    if clean is not None:
        if plat == "posix":
            return Intake(dict(base), base, {}, {}, {}, [], clean)
        names = list(base)
        keys = keys_of(names, key)
        env = dict(zip(keys, base.values(), strict=True))
        if len(env) == len(names):  # no two names that Windows treats as one
            spelling = dict(zip(keys, names, strict=True))
            return Intake(env, dict(env), spelling, {}, {}, [], clean)
    return _careful_intake(base, plat, key, source)


def _careful_intake(
    base: dict[str, str], plat: Platform, key: Callable[[str], str], source: Source
) -> Intake:
    rules = rules_for(plat)
    env: dict[str, str] = {}
    spelling: dict[str, str] = {}  # key -> the first spelling: the rules' duplicate record
    dropped: dict[str, tuple[str, str]] = {}
    shadowed: dict[str, list[tuple[str, str]]] = {}
    diagnostics: list[Diagnostic] = []
    for name, value in base.items():
        problem = inherited_name_problem(name, plat) or value_problem(value)
        if problem is None:
            problem = encoding_problem(name, plat) or encoding_problem(value, plat)
        if problem is not None:
            shown = name if isinstance(name, str) else repr(name)
            diagnostics.append(
                Diagnostic(
                    "error",
                    problem[0],
                    shown,
                    source,
                    f"inherited entry left out of the spawn map: {problem[1]}",
                    hint="fix the inherited map (no environment block can hold this entry)",
                )
            )
            dropped.setdefault(key(shown), (shown, problem[1]))
            continue
        first = rules.first_duplicate(spelling, name)  # records name when it is the first
        if first is not None:
            diagnostics.append(
                Diagnostic(
                    "warning",
                    "duplicate-name",
                    name,
                    source,
                    f"inherited {name!r} and {first!r} are one variable on Windows; "
                    f"a child sees the first, {first!r}, so {name!r} is left out",
                    hint="remove one spelling from the inherited environment",
                )
            )
            shadowed.setdefault(key(name), []).append((name, value))
            continue
        env[key(name)] = value
    return Intake(env, dict(env), spelling, dropped, shadowed, diagnostics)


class CleanBase(NamedTuple):
    """What the check of a clean base measured on the way: the output's size checks start
    from it (see :func:`_known_sizes`)."""

    #: The names joined by '=' (which no clean name holds, but Windows' leading one).
    names: str
    #: The number of characters of all the values.
    value_chars: int


def _clean_base(base: Mapping[str, str], platform: Platform) -> CleanBase | None:
    """Fast, C-level check that no entry of the base needs a look of its own (no empty
    name, no '=' or NUL in a name but Windows' leading one, no NUL in a value, only
    strings, encodable on POSIX): what it measured, or None when some entry does."""
    if "" in base or not base:
        return None
    try:
        names = "=".join(base)
        values = "".join(base.values())
    except TypeError:  # a name or value that is not a string
        return None
    if "\0" in names or "\0" in values:
        return None
    equals = names.count("=") - (len(base) - 1)  # the '=' inside names
    if equals and (
        platform != "windows"
        # Windows' hidden =C: names: one leading '=' (and something after it) is legal.
        or "=" in base
        # The names that start with '=' (C-level: no NUL in a name here, see above).
        or equals != ("\0" + "\0".join(base)).count("\0=")
    ):
        return None
    if encoding_problem(names, platform) or encoding_problem(values, platform):
        return None
    return CleanBase(names, len(values))


# -- 2. inherit policy ----------------------------------------------------------------------------


def _apply_inherit_policy(
    env: dict[str, str], spelling: dict[str, str], policy: InheritPolicy | None, plat: Platform
) -> dict[str, tuple[str, str]]:
    """Remove what ``policy`` excludes from ``env``; returns key -> (name, the rule)."""
    excluded: dict[str, tuple[str, str]] = {}
    if policy is None or policy.is_identity:
        return excluded
    for k in list(env):
        name = spelling.get(k, k)
        reason = policy.why_removed(name, plat)
        if reason is not None:
            del env[k]
            spelling.pop(k, None)
            excluded[k] = (name, reason)
    return excluded


# -- 3. fold ----------------------------------------------------------------------------------


class Step(NamedTuple):
    """One fold record of a variable. The value after it is not recorded: provenance()
    replays one variable's applied ops with :func:`~envoverlay.ops.apply_op` when asked."""

    source: Source
    op: Op
    status: Status
    #: Whether the value after this step holds a secret.
    secret: bool


#: A :class:`Step` as the fold records it: its fields in a plain tuple.
StepFields = tuple[Source, Op, Status, bool]


class PlannedOp(NamedTuple):
    """What is known about one op of a layer before the fold, whatever the base: computed
    once per layer, platform and sensitive mode (a :class:`Composer` keeps them)."""

    op: Op
    #: The op's name under the platform's name key.
    key: str
    #: Diagnostics reported whenever the policy lets the op through (a missing secret,
    #: lint warnings).
    found: tuple[Diagnostic, ...]
    #: Rejected whatever the value (a missing secret).
    refused: bool
    #: The entries a prepend/append adds (:func:`~envoverlay.ops.new_entries`).
    entries: list[str]
    #: An error that rejects the op only if it would apply (encoding, a value's size).
    error_if_applied: Diagnostic | None
    #: A ``set`` with no such error: the fold's fast path.
    settable: bool


def _protected_names(
    patterns: tuple[str, ...], ordered: list[Layer], plat: Platform
) -> ProtectedNames:
    """SPEC §1: the caller's protected names plus every name the runtime layer sets or
    unsets (an unset decides the final state as much as a set). Its path-list edits and
    defaults build on earlier values, so a runtime that prepends to PATH leaves hooks free
    to prepend a venv too."""
    runtime_names = [
        op.name
        for layer in ordered
        if layer.kind == "runtime"
        for op in layer.ops
        if op.action in ("set", "unset")
    ]
    return ProtectedNames.build(patterns, runtime_names, plat)


class _Fold:
    """The state of one fold: every variable's value by key — a :class:`PathList` while
    prepends and appends edit it, so a long list is split once and joined once — its
    spelling, which values are secret, and each variable's steps."""

    __slots__ = (
        "diagnostics", "env", "key", "limit", "lists", "measure", "platform", "secret_keys",
        "separator", "spelling", "trail",
    )  # fmt: skip

    def __init__(
        self,
        env: dict[str, str],
        spelling: dict[str, str],
        plat: Platform,
        diagnostics: list[Diagnostic],
    ) -> None:
        # The intake's map, taken over: path lists are PathList objects until the output.
        self.env: dict[str, str | PathList] = env  # type: ignore[assignment]
        self.spelling = spelling
        self.platform = plat
        self.diagnostics = diagnostics
        self.key = name_key(plat)
        self.separator = list_separator(plat)
        self.limit = variable_limit(plat)
        self.measure = _text_size(plat)
        self.secret_keys: set[str] = set()
        self.trail: dict[str, list[StepFields]] = {}
        self.lists: set[str] = set()  # keys whose value is a PathList

    def layer(self, layer: Layer, plan: tuple[PlannedOp, ...], judged: tuple[Judged, ...]) -> None:
        """Fold one layer's ops: report each one's findings, apply what may apply, record
        a step. ``judged`` holds, op by op, the policy's fate in this stack."""
        source = layer.source
        trail, secret_keys = self.trail, self.secret_keys
        env, spelling, lists = self.env, self.spelling, self.lists
        for planned, (rejected, findings) in zip(plan, judged, strict=True):
            op, k, _, _, _, _, settable = planned
            if findings:
                self.diagnostics.extend(findings)
            if rejected:
                status: Status = "rejected"
            elif settable and k not in lists:
                # The usual op, inline: a set that may apply, over a text value.
                if k not in env:
                    spelling[k] = op.name
                env[k] = op.value  # type: ignore[assignment]  # a set has a value
                if op.secret:
                    secret_keys.add(k)
                else:
                    secret_keys.discard(k)
                status = "applied"
            elif op.action in PATH_ACTIONS:
                status = self.edit_path(planned, source)
            else:
                status = self.apply_value(planned)
            steps = trail.get(k)
            if steps is None:
                steps = trail[k] = []
            # A Step's fields as a plain tuple: one per op, on the spawn path (a tuple is
            # the cheapest record to make); provenance reads it as a Step.
            steps.append((source, op, status, k in secret_keys))

    def apply_value(self, planned: PlannedOp) -> Status:
        """A set, unset or default."""
        op, k, env = planned.op, planned.key, self.env
        current = env.get(k)
        if isinstance(current, PathList):  # a list edited before: its text from now on
            current = env[k] = current.value()
            self.lists.discard(k)
        if op.action == "default" and current:
            return "skipped"
        if planned.error_if_applied is not None:
            self.diagnostics.append(planned.error_if_applied)
            return "rejected"
        if op.action == "unset":
            if env.pop(k, None) is not None:
                self.spelling.pop(k, None)
            self.secret_keys.discard(k)
            return "applied"
        assert op.value is not None
        if current is None:
            self.spelling[k] = op.name
        env[k] = op.value
        if op.secret:
            self.secret_keys.add(k)
        else:
            self.secret_keys.discard(k)
        return "applied"

    def edit_path(self, planned: PlannedOp, source: Source) -> Status:
        """A prepend or append, checked against the size limit before it is made."""
        op, k, entries = planned.op, planned.key, planned.entries
        if not entries:  # nothing to add: the value stays as it is
            if op.secret and k in self.env:
                self.secret_keys.add(k)
            return "applied"
        if planned.error_if_applied is not None:
            self.diagnostics.append(planned.error_if_applied)
            return "rejected"
        path_list = self.path_list(k, op)
        # NAME=, and on posix the terminating NUL: what the value's size adds up to.
        name_size = variable_size(self.spelling.get(k, op.name), "", self.platform)
        size = name_size + path_list.edit(op.action, entries, max_size=self.limit - name_size)
        if size > self.limit:  # not made
            self.diagnostics.append(_too_large(op.name, source, size, self.platform))
            return "rejected"
        if k not in self.env:
            self.spelling[k] = op.name
            self.env[k] = path_list
            self.lists.add(k)
        if op.secret:
            self.secret_keys.add(k)
        return "applied"

    def path_list(self, k: str, op: Op) -> PathList:
        """The value of ``k`` as a path list split by ``op``'s separator; kept in the map
        at once when the variable exists (so rejected edits never split it again)."""
        separator = op.separator if op.separator is not None else self.separator
        current = self.env.get(k)
        if isinstance(current, PathList):
            if current.separator == separator:
                return current
            current = current.value()
        path_list = PathList(current or "", separator, self.key, self.measure)
        if current is not None:
            self.env[k] = path_list
            self.lists.add(k)
        return path_list

    def spawn_map(self) -> dict[str, str]:
        """The finished map: path lists joined; on Windows spelled and sorted as a block."""
        env = self.env
        for k in self.lists:
            value = env.get(k)
            if isinstance(value, PathList):
                env[k] = value.value()
        texts: dict[str, str] = env  # type: ignore[assignment]  # every PathList is joined
        if self.platform != "windows":
            return texts
        order = windows_sorted_keys(texts)
        spelling = self.spelling
        return dict(
            zip(map(spelling.__getitem__, order), map(texts.__getitem__, order), strict=True)
        )


def _text_size(platform: Platform) -> Callable[[str], int]:
    """The size of a text in the unit ``platform`` limits (bytes, UTF-16 code units)."""
    empty = variable_size("", "", platform)

    def size(text: str) -> int:
        return len(text) if text.isascii() else variable_size("", text, platform) - empty

    return size


def _layer_plan(layer: Layer, platform: Platform) -> tuple[PlannedOp, ...]:
    """Everything about a layer's ops that depends neither on the base nor on the stack:
    missing secrets, lint warnings, encoding and constant sizes. (The policy's verdict
    depends on the stack's protected names: :meth:`Composer._stack_plan` asks the judge.)"""
    key = name_key(platform)
    limit = variable_limit(platform)
    separator = list_separator(platform)
    source = layer.source
    planned: list[PlannedOp] = []
    for op in layer.ops:
        name = op.name
        found: list[Diagnostic] = []
        refused = False
        if op.redacted:
            found.append(
                Diagnostic(
                    "error",
                    "missing-secret",
                    name,
                    source,
                    f"the secret value of {name} from {source} was not persisted, so it is "
                    "not applied",
                    hint=f"re-run {source} (hooks re-run on resume) or save the thread "
                    "with include_secrets=True",
                )
            )
            refused = True
        if not refused:
            found.extend(op_warnings(op, platform, source))
        entries = new_entries(op, key, separator) if op.action in PATH_ACTIONS else []
        late = None
        texts = [op.value] if op.value is not None else entries
        if platform == "posix" and not (name.isascii() and all(t.isascii() for t in texts)):
            problem = encoding_problem(name, platform) or next(
                (p for p in (encoding_problem(t, platform) for t in texts) if p), None
            )
            if problem is not None:
                late = Diagnostic(
                    "error", problem[0], name, source, f"rejected: {name} {problem[1]}",
                    hint="pass text without lone surrogates",
                )  # fmt: skip
        if late is None and op.value is not None:
            size = variable_size(name, op.value, platform)
            if size > limit:
                late = _too_large(name, source, size, platform)
        settable = op.action == "set" and late is None
        planned.append(PlannedOp(op, key(name), tuple(found), refused, entries, late, settable))
    return tuple(planned)


def _too_large(name: str, source: Source, size: int, platform: Platform) -> Diagnostic:
    """The error for an op that would make ``name`` ``size`` units long (the size rules'
    one wording: :meth:`~envoverlay._names.PlatformRules.variable_too_large`)."""
    problem = rules_for(platform).variable_too_large(name, size=size, origin="op")
    assert problem is not None  # only called over the limit
    return Diagnostic("error", problem.code, name, source, problem.message, hint=problem.hint)


# -- 4. output ------------------------------------------------------------------------------


class KnownSizes(NamedTuple):
    """What the output's size checks need, worked out from the clean base's measures and
    the variables the fold touched, without a pass over the whole map."""

    #: The characters of the spawn map's names and values.
    chars: int
    #: Whether some inherited variable still in the spawn map may be over the
    #: per-variable limit (then every one is measured).
    oversized_inherited: bool


def _known_sizes(
    intake: Intake,
    excluded: Mapping[str, tuple[str, str]],
    fold: _Fold,
    inherited_spelling: Mapping[str, str],
) -> KnownSizes | None:
    """The spawn map's sizes from the base's (see :class:`CleanBase`): only the variables
    an op or the inherit policy touched differ. None when the base was read entry by entry.

    An inherited variable can be over the limit only if its name and value hold more than
    :attr:`~envoverlay._names.PlatformRules.fitting_chars` characters together, so one of
    them at least ``long`` (half of that): every such value is a long run of the values
    joined by NUL (which no clean value holds), every such name one of the names joined by
    '='. When there is no long name and every long value was changed or removed by the
    fold, no inherited value left can be over the limit."""
    clean = intake.clean
    if clean is None:
        return None
    inherited, texts, spelling = intake.inherited, fold.env, fold.spelling
    base_chars = len(clean.names) - (len(inherited) - 1) + clean.value_chars
    rules = rules_for(fold.platform)
    long = (rules.fitting_chars + 1) // 2
    chars, changed_long = base_chars, 0
    touched: Iterable[str] = fold.trail.keys() | excluded.keys() if excluded else fold.trail
    for k in touched:
        before = inherited.get(k)
        after = texts.get(k)
        if before is not None:
            chars -= len(inherited_spelling.get(k, k)) + len(before)
            if len(before) >= long and after != before:
                changed_long += 1
        if after is not None:
            assert isinstance(after, str)  # spawn_map() joined every path list
            chars += len(spelling.get(k, k)) + len(after)
    oversized = base_chars > rules.fitting_chars and (
        # Windows' hidden names lose their leading '=' to the join: one character less.
        bool(long_runs(clean.names, "=", long - 1))
        or len(long_runs("\0".join(inherited.values()), "\0", long)) > changed_long
    )
    return KnownSizes(chars, oversized)


def _check_sizes(
    final: Mapping[str, str],
    inherited: Mapping[str, str],
    key: Callable[[str], str],
    platform: Platform,
    block_limit: int,
    base_source: Source,
    diagnostics: list[Diagnostic],
    known: KnownSizes | None = None,
) -> None:
    """Inherited values over the per-variable limit, and the whole block over
    ``block_limit``: reported (in the size rules' wording), never truncated. ``known``
    spares the passes over the map that it answers."""
    rules = rules_for(platform)
    if known is None or known.oversized_inherited:  # else none can be: see _known_sizes
        # Only a value this long can be over the limit, even at 4 bytes a character: C-level
        # candidates, measured exactly by the size rules.
        shortest = rules.fitting_chars - max(map(len, final), default=0)
        if max(map(len, final.values()), default=0) > shortest:
            for name, value in itertools.compress(
                final.items(), map(shortest.__lt__, map(len, final.values()))
            ):
                if inherited.get(key(name)) != value:
                    continue  # an op's value: checked (and rejected) before it was applied
                problem = rules.variable_too_large(name, value, origin="inherited")
                if problem is not None:
                    diagnostics.append(
                        Diagnostic(
                            "error",
                            problem.code,
                            name,
                            base_source,
                            problem.message,
                            hint=problem.hint,
                        )
                    )
    problem = rules.block_too_large(
        final, block_limit, chars=known.chars if known is not None else None
    )
    if problem is not None:
        diagnostics.append(
            Diagnostic("error", problem.code, None, None, problem.message, hint=problem.hint)
        )
