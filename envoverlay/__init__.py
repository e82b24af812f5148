"""envoverlay: the environment of an agent's shell commands as explicit data.

A thread's environment is an inherited map plus ordered *layers* of *ops* (config,
providers, SessionStart hooks, thread overrides, runtime-owned variables). :func:`compose`
folds them into the map handed to every spawned command, with the provenance of every
variable and diagnostics for everything that was rejected or looks wrong.

Importing this package loads neither jsonschema nor cattrs: validation and persistence
import them when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._names import Platform, PlatformArg, windows_fold
from .compose import ComposeResult, Contribution, Provenance, compose
from .diagnostics import (
    CODES,
    ComposeError,
    Diagnostic,
    EnvOverlayError,
    OverlayError,
    PolicyError,
)
from .hooks import HookResult, merge_hook_layers, parse_hook_output
from .layers import Layer, Lifetime, parse_overlay
from .lifecycle import CODEX_RUNTIME, EVENTS, TRANSITIONS, Event, LifecycleError, ThreadState
from .ops import REDACTED, Op
from .policy import CORE_POSIX, CORE_WINDOWS, SENSITIVE_NAMES, InheritPolicy
from .serialize import NewerVersionError, StateError, dumps, loads
from .sources import DEFAULT_PRECEDENCE, KINDS, LayerKind, Source

if TYPE_CHECKING:
    from .store import CorruptStateError, StoreError, ThreadNotFoundError, ThreadStore

__version__ = "0.1.0"

# The store is the file-system edge: imported on first use, so `import envoverlay` and
# compose() stay light.
_LAZY = {"CorruptStateError", "StoreError", "ThreadNotFoundError", "ThreadStore"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        from . import store

        return getattr(store, name)
    raise AttributeError(f"module 'envoverlay' has no attribute {name!r}")


__all__ = [
    "CODES",
    "CODEX_RUNTIME",
    "CORE_POSIX",
    "CORE_WINDOWS",
    "DEFAULT_PRECEDENCE",
    "EVENTS",
    "KINDS",
    "REDACTED",
    "SENSITIVE_NAMES",
    "TRANSITIONS",
    "ComposeError",
    "ComposeResult",
    "Contribution",
    "CorruptStateError",
    "Diagnostic",
    "EnvOverlayError",
    "Event",
    "HookResult",
    "InheritPolicy",
    "Layer",
    "LayerKind",
    "LifecycleError",
    "Lifetime",
    "NewerVersionError",
    "Op",
    "OverlayError",
    "Platform",
    "PlatformArg",
    "PolicyError",
    "Provenance",
    "Source",
    "StateError",
    "StoreError",
    "ThreadNotFoundError",
    "ThreadState",
    "ThreadStore",
    "compose",
    "dumps",
    "loads",
    "merge_hook_layers",
    "parse_hook_output",
    "parse_overlay",
    "windows_fold",
]
