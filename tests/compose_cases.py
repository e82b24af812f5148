"""What the table-driven composition tests share: op shorthands, layer builders, the size
limits of SPEC §2 and non-ASCII names written as escapes (so that what each case compares is
unambiguous)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import envoverlay as eo

#: Linux MAX_ARG_STRLEN: bytes of one ``NAME=value`` string *with* its terminating NUL.
POSIX_LIMIT = 131072
#: Windows: UTF-16 code units of one ``NAME=value`` string.
WINDOWS_LIMIT = 32767

LayerSpec = tuple[eo.LayerKind, str, Sequence[eo.Op]]  # (kind, id, ops)

S, U, D = eo.Op.set, eo.Op.unset, eo.Op.default
P, A = eo.Op.prepend, eo.Op.append

STRASSE_SHARP = "STRA\u00dfE"  # STRAßE: 'ß' has no one-unit upper case, so Windows keeps it
PI_SMALL, PI_CAPITAL = "\u03c0", "\u03a0"  # π / Π: one name on Windows
E_ACUTE_SMALL, E_ACUTE_CAPITAL = "CAF\u00e9", "CAF\u00c9"  # CAFé / CAFÉ
DE_SMALL, DE_CAPITAL = "\u0434", "\u0414"  # Cyrillic д / Д
FF_LIGATURE = "\ufb00"  # 'ﬀ' upper-cases to "FF" (two units): not the name FF on Windows
SUN = "\U0001f31e"  # outside the BMP: UTF-16 D83C DF1E
FULLWIDTH_BANG = "\uff01"  # FF01: after SUN in UTF-16 order, before it in code-point order


def layer(kind: eo.LayerKind, *ops: eo.Op, lid: str | None = None) -> eo.Layer:
    return eo.Layer.from_ops(ops, kind=kind, id=lid or kind)


def build(specs: Sequence[LayerSpec]) -> list[eo.Layer]:
    return [eo.Layer.from_ops(ops, kind=kind, id=lid) for kind, lid, ops in specs]


def found(result: eo.ComposeResult, code: str) -> list[eo.Diagnostic]:
    return [d for d in result.diagnostics if d.code == code]


def fold(platform: eo.Platform) -> Callable[[str], str]:
    return eo.windows_fold if platform == "windows" else (lambda name: name)


def windows_hook(overlay: Mapping[str, object], id: str = "hook") -> eo.Layer:
    """A hook layer from an overlay, read with Windows' rules."""
    return eo.Layer.from_overlay(overlay, kind="hook", id=id, platform="windows")


def compose_windows(base: Mapping[str, str], *layers: eo.Layer) -> eo.ComposeResult:
    return eo.compose(base, layers, platform="windows")


def windows_lower(name: str) -> str:
    """Per-code-unit lower case that never changes length (the mirror of windows_fold)."""
    out = []
    for char in name:
        lower = char.lower()
        out.append(lower if len(lower) == 1 and ord(char) <= 0xFFFF else char)
    return "".join(out)


def raw_block(entries: Sequence[tuple[str, str]]) -> bytes:
    """A block exactly as given: unsorted, duplicates kept (what a careless runtime sends)."""
    text = "".join(f"{name}={value}\0" for name, value in entries) + "\0"
    return text.encode("utf-16-le", "surrogatepass")
