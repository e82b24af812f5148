"""Layers: ordered ops with a source and lifecycle attributes, and the overlay parser.

:func:`parse_overlay` is the one reader of the env overlay JSON format (SPEC §3). It never
raises: it returns the ops and every problem found, each with its JSON pointer.
:meth:`Layer.from_overlay` raises :class:`~envoverlay.OverlayError` when there is any
problem (an overlay is atomic: all of it or none of it), and hook parsing reports them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Final, Literal

import attrs

from ._jsonio import escape_pointer
from ._names import (
    Platform,
    PlatformArg,
    json_text_problem,
    name_problem,
    resolve_platform,
    rules_for,
    value_problem,
)
from .diagnostics import Diagnostic, OverlayError, summarize
from .errors import ArgumentError, ArgumentTypeError
from .ops import Op
from .sources import KINDS, LayerKind, Source

Lifetime = Literal["thread", "session"]
LIFETIMES: Final = ("thread", "session")

_OP_KEYS: Final = ("set", "default", "unset", "prepend", "append", "separator", "secret")
_OP_FORMS: Final = (
    'an op object holds exactly one of {"set": str}, {"default": str}, {"unset": true}, '
    'or "prepend" and/or "append" (a string or a list of strings) with an optional '
    '"separator"; any of them but unset may add "secret": true'
)


def _check_lifetime(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in LIFETIMES:
        raise ArgumentError(f"lifetime must be 'thread' or 'session', not {value!r}")


def _check_inherit(instance: object, attribute: attrs.Attribute[bool], value: bool) -> None:
    if not isinstance(value, bool):
        raise ArgumentTypeError(f"inherit must be True or False, not {type(value).__name__}")


def _check_source(instance: object, attribute: attrs.Attribute[Source], value: Source) -> None:
    if not isinstance(value, Source):
        raise ArgumentTypeError(f"source must be a Source, not {type(value).__name__}")
    if value.kind == "inherited":
        raise ArgumentError(
            "a layer cannot be of kind 'inherited': the inherited map is the `base` passed "
            "to compose()"
        )


def _check_ops(
    instance: object, attribute: attrs.Attribute[tuple[Op, ...]], value: tuple[Op, ...]
) -> None:
    for op in value:
        if not isinstance(op, Op):
            raise ArgumentTypeError(f"a layer's ops must be Op objects, not {type(op).__name__}")


def _op_tuple(ops: Iterable[Op]) -> tuple[Op, ...]:
    return tuple(ops)


@attrs.frozen(repr=False, cache_hash=True)
class Layer:
    """An ordered unit of ops with a source ``{kind, id}``.

    ``lifetime`` (``thread`` | ``session``) and ``inherit`` (whether subagents get it) are
    read by the lifecycle; composition only uses the source and the ops.
    """

    source: Source = attrs.field(validator=_check_source)
    ops: tuple[Op, ...] = attrs.field(converter=_op_tuple, validator=_check_ops)
    lifetime: Lifetime = attrs.field(default="thread", validator=_check_lifetime)
    inherit: bool = attrs.field(default=True, validator=_check_inherit)

    @property
    def kind(self) -> LayerKind:
        return self.source.kind

    @property
    def id(self) -> str:
        return self.source.id

    @classmethod
    def from_ops(
        cls,
        ops: Iterable[Op],
        *,
        kind: LayerKind,
        id: str,
        lifetime: Lifetime = "thread",
        inherit: bool = True,
    ) -> Layer:
        """A layer from ops built in Python."""
        return cls(Source(kind, id), tuple(ops), lifetime, inherit)

    @classmethod
    def from_overlay(
        cls,
        overlay: object,
        *,
        kind: LayerKind,
        id: str,
        lifetime: Lifetime = "thread",
        inherit: bool = True,
        platform: PlatformArg = "auto",
    ) -> Layer:
        """A layer from an env overlay (SPEC §3). Raises :class:`OverlayError`, listing every
        problem with its JSON pointer, if the overlay is malformed in any way."""
        source = Source(kind, id)
        ops, problems = parse_overlay(overlay, platform=resolve_platform(platform), source=source)
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            raise OverlayError(
                summarize(
                    f"overlay for layer {source} is malformed; nothing of it applies:", errors
                ),
                errors,
            )
        return cls(source, tuple(ops), lifetime, inherit)

    def to_overlay(self, *, redact: bool = True) -> dict[str, object]:
        """The layer in the overlay format, when each variable has one op (a prepend and an
        append of one variable merge into one op object)."""
        out: dict[str, object] = {}
        for op in self.ops:
            value = op.to_overlay(redact=redact)
            if op.name in out:
                previous = out[op.name]
                if (
                    op.action == "append"
                    and isinstance(previous, dict)
                    and isinstance(value, dict)
                    and set(previous) & {"prepend"}
                    and "append" not in previous
                    and previous.get("separator") == value.get("separator")
                    and previous.get("secret") == value.get("secret")
                ):
                    previous["append"] = value["append"]
                    continue
                raise ArgumentError(
                    f"layer {self.source} has several ops on {op.name}; the overlay format "
                    "holds one op per variable"
                )
            out[op.name] = value
        return out

    def __repr__(self) -> str:
        ops = ", ".join(repr(op) for op in self.ops)
        return f"Layer({self.source}, [{ops}], lifetime={self.lifetime!r}, inherit={self.inherit})"


def parse_overlay(
    overlay: object,
    *,
    platform: Platform,
    source: Source | None = None,
    pointer: str = "",
) -> tuple[list[Op], list[Diagnostic]]:
    """Read an env overlay: the ops, and every problem with its JSON pointer (under
    ``pointer``). Never raises. Ops are returned only when there are no errors."""
    problems: list[Diagnostic] = []

    def error(code: str, name: str | None, at: str, message: str, hint: str) -> None:
        problems.append(Diagnostic("error", code, name, source, message, hint=hint, pointer=at))

    if not isinstance(overlay, Mapping):
        error(
            "invalid-overlay",
            None,
            pointer,
            "an env overlay must be a JSON object of variable name to op, "
            f"not {_json_type(overlay)}",
            'write {"NAME": "value", "OTHER": null, "PATH": {"prepend": ["/dir"]}}',
        )
        return [], problems

    ops: list[Op] = []
    rules = rules_for(platform)
    spellings: dict[str, str] = {}  # name key -> first spelling
    for name, spec in overlay.items():
        at = f"{pointer}/{escape_pointer(str(name))}"
        problem = name_problem(name)
        if problem is None and isinstance(name, str):
            problem = json_text_problem(name, platform)
        if problem is not None:
            error(problem[0], str(name), at, problem[1], "rename the variable")
            continue
        assert isinstance(name, str)
        first = rules.first_duplicate(spellings, name)
        if first is not None:  # only on Windows: a JSON object's keys are distinct
            error(
                "case-conflict",
                name,
                at,
                f"{first!r} and {name!r} are one variable on Windows",
                "keep one spelling of the variable in this overlay",
            )
            continue
        new_ops = _parse_op(name, spec, at, source, problems)
        for op in new_ops:
            texts = [op.value] if op.value is not None else list(op.entries)
            bad = next((p for p in (json_text_problem(t, platform) for t in texts) if p), None)
            if bad is not None:
                error(bad[0], name, at, f"{name}: {bad[1]}", "pass text without lone surrogates")
                break
            # A path op's entries alone must fit (the list it edits may add to them).
            text = op.value if op.value is not None else (op.separator or ";").join(op.entries)
            too_large = rules.variable_too_large(name, text, origin="overlay")
            if too_large is not None:
                error(too_large.code, name, at, too_large.message, too_large.hint)
                break
        else:
            ops.extend(new_ops)
    if any(p.severity == "error" for p in problems):
        return [], problems
    return ops, problems


def _parse_op(
    name: str, spec: object, at: str, source: Source | None, problems: list[Diagnostic]
) -> list[Op]:
    def error(code: str, where: str, message: str, hint: str = _OP_FORMS) -> list[Op]:
        problems.append(Diagnostic("error", code, name, source, message, hint=hint, pointer=where))
        return []

    if spec is None:
        return [Op.unset(name)]
    if isinstance(spec, str):
        problem = value_problem(spec)
        if problem is not None:
            return error(problem[0], at, problem[1], "remove the NUL character")
        return [Op.set(name, spec)]
    if not isinstance(spec, Mapping):
        scalar = isinstance(spec, (bool, int)) or (isinstance(spec, float) and math.isfinite(spec))
        return error(
            "invalid-op",
            at,
            f"{name}: {_json_type(spec)} is not an op; "
            "use a string (set), null (unset) or an op object",
            # A number is the common slip: say the one fix, not the whole op grammar.
            f"values are strings: {json.dumps(json.dumps(spec))}"
            if scalar
            else "values are strings: write the number in quotes"
            if isinstance(spec, float)
            else _OP_FORMS,
        )
    unknown = [k for k in spec if k not in _OP_KEYS]
    if unknown:
        key = str(unknown[0])
        return error("invalid-op", f"{at}/{escape_pointer(key)}", f"{name}: unknown op key {key!r}")
    actions = [k for k in ("set", "default", "unset") if k in spec]
    path = [k for k in ("prepend", "append") if k in spec]
    if len(actions) + (1 if path else 0) != 1:
        found = ", ".join(actions + path) or "no action"
        return error(
            "invalid-op", at, f"{name}: an op object needs exactly one action, found {found}"
        )
    secret = spec.get("secret", False)
    if not isinstance(secret, bool):
        return error("invalid-op", f"{at}/secret", f"{name}: secret must be true or false")
    if actions:
        action = actions[0]
        if "separator" in spec:
            return error(
                "invalid-op", f"{at}/separator", f"{name}: separator belongs to prepend/append ops"
            )
        value = spec[action]
        where = f"{at}/{action}"
        if action == "unset":
            if value is not True:
                return error("invalid-op", where, f'{name}: "unset" must be true')
            if "secret" in spec:
                return error(
                    "invalid-op", f"{at}/secret", f"{name}: an unset op has no secret flag"
                )
            return [Op.unset(name)]
        if not isinstance(value, str):
            return error(
                "invalid-op", where, f"{name}: {action} takes a string, not {_json_type(value)}"
            )
        problem = value_problem(value)
        if problem is not None:
            return error(problem[0], where, f"{name}: {problem[1]}", "remove the NUL character")
        if action == "set":
            return [Op.set(name, value, secret=secret)]
        return [Op.default(name, value, secret=secret)]
    separator = spec.get("separator")
    if separator is not None and (
        not isinstance(separator, str) or not separator or "\0" in separator
    ):
        return error(
            "invalid-op", f"{at}/separator", f"{name}: separator must be a non-empty string"
        )
    ops = []
    for action in path:
        raw = spec[action]
        where = f"{at}/{action}"
        entries = [raw] if isinstance(raw, str) else raw
        if not isinstance(entries, list) or not entries:
            return error(
                "invalid-op",
                where,
                f"{name}: {action} takes a string or a non-empty list of strings",
            )
        for index, entry in enumerate(entries):
            entry_at = where if isinstance(raw, str) else f"{where}/{index}"
            if not isinstance(entry, str):
                return error(
                    "invalid-op",
                    entry_at,
                    f"{name}: a path entry must be a string, not {_json_type(entry)}",
                )
            problem = value_problem(entry)
            if problem is not None:
                return error(
                    problem[0], entry_at, f"{name}: {problem[1]}", "remove the NUL character"
                )
        op_class = Op.prepend if action == "prepend" else Op.append
        ops.append(op_class(name, entries, separator=separator, secret=secret))
    return ops


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "an array"
    return f"a {type(value).__name__}"


__all__ = ["KINDS", "LIFETIMES", "Layer", "Lifetime", "parse_overlay"]
