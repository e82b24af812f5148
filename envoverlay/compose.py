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
   is checked — protected names (only the runtime layer may touch them), sensitive names
   (hooks and providers: warn, deny or allow), size limits — and then applied with
   :func:`~envoverlay.ops.apply_op`. A rejected op is not applied; the rest still are.
4. **Output.** POSIX keeps insertion order; Windows keeps the first spelling seen for each
   name and sorts case-insensitively, as Windows documents for environment blocks. The
   block size is checked (reported, never truncated).

Only what ops touched is recorded during the fold; the provenance objects are built when
asked for, so compose() stays cheap on the spawn path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Final, Literal

import attrs

from ._names import (
    DEFAULT_BLOCK_LIMIT,
    Platform,
    PlatformArg,
    block_size,
    encoding_problem,
    inherited_name_problem,
    name_key,
    resolve_platform,
    size_unit,
    value_problem,
    variable_limit,
    variable_size,
    windows_sorted,
)
from .diagnostics import ComposeError, Diagnostic, summarize
from .layers import Layer
from .ops import REDACTED, Op, apply_op, op_warnings
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


# A fold record: (source, op, status, value after, secret after)
_Step = tuple[Source, Op, Status, "str | None", bool]


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
        """The spawn map with every secret value replaced by ``***``."""
        key = self._key
        return {
            name: REDACTED if key(name) in self._secret_keys else value
            for name, value in self._env.items()
        }

    def is_secret(self, name: str) -> bool:
        return self._key(name) in self._secret_keys

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
        for source, op, status, value, secret in self._trail.get(key, ()):
            history.append(
                Contribution(source, op.action, op.argument(), value, status, secret, op)
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
        return Provenance(
            final_name, value, effective.source, tuple(history), key in self._secret_keys
        )

    def _final_name(self, key: str) -> str | None:
        if self.platform == "posix":
            return key if key in self._env else None
        for name in self._env:
            if self._key(name) == key:
                return name
        return None

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
        return any(
            status == "applied" and value is not None
            for _, _, status, value, _ in self._trail.get(key, ())
        )

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
    only; every name a runtime layer touches is protected too. ``sensitive`` decides what
    happens to provider and hook ops on code-injecting variables. With ``strict=True`` any
    error raises :class:`ComposeError`; otherwise errors are returned as diagnostics.
    """
    plat = resolve_platform(platform)
    if sensitive not in SENSITIVE_MODES:
        raise ValueError(f"sensitive must be 'warn', 'deny' or 'allow', not {sensitive!r}")
    ordered = _order_layers(layers, precedence)
    base_source = Source("inherited", base_id)
    key = name_key(plat)
    windows = plat == "windows"
    separator = ";" if windows else ":"
    limit = variable_limit(plat)
    diagnostics: list[Diagnostic] = []

    # 1. intake -------------------------------------------------------------------------
    env: dict[str, str] = {}  # key -> value
    spelling: dict[str, str] = {}  # key -> name as spelled (Windows only)
    inherited: dict[str, str] = {}
    dropped: dict[str, tuple[str, str]] = {}
    shadowed: dict[str, list[tuple[str, str]]] = {}  # Windows: later spellings of one name
    if windows or not _clean_posix_base(base):
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
    else:
        env = dict(base)
        inherited = dict(base)
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
    runtime_names = [op.name for layer in ordered if layer.kind == "runtime" for op in layer.ops]
    protected_patterns = tuple(protected)
    protected_names = ProtectedNames.build(protected_patterns, runtime_names, plat)
    sensitive_matcher = SensitiveMatcher.for_platform(plat) if sensitive != "allow" else None
    secret_keys: set[str] = set()
    trail: dict[str, list[_Step]] = {}
    for layer in ordered:
        source = layer.source
        kind = layer.kind
        check_sensitive = sensitive_matcher is not None and kind in ("provider", "hook")
        for op in layer.ops:
            name = op.name
            k = key(name)
            steps = trail.setdefault(k, [])
            current = env.get(k)
            was_secret = k in secret_keys
            if kind != "runtime" and k in protected_names:
                diagnostics.append(
                    Diagnostic(
                        "error",
                        "protected",
                        name,
                        source,
                        f"rejected: {name} is protected; only the runtime layer may change it",
                        hint=f"remove {name} from this {kind} layer",
                    )
                )
                steps.append((source, op, "rejected", current, was_secret))
                continue
            if check_sensitive:
                assert sensitive_matcher is not None
                reason = sensitive_matcher.reason(name)
                if reason is not None:
                    diagnostics.append(sensitive_diagnostic(name, reason, sensitive, source))
                    if sensitive == "deny":
                        steps.append((source, op, "rejected", current, was_secret))
                        continue
            if op.redacted:
                diagnostics.append(
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
                steps.append((source, op, "rejected", current, was_secret))
                continue
            diagnostics.extend(op_warnings(op, plat, source))
            if op.action == "default" and current:
                steps.append((source, op, "skipped", current, was_secret))
                continue
            new = apply_op(current, op, separator=separator, entry_key=key)
            if new is not None and not windows and not (new.isascii() and name.isascii()):
                problem = encoding_problem(name, plat) or encoding_problem(new, plat)
                if problem is not None:
                    diagnostics.append(
                        Diagnostic(
                            "error",
                            problem[0],
                            name,
                            source,
                            f"rejected: {name} {problem[1]}",
                            hint="pass text without lone surrogates",
                        )
                    )
                    steps.append((source, op, "rejected", current, was_secret))
                    continue
            if new is not None and len(new) + len(name) + 2 > limit // 4:
                size = variable_size(spelling.get(k, name), new, plat)
                if size > limit:
                    diagnostics.append(
                        Diagnostic(
                            "error",
                            "too-large",
                            name,
                            source,
                            f"rejected: {name}={{value}} would be {size} {size_unit(plat)}; "
                            f"{plat} allows at most {limit}",
                            hint="pass large data in a file and set the variable to its path",
                        )
                    )
                    steps.append((source, op, "rejected", current, was_secret))
                    continue
            if new is None:
                env.pop(k, None)
                spelling.pop(k, None)
                secret_keys.discard(k)
            else:
                if k not in env:
                    spelling[k] = name
                env[k] = new
                if op.action in ("set", "default"):
                    if op.secret:
                        secret_keys.add(k)
                    else:
                        secret_keys.discard(k)
                elif op.secret:
                    secret_keys.add(k)
            steps.append((source, op, "applied", new, k in secret_keys))

    # 4. output -------------------------------------------------------------------------
    if windows:
        final = {name: env[key(name)] for name in windows_sorted(spelling[k] for k in env)}
    else:
        final = env
    _check_sizes(final, inherited, key, plat, block_limit, base_source, diagnostics)

    result = ComposeResult(
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
    )
    if strict:
        result.raise_for_errors()
    return result


def _clean_posix_base(base: Mapping[str, str]) -> bool:
    """Fast check that a POSIX base needs no per-entry validation."""
    if "" in base:
        return False
    names = "\n".join(base) if all(type(n) is str for n in base) else None
    if names is None or "=" in names or "\0" in names:
        return False
    values = list(base.values())
    if not all(type(v) is str for v in values):
        return False
    joined = "".join(values)
    if "\0" in joined:
        return False
    return not (encoding_problem(names, "posix") or encoding_problem(joined, "posix"))


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
        for name, value in final.items():
            if len(name) + len(value) + 2 <= limit // 4:
                continue
            size = variable_size(name, value, platform)
            if size > limit and inherited.get(key(name)) == value:
                diagnostics.append(
                    Diagnostic(
                        "error",
                        "too-large",
                        name,
                        base_source,
                        f"inherited {name}={{value}} is {size} {size_unit(platform)}; "
                        f"{platform} allows at most {limit}, so spawning will fail",
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
