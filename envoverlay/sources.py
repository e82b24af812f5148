"""Where an op comes from: a layer's source ``{kind, id}``, the precedence of kinds, and
the file and line an op was read from (:class:`Origin`)."""

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


@attrs.frozen
class Origin:
    """The line of a file an op was read from: ``file`` names the file as its reader was told
    (a path, or the variable that named it, such as ``CLAUDE_ENV_FILE``) and ``line`` is
    1-based. Env-file readers set it on every op (SPEC §3a); ``explain`` shows it as
    ``FILE:LINE``."""

    file: str = attrs.field(converter=joined_pairs)
    line: int

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.file, str) or not self.file:
            raise ArgumentTypeError(f"an origin's file is a non-empty string, not {self.file!r}")
        if type(self.line) is not int or self.line < 1:
            raise ArgumentTypeError(f"an origin's line is an int of at least 1, not {self.line!r}")

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"

    def to_json(self) -> dict[str, object]:
        """``{"file", "line"}`` (see :mod:`.views`)."""
        from .views import origin_view

        return origin_view(self)


_new_object: Final = object.__new__
_origin_file = Origin.__dict__["file"].__set__
_origin_line = Origin.__dict__["line"].__set__


def unchecked_origin(file: str, line: int) -> Origin:
    """The :class:`Origin` that ``Origin(file, line)`` builds, without its checks: for a
    reader that checked ``file`` once and counts lines from 1 (one origin per op of a long
    env file; see :func:`~envoverlay.ops.unchecked_op`)."""
    origin = _new_object(Origin)
    _origin_file(origin, file)
    _origin_line(origin, line)
    return origin
