"""Small builders for layer stacks and lookups of findings, shared by the tests of composition
and of policy."""

from __future__ import annotations

from collections.abc import Sequence

import envoverlay as eo

LayerSpec = tuple[eo.LayerKind, str, Sequence[eo.Op]]  # (kind, id, ops)


def layer(kind: eo.LayerKind, *ops: eo.Op, lid: str | None = None) -> eo.Layer:
    """One layer of ``kind`` holding ``ops``; its id is ``lid``, or the kind."""
    return eo.Layer.from_ops(ops, kind=kind, id=lid or kind)


def build(specs: Sequence[LayerSpec]) -> list[eo.Layer]:
    """Layers from ``(kind, id, ops)`` specs, in order."""
    return [eo.Layer.from_ops(ops, kind=kind, id=lid) for kind, lid, ops in specs]


def found(result: eo.ComposeResult, code: str) -> list[eo.Diagnostic]:
    """The diagnostics of ``result`` with ``code``, in order."""
    return [d for d in result.diagnostics if d.code == code]
