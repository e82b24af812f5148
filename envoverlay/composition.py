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
   is checked — protected names (only the runtime layer may change them), sensitive names
   (hooks and providers: warn, deny or allow), size limits — and then applied with
   :func:`~envoverlay.ops.apply_op`. A rejected op is not applied; the rest still are.
4. **Output.** POSIX keeps insertion order; Windows keeps the first spelling seen for each
   name and sorts case-insensitively, as Windows documents for environment blocks. The
   block size is checked (reported, never truncated).

Only what ops touched is recorded during the fold; the provenance objects are built when
asked for, so compose() stays cheap on the spawn path. And since a runtime composes the same
stack over the same base before every command, compose() remembers its last results: an
equal call returns the same immutable result without folding again.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Literal

import attrs

from ._names import (
    DEFAULT_BLOCK_LIMIT,
    Platform,
    PlatformArg,
    block_size,
    encoding_problem,
    inherited_name_problem,
    list_separator,
    name_key,
    resolve_platform,
    size_unit,
    value_problem,
    variable_limit,
    variable_size,
    windows_fold,
    windows_sorted_keys,
)
from .diagnostics import ComposeError, Diagnostic, summarize
from .layers import Layer
from .ops import REDACTED, Op, PathList, apply_op, new_entries, op_warnings
from .policy import (
    SENSITIVE_MODES,
    InheritPolicy,
    ProtectedNames,
    SensitiveMatcher,
    SensitiveMode,
    sensitive_diagnostic,
)
from .sources import DEFAULT_PRECEDENCE, LayerKind, Source

Status = Literal["applied", "skipped", "rejected"]
POLICY_SOURCE: Final = Source("config", "inherit-policy")
# What an inherited value over the per-variable limit does to a child.
_OVERSIZE_EFFECT: Final[dict[Platform, str]] = {
    "posix": "execve() will fail with E2BIG",
    "windows": "CreateProcessW passes it, but GetEnvironmentVariableW in the child may not "
    "read it whole (Wine returns it cut)",
}


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

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source.to_json(),
            "op": self.action,
            "argument": self.argument,
            "value": self.shown_value,
            "status": self.status,
        }

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
    def overridden(self) -> str | None:
        """The value the effective contribution replaced (redacted if secret), if any."""
        applied = [step for step in self.history if step.status == "applied"]
        return applied[-2].shown_value if len(applied) >= 2 else None

    def to_json(self) -> dict[str, object]:
        return {
            "value": self.shown_value,
            "source": self.source.to_json(),
            "history": [step.to_json() for step in self.history],
        }

    def __repr__(self) -> str:
        return f"Provenance({self.name!r}, {self.shown_value!r}, source={self.source})"


# A fold record: (source, op, status, secret after). The value after each step is not
# recorded: provenance() replays one variable's applied ops with apply_op when asked.
_Step = tuple[Source, Op, Status, bool]


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
    _trail: dict[str, list[_Step]] = attrs.field(alias="trail")
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
        for source, op, status, secret in self._trail.get(key, ()):
            if status == "applied":
                value = apply_op(value, op, separator=self._separator, entry_key=self._key)
            argument = op.argument()
            if named_secret and argument is not None:
                argument = [REDACTED] * len(argument) if isinstance(argument, list) else REDACTED
            history.append(
                Contribution(source, op.action, argument, value, status, secret or named_secret, op)
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
        return trail[-1][1].name if trail else key

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
    module docs). ``protected`` names (exact or globs) may be changed by the runtime layer
    only; every name a runtime layer sets or unsets is protected too. ``sensitive`` decides what
    happens to provider and hook ops on code-injecting variables. With ``strict=True`` any
    error raises :class:`ComposeError`; otherwise errors are returned as diagnostics.

    The same call again — equal base, the same layers and options — returns the same
    (immutable) result without folding again; see :func:`clear_compose_cache`.
    """
    plat = resolve_platform(platform)
    if sensitive not in SENSITIVE_MODES:
        raise ValueError(f"sensitive must be 'warn', 'deny' or 'allow', not {sensitive!r}")
    stack = tuple(layers)
    protected_patterns = tuple(protected)
    order = tuple(precedence) if precedence is not None else None
    key = (stack, plat, protected_patterns, sensitive, policy, base_id, order, block_limit)
    result = _recall(key, base)
    if result is None:
        if not isinstance(base, Mapping):
            raise TypeError(f"base must be a mapping of names to values, not {type(base).__name__}")
        # One snapshot, read once: what is folded is exactly what is remembered, even if
        # another thread changes the caller's map (os.environ) meanwhile.
        snapshot = dict(base)
        result = _fold(
            snapshot, stack, plat, protected_patterns, sensitive, policy, base_id, order,
            block_limit,
        )  # fmt: skip
        _remember(key, snapshot, result)
    if strict:
        result.raise_for_errors()
    return result


# -- recent results ---------------------------------------------------------------------------
# An agent composes the same stack over the same inherited map before every command it
# spawns. A ComposeResult is immutable (``env`` hands out a new dict each time), so an equal
# call may be answered with the result of the last one. The key is every input but the base;
# the base is compared by value and order with the snapshot that was folded, so mutating the
# caller's dict afterwards can never make a stale result come back. Only strings take part:
# equality says nothing about other types (UserString("x") == "x", 1 == True), which the
# fold must see to report them. The last _RECENT_SIZE stacks are kept, least recently used
# first out; clear_compose_cache() forgets them (and their secrets).

_RECENT: dict[object, tuple[list[str], list[str], ComposeResult]] = {}  # names, values
_RECENT_SIZE: Final = 32


def _only_text(env: Mapping[Any, object]) -> bool:
    return {str} >= set(map(type, env.values())) and {str} >= set(map(type, env))


def _recall(key: object, base: Mapping[str, str]) -> ComposeResult | None:
    """The remembered result of an equal call: the same names and values in the same order
    (order decides which spelling a Windows child sees, and the posix output order)."""
    try:
        recent = _RECENT.get(key)
        if recent is None:
            return None
        names, values, result = recent
        given = list(base)
        if given != names:
            return None
        given_values = list(base.values())
        if given_values != values:
            return None
        "".join(given)  # TypeError for a name or value that is not a str (UserString, ...)
        "".join(given_values)
        _RECENT[key] = _RECENT.pop(key)  # most recently used
    except Exception:  # unhashable arguments (compose reports them), a raising __eq__, ...
        return None
    return result


def _remember(key: object, snapshot: dict[str, str], result: ComposeResult) -> None:
    try:
        hash(key)
    except TypeError:
        return
    if not _only_text(snapshot):
        return
    _RECENT.pop(key, None)
    while len(_RECENT) >= _RECENT_SIZE:
        with contextlib.suppress(KeyError, RuntimeError, StopIteration):  # another thread
            del _RECENT[next(iter(_RECENT))]  # the least recently used stack
    _RECENT[key] = (list(snapshot), list(snapshot.values()), result)


def clear_compose_cache() -> None:
    """Forget every remembered result and per-layer analysis: the next call of each stack
    folds from scratch, and no secret value is held by envoverlay any more (call it when a
    thread ends, if its secrets must not outlive it in this process)."""
    _RECENT.clear()
    _layer_plan.cache_clear()


def _fold(
    base: Mapping[str, str],
    stack: tuple[Layer, ...],
    plat: Platform,
    protected_patterns: tuple[str, ...],
    sensitive: SensitiveMode,
    policy: InheritPolicy | None,
    base_id: str,
    precedence: tuple[LayerKind, ...] | None,
    block_limit: int,
) -> ComposeResult:
    """compose() itself: intake, inherit policy, fold, output (see the module docs)."""
    ordered = _order_layers(stack, precedence)
    base_source = Source("inherited", base_id)
    key = name_key(plat)
    windows = plat == "windows"
    separator = list_separator(plat)
    limit = variable_limit(plat)
    diagnostics: list[Diagnostic] = []

    # 1. intake -------------------------------------------------------------------------
    env: dict[str, str] = {}  # key -> value
    spelling: dict[str, str] = {}  # key -> name as spelled (Windows only)
    inherited: dict[str, str] = {}
    dropped: dict[str, tuple[str, str]] = {}
    shadowed: dict[str, list[tuple[str, str]]] = {}  # Windows: later spellings of one name
    clean = _clean_base(base, plat)
    folded = _fold_unique(base, clean) if clean and windows else None
    if clean and not windows:
        env = dict(base)
        inherited = dict(base)
    elif folded is not None:
        env, spelling = folded
        inherited = dict(env)
    else:  # the careful path: look at every entry
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
                        base_source,
                        f"inherited entry left out of the spawn map: {problem[1]}",
                        hint="fix the inherited map (no environment block can hold this entry)",
                    )
                )
                dropped.setdefault(key(shown), (shown, problem[1]))
                continue
            k = key(name)
            if k in env:
                diagnostics.append(
                    Diagnostic(
                        "warning",
                        "duplicate-name",
                        name,
                        base_source,
                        f"inherited {name!r} and {spelling[k]!r} are one variable on Windows; "
                        f"a child sees the first, {spelling[k]!r}, so {name!r} is left out",
                        hint="remove one spelling from the inherited environment",
                    )
                )
                shadowed.setdefault(k, []).append((name, value))
                continue
            env[k] = value
            spelling[k] = name
        inherited = dict(env)
    inherited_spelling = dict(spelling)

    # 2. inherit policy -----------------------------------------------------------------
    excluded: dict[str, tuple[str, str]] = {}
    if policy is not None and not policy.is_identity:
        for k in list(env):
            name = spelling.get(k, k)
            reason = policy.why_removed(name, plat)
            if reason is not None:
                del env[k]
                spelling.pop(k, None)
                excluded[k] = (name, reason)

    # 3. fold ---------------------------------------------------------------------------
    # SPEC §1: the names the runtime layer sets are its own (an unset decides the final
    # state as much as a set). Its path-list edits and defaults build on earlier values, so
    # a runtime that prepends to PATH leaves hooks free to prepend a venv too.
    runtime_names = [
        op.name
        for layer in ordered
        if layer.kind == "runtime"
        for op in layer.ops
        if op.action in ("set", "unset")
    ]
    protected_names = ProtectedNames.build(protected_patterns, runtime_names, plat)
    secret_keys: set[str] = set()
    trail: dict[str, list[_Step]] = {}
    paths: dict[str, PathList] = {}  # variables whose value is being edited as a path list
    for layer in ordered:
        source = layer.source
        runtime = layer.kind == "runtime"
        for step in _layer_plan(layer, plat, sensitive):
            op, k, found, rejected, entries, late = step
            name = op.name
            steps = trail.get(k)
            if steps is None:
                steps = trail[k] = []
            was_secret = k in secret_keys
            if not runtime and k in protected_names:
                diagnostics.append(
                    Diagnostic(
                        "error",
                        "protected",
                        name,
                        source,
                        f"rejected: {name} is protected; only the runtime layer may change it",
                        hint=f"remove {name} from this {layer.kind} layer",
                    )
                )
                steps.append((source, op, "rejected", was_secret))
                continue
            if found:
                diagnostics.extend(found)
            if rejected:
                steps.append((source, op, "rejected", was_secret))
                continue
            action = op.action
            if action in {"prepend", "append"}:
                if not entries:  # nothing to add: the value stays as it is
                    if op.secret and (k in env or k in paths):
                        secret_keys.add(k)
                    steps.append((source, op, "applied", k in secret_keys))
                    continue
                if late is not None:
                    diagnostics.append(late)
                    steps.append((source, op, "rejected", was_secret))
                    continue
                path_list = paths.get(k)
                sep = op.separator if op.separator is not None else separator
                if path_list is None or path_list.separator != sep:
                    text = path_list.value() if path_list is not None else env.get(k)
                    path_list = PathList(text or "", sep, key)
                grown = len(path_list) + sum(map(len, entries)) + len(sep) * len(entries)
                if grown + len(name) + 2 > limit // 4:  # maybe near the limit: measure
                    spelled = spelling.get(k, name)
                    if path_list.ascii and spelled.isascii() and all(map(str.isascii, entries)):
                        size = (
                            path_list.length_after(entries) + len(spelled) + (1 if windows else 2)
                        )
                    else:
                        current = path_list.value() if len(path_list) or k in env else None
                        prospective = apply_op(current, op, separator=separator, entry_key=key)
                        assert prospective is not None
                        size = variable_size(spelled, prospective, plat)
                    if size > limit:
                        diagnostics.append(_too_large(name, source, size, plat, limit))
                        steps.append((source, op, "rejected", was_secret))
                        continue
                path_list.edit(action, entries)
                paths[k] = path_list
                if k not in env:
                    spelling[k] = name
                    env[k] = ""  # a placeholder that keeps the insertion order
                if op.secret:
                    secret_keys.add(k)
                steps.append((source, op, "applied", k in secret_keys))
                continue
            if k in paths:
                env[k] = paths.pop(k).value()
            if action == "default" and env.get(k):
                steps.append((source, op, "skipped", was_secret))
                continue
            if late is not None:
                diagnostics.append(late)
                steps.append((source, op, "rejected", was_secret))
                continue
            if action == "unset":
                if env.pop(k, None) is not None:
                    spelling.pop(k, None)
                secret_keys.discard(k)
                steps.append((source, op, "applied", False))
                continue
            assert op.value is not None
            if k not in env:
                spelling[k] = name
            env[k] = op.value
            if op.secret:
                secret_keys.add(k)
            else:
                secret_keys.discard(k)
            steps.append((source, op, "applied", op.secret))
    for k, path_list in paths.items():
        env[k] = path_list.value()

    # 4. output -------------------------------------------------------------------------
    if windows:
        order = windows_sorted_keys(env)
        names, values = map(spelling.__getitem__, order), map(env.__getitem__, order)
        final = dict(zip(names, values, strict=True))
    else:
        final = env
    _check_sizes(final, inherited, key, plat, block_limit, base_source, diagnostics)

    return ComposeResult(
        plat,
        tuple(diagnostics),
        base_source,
        protected_patterns,
        env_map=final,
        secret_keys=frozenset(secret_keys),
        key=key,
        inherited=inherited,
        inherited_spelling=inherited_spelling,
        excluded=excluded,
        trail=trail,
        dropped=dropped,
        shadowed=shadowed,
        separator=separator,
    )


# A planned op: (op, name key, diagnostics found before applying it, rejected outright,
# the entries a path op adds, an error that rejects it only if it would apply).
_Planned = tuple[Op, str, tuple[Diagnostic, ...], bool, list[str], "Diagnostic | None"]


@functools.lru_cache(maxsize=4096)
def _layer_plan(layer: Layer, platform: Platform, sensitive: SensitiveMode) -> tuple[_Planned, ...]:
    """Everything about a layer's ops that does not depend on the base or on the protected
    names: sensitive names, missing secrets, lint warnings, encoding and constant sizes.
    Computed once per (layer, platform, mode); layers are immutable."""
    key = name_key(platform)
    check_sensitive = sensitive != "allow" and layer.kind in ("provider", "hook")
    matcher = SensitiveMatcher.for_platform(platform) if check_sensitive else None
    limit = variable_limit(platform)
    source = layer.source
    planned: list[_Planned] = []
    for op in layer.ops:
        name = op.name
        found: list[Diagnostic] = []
        rejected = False
        reason = matcher.reason(name) if matcher is not None else None
        if reason is not None:
            found.append(sensitive_diagnostic(name, reason, sensitive, source))
            rejected = sensitive == "deny"
        if not rejected and op.redacted:
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
            rejected = True
        if not rejected:
            found.extend(op_warnings(op, platform, source))
        entries = new_entries(op, key) if op.action in ("prepend", "append") else []
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
                late = _too_large(name, source, size, platform, limit)
        planned.append((op, key(name), tuple(found), rejected, entries, late))
    return tuple(planned)


def _too_large(name: str, source: Source, size: int, platform: Platform, limit: int) -> Diagnostic:
    return Diagnostic(
        "error", "too-large", name, source,
        f"rejected: {name}={{value}} would be {size} {size_unit(platform)}; "
        f"{platform} allows at most {limit}",
        hint="pass large data in a file and set the variable to its path",
    )  # fmt: skip


def _fold_unique(
    base: Mapping[str, str], clean: Literal["ascii", True]
) -> tuple[dict[str, str], dict[str, str]] | None:
    """Windows: ``(key -> value, key -> spelling)`` of a clean base with no two names that
    Windows treats as one, or None (duplicates take the careful path, which reports them)."""
    names = list(base)
    folded = list(map(str.upper if clean == "ascii" else windows_fold, names))
    if len(set(folded)) != len(names):
        return None
    return dict(zip(folded, base.values(), strict=True)), dict(zip(folded, names, strict=True))


def _clean_base(base: Mapping[str, str], platform: Platform) -> Literal["ascii", True, False]:
    """Fast, C-level check that no entry of the base needs per-entry validation (no empty
    name, no '=' or NUL in a name but Windows' leading one, no NUL in a value, only strings,
    encodable on POSIX).
    ``"ascii"`` when every name is ASCII, False when some entry must be looked at."""
    if "" in base:
        return False
    try:
        names = "\n".join(base)
        values = "".join(base.values())
    except TypeError:  # a name or value that is not a string
        return False
    if "\0" in names or "\0" in values:
        return False
    equals = names.count("=")
    if equals and (
        platform != "windows"
        # Windows' hidden =C: names: one leading '=' (and something after it) is legal.
        or "=" in base
        or equals != sum(map(str.startswith, base, itertools.repeat("=")))
    ):
        return False
    if encoding_problem(names, platform) or encoding_problem(values, platform):
        return False
    return "ascii" if names.isascii() else True


def _check_sizes(
    final: Mapping[str, str],
    inherited: Mapping[str, str],
    key: Callable[[str], str],
    platform: Platform,
    block_limit: int,
    base_source: Source,
    diagnostics: list[Diagnostic],
) -> None:
    limit = variable_limit(platform)
    longest_name = max(map(len, final), default=0)
    longest_value = max(map(len, final.values()), default=0)
    if longest_name + longest_value + 2 > limit // 4:
        # Some entry may be over the limit: measure the long ones exactly.
        # Candidates by value length alone (C-level), measured exactly below.
        shortest = limit // 4 - 2 - longest_name
        long_ones = itertools.compress(
            final.items(), map(shortest.__lt__, map(len, final.values()))
        )
        for name, value in long_ones:
            size = variable_size(name, value, platform)
            if size > limit and inherited.get(key(name)) == value:
                diagnostics.append(
                    Diagnostic(
                        "error",
                        "too-large",
                        name,
                        base_source,
                        f"inherited {name}={{value}} is {size} {size_unit(platform)}; "
                        f"{platform} allows at most {limit}: {_OVERSIZE_EFFECT[platform]}",
                        hint="shorten the variable in the launching environment",
                    )
                )
    chars = sum(map(len, final)) + sum(map(len, final.values())) + 2 * len(final)
    if chars * 4 + len(final) * 8 + 2 > block_limit:
        total = block_size(final.items(), platform)
        if total > block_limit:
            diagnostics.append(
                Diagnostic(
                    "error",
                    "block-too-large",
                    None,
                    None,
                    f"the environment block is {total} bytes, over the limit of {block_limit} "
                    f"bytes; nothing was truncated",
                    hint="remove large variables, or raise block_limit if the target allows it",
                )
            )


def _order_layers(layers: Iterable[Layer], precedence: Iterable[LayerKind] | None) -> list[Layer]:
    order = tuple(precedence) if precedence is not None else DEFAULT_PRECEDENCE
    if sorted(order) != sorted(DEFAULT_PRECEDENCE):
        raise ValueError(
            "precedence must list each of config, provider, hook and thread exactly once "
            f"(runtime is always last), not {list(order)!r}"
        )
    rank = {kind: index for index, kind in enumerate((*order, "runtime"))}
    layer_list = list(layers)
    for layer in layer_list:
        if not isinstance(layer, Layer):
            raise TypeError(f"layers must be Layer objects, not {type(layer).__name__}")
    return sorted(layer_list, key=lambda layer: rank[layer.kind])
