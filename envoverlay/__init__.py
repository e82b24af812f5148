"""envoverlay: the environment of an agent's shell commands as explicit data.

A thread's environment is an inherited map plus ordered *layers* of *ops* (config,
providers, SessionStart hooks, thread overrides, runtime-owned variables). :func:`compose`
folds them into the map handed to every spawned command, with the provenance of every
variable and diagnostics for everything that was rejected or looks wrong.

Importing this package imports nothing else: each public name is imported on first use, and
compose() loads neither jsonschema nor cattrs (validation and persistence import them when
first used).
"""

import sys as _sys

__version__ = "0.1.0"

# Not `from typing import TYPE_CHECKING`: importing typing would cost more than this whole
# file. Type checkers read the block below; at run time it never runs.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._names import Platform, PlatformArg, PlatformRules, rules_for, windows_fold
    from .codex import CodexConfigError, CodexPolicy, apply_codex_policy
    from .composition import (
        Composer,
        ComposeResult,
        Contribution,
        Provenance,
        clear_compose_cache,
        compose,
    )
    from .diagnostics import (
        CODES,
        ComposeError,
        Diagnostic,
        EnvOverlayError,
        OverlayError,
        PolicyError,
    )
    from .emit import EMIT_FORMATS, EmitFormat, Emitted, emit_overlay
    from .envfile import (
        EnvFileResult,
        attach_env_files,
        read_env_file,
        read_github_env,
        read_github_path,
        read_shell_env_file,
    )
    from .envfile_eval import evaluate_env_file
    from .errors import ArgumentError, ArgumentTypeError, ShellError
    from .hooks import HookResult, merge_hook_layers, parse_hook_output
    from .layers import Layer, Lifetime, parse_overlay
    from .lifecycle import CODEX_RUNTIME, EVENTS, TRANSITIONS, Event, LifecycleError, ThreadState
    from .ops import REDACTED, Op
    from .policy import CORE_POSIX, CORE_WINDOWS, SENSITIVE_NAMES, InheritPolicy, Verdict, judge_op
    from .runner import HookRun, run_session_start_hook
    from .secrets import DEFAULT_SECRET_PATTERNS, SecretNames, is_secret_name
    from .serialize import NewerVersionError, StateError, dumps, loads
    from .sources import DEFAULT_PRECEDENCE, KINDS, LayerKind, Origin, Source
    from .store import (
        CorruptStateError,
        NewerStateError,
        StoreError,
        ThreadNotFoundError,
        ThreadStore,
    )

# Each public name and the module it lives in. `import envoverlay` imports none of them: the
# first use of a name imports its module (PEP 562), so a process pays only for what it uses
# — a hook check never loads the lifecycle or the store, and compose() never loads
# jsonschema or cattrs.
_MODULES: dict[str, tuple[str, ...]] = {
    "_names": ("Platform", "PlatformArg", "PlatformRules", "rules_for", "windows_fold"),
    "codex": ("CodexConfigError", "CodexPolicy", "apply_codex_policy"),
    "composition": (
        "ComposeResult", "Composer", "Contribution", "Provenance", "clear_compose_cache",
        "compose",
    ),
    "diagnostics": (
        "CODES", "ComposeError", "Diagnostic", "EnvOverlayError", "OverlayError", "PolicyError"
    ),
    "emit": ("EMIT_FORMATS", "EmitFormat", "Emitted", "emit_overlay"),
    "envfile": (
        "EnvFileResult", "attach_env_files", "read_env_file", "read_github_env",
        "read_github_path", "read_shell_env_file",
    ),
    # Evaluation runs bash: the shell-side edge of env files.
    "envfile_eval": ("evaluate_env_file",),
    "errors": ("ArgumentError", "ArgumentTypeError", "ShellError"),
    "hooks": ("HookResult", "merge_hook_layers", "parse_hook_output"),
    "layers": ("Layer", "Lifetime", "parse_overlay"),
    "lifecycle": (
        "CODEX_RUNTIME", "EVENTS", "TRANSITIONS", "Event", "LifecycleError", "ThreadState"
    ),
    "ops": ("REDACTED", "Op"),
    "policy": (
        "CORE_POSIX", "CORE_WINDOWS", "SENSITIVE_NAMES", "InheritPolicy", "Verdict", "judge_op"
    ),
    "secrets": ("DEFAULT_SECRET_PATTERNS", "SecretNames", "is_secret_name"),
    # Running hooks is an imperative edge: the runner module is imported on first use.
    "runner": ("HookRun", "run_session_start_hook"),
    "serialize": ("NewerVersionError", "StateError", "dumps", "loads"),
    "sources": ("DEFAULT_PRECEDENCE", "KINDS", "LayerKind", "Origin", "Source"),
    # The store is the file-system edge.
    "store": (
        "CorruptStateError", "NewerStateError", "StoreError", "ThreadNotFoundError", "ThreadStore"
    ),
}  # fmt: skip
_HOME = {name: module for module, names in _MODULES.items() for name in names}
#: Subpackages and modules reachable as attributes (``envoverlay.providers.venv(...)``),
#: imported on first use like the names above.
_SUBMODULES = ("providers", "runner", "schemas", "secrets", "shell")


if not TYPE_CHECKING:  # type checkers see the imports above, and flag a misspelt name

    def __getattr__(name: str) -> object:
        if name in _SUBMODULES:
            __import__(f"{__name__}.{name}")
            return _sys.modules[f"{__name__}.{name}"]
        module = _HOME.get(name)
        if module is None:
            raise AttributeError(f"module 'envoverlay' has no attribute {name!r}")
        qualified = f"{__name__}.{module}"
        __import__(qualified)
        value = getattr(_sys.modules[qualified], name)
        globals()[name] = value  # later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        # The lazy-loading machinery is no part of the API: help(envoverlay) lists what is.
        hidden = {"__getattr__", "__dir__", "__all__", "__annotations__", "TYPE_CHECKING"}
        return sorted({*globals(), *_HOME, *_SUBMODULES} - hidden)


__all__ = [
    "CODES",
    "CODEX_RUNTIME",
    "CORE_POSIX",
    "CORE_WINDOWS",
    "DEFAULT_PRECEDENCE",
    "DEFAULT_SECRET_PATTERNS",
    "EMIT_FORMATS",
    "EVENTS",
    "KINDS",
    "REDACTED",
    "SENSITIVE_NAMES",
    "TRANSITIONS",
    "ArgumentError",
    "ArgumentTypeError",
    "CodexConfigError",
    "CodexPolicy",
    "ComposeError",
    "ComposeResult",
    "Composer",
    "Contribution",
    "CorruptStateError",
    "Diagnostic",
    "EmitFormat",
    "Emitted",
    "EnvFileResult",
    "EnvOverlayError",
    "Event",
    "HookResult",
    "HookRun",
    "InheritPolicy",
    "Layer",
    "LayerKind",
    "LifecycleError",
    "Lifetime",
    "NewerStateError",
    "NewerVersionError",
    "Op",
    "Origin",
    "OverlayError",
    "Platform",
    "PlatformArg",
    "PlatformRules",
    "PolicyError",
    "Provenance",
    "SecretNames",
    "ShellError",
    "Source",
    "StateError",
    "StoreError",
    "ThreadNotFoundError",
    "ThreadState",
    "ThreadStore",
    "Verdict",
    "apply_codex_policy",
    "attach_env_files",
    "clear_compose_cache",
    "compose",
    "dumps",
    "emit_overlay",
    "evaluate_env_file",
    "is_secret_name",
    "judge_op",
    "loads",
    "merge_hook_layers",
    "parse_hook_output",
    "parse_overlay",
    "read_env_file",
    "read_github_env",
    "read_github_path",
    "read_shell_env_file",
    "rules_for",
    "run_session_start_hook",
    "windows_fold",
]
