"""Where an op comes from: a layer's source ``{kind, id}`` and the precedence of kinds."""

from __future__ import annotations

from typing import Final, Literal

import attrs

from ._names import joined_pairs
from .errors import ArgumentError, ArgumentTypeError

LayerKind = Literal["inherited", "config", "provider", "hook", "thread", "runtime"]

#: The layer kinds from lowest to highest precedence (SPEC §1). ``inherited`` is the base
#: map; ``runtime`` is always applied last.
KINDS: Final[tuple[LayerKind, ...]] = (
    "inherited",
    "config",
    "provider",
    "hook",
    "thread",
    "runtime",
)

#: The default order in which the kinds between the base and the runtime layer apply.
DEFAULT_PRECEDENCE: Final[tuple[LayerKind, ...]] = ("config", "provider", "hook", "thread")


def _check_kind(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str):
        raise ArgumentTypeError(f"a layer kind is a string, not {type(value).__name__}")
    if value not in KINDS:
        raise ArgumentError(f"layer kind must be one of {', '.join(KINDS)}, not {value!r}")


def _check_id(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str):
        raise ArgumentTypeError(f"a layer id is a non-empty string, not {type(value).__name__}")
    if not value:
        raise ArgumentError("a layer id is a non-empty string, not ''")


@attrs.frozen(order=False, cache_hash=True)
class Source:
    """The origin of a layer: its ``kind`` (one of :data:`KINDS`) and an ``id`` such as
    ``launcher``, ``remote:buildbox``, ``direnv:/repo`` or a hook's name."""

    kind: LayerKind = attrs.field(validator=_check_kind)
    id: str = attrs.field(converter=joined_pairs, validator=_check_id)

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"

    def to_json(self) -> dict[str, str]:
        """``{"kind", "id"}`` (see :mod:`.views`)."""
        from .views import source_view

        return source_view(self)
