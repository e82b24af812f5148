"""envoverlay: the environment of an agent's shell commands as explicit data.

A thread's environment is an inherited map plus ordered *layers* of *ops* (config,
providers, SessionStart hooks, thread overrides, runtime-owned variables). :func:`compose`
folds them into the map handed to every spawned command, with the provenance of every
variable and diagnostics for everything that was rejected or looks wrong.

Importing this package loads neither jsonschema nor cattrs: validation and persistence
import them when first used.
"""

from __future__ import annotations

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
from .ops import REDACTED, Op
from .policy import CORE_POSIX, CORE_WINDOWS, SENSITIVE_NAMES, InheritPolicy
from .sources import DEFAULT_PRECEDENCE, KINDS, LayerKind, Source

__version__ = "0.1.0.dev0"

__all__ = [
    "CODES",
    "CORE_POSIX",
    "CORE_WINDOWS",
    "DEFAULT_PRECEDENCE",
    "KINDS",
    "REDACTED",
    "SENSITIVE_NAMES",
    "ComposeError",
    "ComposeResult",
    "Contribution",
    "Diagnostic",
    "EnvOverlayError",
    "HookResult",
    "InheritPolicy",
    "Layer",
    "LayerKind",
    "Lifetime",
    "Op",
    "OverlayError",
    "Platform",
    "PlatformArg",
    "PolicyError",
    "Provenance",
    "Source",
    "compose",
    "merge_hook_layers",
    "parse_hook_output",
    "parse_overlay",
    "windows_fold",
]
