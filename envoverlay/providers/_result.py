"""What a provider produced."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

import attrs

from .._jsonio import InputError, load_json, read_file
from ..diagnostics import Diagnostic, Findings, OverlayError
from ..layers import Layer
from ..ops import Op
from ..sources import Source

#: How long a provider's tool (direnv, mise) may run before its process group is killed.
DEFAULT_TIMEOUT: Final = 30.0


@attrs.frozen(repr=False)
class ProviderResult(Findings):
    """A provider's layer (None when it failed) and its diagnostics."""

    kind: str
    argument: str
    layer: Layer | None
    errors: tuple[Diagnostic, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()

    def __repr__(self) -> str:
        return f"ProviderResult({self.kind}={self.argument!r}, ok={self.ok}, layer={self.layer!r})"


def source_id(kind: str, argument: str) -> str:
    """``kind:path`` — the layer id of a provider, its path as given (as a hook's id is), so
    that ``explain`` shows what the user typed."""
    return f"{kind}:{argument}"


def success(
    kind: str, argument: str, ops: Iterable[Op], warnings: Iterable[Diagnostic] = ()
) -> ProviderResult:
    layer = Layer.from_ops(ops, kind="provider", id=source_id(kind, argument))
    found = tuple(attrs.evolve(w, source=w.source or layer.source) for w in warnings)
    return ProviderResult(kind, argument, layer, (), found)


def failure(kind: str, argument: str, *errors: Diagnostic) -> ProviderResult:
    source = Source("provider", source_id(kind, argument)) if argument else None
    return ProviderResult(
        kind, argument, None, tuple(attrs.evolve(e, source=e.source or source) for e in errors)
    )


def problem(code: str, message: str, hint: str, name: str | None = None) -> Diagnostic:
    return Diagnostic("error", code, name, None, message, hint=hint)


def read_text(kind: str, path: str) -> tuple[str | None, Diagnostic | None]:
    """A provider input file's text, or the error that says why it could not be read."""
    try:
        data = read_file(path, f"{kind}:")
    except InputError as exc:
        return None, problem("provider-failed", str(exc), "check the path and its permissions")
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, problem(
            "provider-failed", f"{kind}: {path!r} is not UTF-8 (byte {exc.start})", "fix the file"
        )


def read_json(kind: str, path: str) -> tuple[object, Diagnostic | None]:
    text, error = read_text(kind, path)
    if text is None:
        return None, error
    document, problems = load_json(text, what=f"{kind} document {path!r}")
    if problems:
        first = problems[0]
        return None, attrs.evolve(first, code="provider-failed")
    return document, None


def from_json_document(
    kind: str, path: str, make_ops: Callable[[object], list[Op]], hint: str
) -> ProviderResult:
    """A provider layer from a JSON document file: ``make_ops`` turns the document into ops
    and raises ValueError (an OverlayError for a bad name) for a document of another shape."""
    document, error = read_json(kind, path)
    if error is not None:
        return failure(kind, path, error)
    try:
        ops = make_ops(document)
    except OverlayError as exc:
        return failure(kind, path, *exc.diagnostics)
    except ValueError as exc:
        return failure(kind, path, problem("provider-failed", f"{kind}: {path!r}: {exc}", hint))
    return success(kind, path, ops)
