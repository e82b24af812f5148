"""nix: a ``nix print-dev-env --json`` document as a layer.

As ``nix develop`` does: only ``exported`` variables become env (plain shell variables,
arrays and associative arrays do not); ``PATH`` and ``XDG_DATA_DIRS`` are *prepended* to the
inherited values (nix's saved variables, "to keep the shell usable"); build internals that
``nix develop`` never exports are dropped (its ignore list: ``HOME``, ``TMPDIR``, ``TERM``,
``NIX_BUILD_TOP``, ...), and so is shell bookkeeping.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .._names import PlatformArg
from ..diff import is_ignored
from ..ops import Op
from ._result import ProviderResult, from_json_document

#: Variables ``nix develop`` does not export from the build environment.
NIX_IGNORED: Final = frozenset(
    {
        "BASHOPTS", "HOME", "NIX_BUILD_TOP", "NIX_ENFORCE_PURITY", "NIX_LOG_FD", "NIX_REMOTE",
        "PPID", "SHELLOPTS", "SSL_CERT_FILE", "TEMP", "TEMPDIR", "TERM", "TMP", "TMPDIR", "TZ",
        "UID",
    }
)  # fmt: skip
#: Variables ``nix develop`` prepends to instead of replacing.
NIX_PREPENDED: Final = ("PATH", "XDG_DATA_DIRS")


def nix_ops(document: object) -> list[Op]:
    """The ops of a ``nix print-dev-env --json`` document. Raises ValueError, naming the
    place, for a document of another shape."""
    if not isinstance(document, Mapping) or not isinstance(document.get("variables"), Mapping):
        raise ValueError('the document has no "variables" object')
    ops: list[Op] = []
    for name, variable in document["variables"].items():
        if not isinstance(variable, Mapping) or "type" not in variable:
            raise ValueError(f'/variables/{name} is not {{"type": ..., "value": ...}}')
        if variable["type"] != "exported" or name in NIX_IGNORED or is_ignored(name):
            continue
        value = variable.get("value")
        if not isinstance(value, str):
            raise ValueError(f"/variables/{name}/value is not a string")
        if name in NIX_PREPENDED and value:
            ops.append(Op.prepend(name, [entry for entry in value.split(":") if entry]))
        else:
            ops.append(Op.set(name, value))
    return ops


def nix(path: str, *, platform: PlatformArg = "auto") -> ProviderResult:
    """A layer from a saved ``nix print-dev-env --json`` output file."""
    return from_json_document("nix", path, nix_ops, "pass the output of `nix print-dev-env --json`")
