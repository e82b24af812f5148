"""The JSON views of results: one function per kind of object, in one place.

Theory of operation
-------------------
A *view* is what a result looks like in a JSON report (``explain``, ``check``, the drift
report) — not a serialization: views are one-way, redact secrets (``***``) and never hold
what a report must not show. The thread state *document*, which round-trips, is the
converter's (:mod:`._convert`). Each model's ``to_json()`` returns its view from here, and
the CLI builds its reports from these functions, so the shape of each object in every report
is written once:

===================  ===========================================================
object               view
===================  ===========================================================
Source               ``{"kind", "id"}``
Diagnostic           ``{"severity", "code", "name", "source", "message", "hint"?,
                     "pointer"?}``
Diagnostic (check)   ``{"path", "code", "message", "name"?, "hint"?}`` — a problem
                     of a hook output, located by its JSON pointer (SPEC §6)
Contribution         ``{"source", "op", "argument", "value", "status", "origin"?}``
Origin               ``{"file", "line"}`` — where an env file wrote the op
Provenance           ``{"value", "source", "history": [Contribution...]}``
ComposeResult        ``{"platform", "env", "variables", "removed", "diagnostics"}``
Drift                ``{"name", "change", "before", "after", "source", "reapplied"}``
EnvFileResult        ``{"file", "format", "method", "variables", "lines"}``
===================  ===========================================================

Values shown are always the redacted ones (``shown_value``); the spawn map is the only place
a secret value appears, and it is never a view. Pure functions: no I/O, nothing imported at
run time but the standard library.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .composition import ComposeResult, Contribution, Provenance
    from .diagnostics import Diagnostic
    from .envfile import EnvFileResult
    from .shell import Drift
    from .sources import Origin, Source

View = dict[str, Any]


def source_view(source: Source) -> dict[str, str]:
    """A layer's source: ``{"kind", "id"}``."""
    return {"kind": source.kind, "id": source.id}


def diagnostic_view(diagnostic: Diagnostic) -> View:
    """A diagnostic as ``explain`` and the API show it."""
    out: View = {
        "severity": diagnostic.severity,
        "code": diagnostic.code,
        "name": diagnostic.name,
        "source": source_view(diagnostic.source) if diagnostic.source else None,
        "message": diagnostic.message,
    }
    if diagnostic.hint:
        out["hint"] = diagnostic.hint
    if diagnostic.pointer is not None:
        out["pointer"] = diagnostic.pointer
    return out


def problem_view(diagnostic: Diagnostic) -> View:
    """A problem of a hook output as ``check`` reports it: located by its JSON pointer
    (``path``, ``""`` for the whole document)."""
    out: View = {
        "path": diagnostic.pointer if diagnostic.pointer is not None else "",
        "code": diagnostic.code,
        "message": diagnostic.message,
    }
    if diagnostic.name is not None:
        out["name"] = diagnostic.name
    if diagnostic.hint:
        out["hint"] = diagnostic.hint
    return out


def origin_view(origin: Origin) -> View:
    """The file and line an op was read from: ``{"file", "line"}``."""
    return {"file": origin.file, "line": origin.line}


def contribution_view(step: Contribution) -> View:
    """One step of a variable's history; its value redacted when secret; ``origin`` when an
    env file wrote the op."""
    out: View = {
        "source": source_view(step.source),
        "op": step.action,
        "argument": step.argument,
        "value": step.shown_value,
        "status": step.status,
    }
    origin = step.origin
    if origin is not None:
        out["origin"] = origin_view(origin)
    return out


def provenance_view(provenance: Provenance) -> View:
    """Where a variable's final value came from; values redacted when secret."""
    return {
        "value": provenance.shown_value,
        "source": source_view(provenance.source),
        "history": [contribution_view(step) for step in provenance.history],
    }


def compose_result_view(
    result: ComposeResult, extra_diagnostics: Iterable[Diagnostic] = ()
) -> View:
    """A composition as ``explain --format json`` shows it: the redacted spawn map, each
    variable's provenance, what was removed, and the diagnostics (``extra_diagnostics``
    — the inputs' own, such as a failed hook's — first)."""
    diagnostics = [diagnostic_view(d) for d in extra_diagnostics]
    diagnostics.extend(diagnostic_view(d) for d in result.diagnostics)
    return {
        "platform": result.platform,
        "env": result.redacted_env(),
        "variables": {name: provenance_view(p) for name, p in result.variables.items()},
        "removed": {name: provenance_view(p) for name, p in result.removed.items()},
        "diagnostics": diagnostics,
    }


def env_file_view(result: EnvFileResult) -> View:
    """What one env file published: its label, format, how it was read, its variables and the
    line of each op (check's ``env_files``)."""
    return {
        "file": result.label,
        "format": result.format,
        "method": result.method,
        "variables": list(result.names),
        "lines": list(result.lines),
    }


def drift_view(drift: Drift) -> View:
    """One variable a login profile changed (its values already redacted)."""
    return {
        "name": drift.name,
        "change": drift.change,
        "before": drift.before,
        "after": drift.after,
        "source": drift.source,
        "reapplied": drift.reapplied,
    }


__all__ = [
    "compose_result_view",
    "contribution_view",
    "diagnostic_view",
    "drift_view",
    "env_file_view",
    "origin_view",
    "problem_view",
    "provenance_view",
    "source_view",
]
