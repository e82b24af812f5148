"""``explain --runtime codex`` and ``exec --runtime codex``: the CLI block of the Codex runtime.

Kept apart from ``cli.py`` so the Codex options and output live in one place; ``cli.py``
adds the options (:func:`add_codex_options`) and hands over when ``--runtime codex`` is
given. Every Codex config problem is a :class:`~envoverlay.codex.CodexConfigError` (exit 1,
one line naming the file, the key and the fix).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from .codex import Step
    from .codex_runtime import CodexPrediction

# The parser is built for every command: the Codex modules are imported only when
# --runtime codex runs.

REPORT_FORMAT = "envoverlay.explain.codex"


def add_codex_options(parser: argparse.ArgumentParser) -> None:
    """The ``--runtime codex`` options of explain and exec."""
    group = parser.add_argument_group("Codex runtime (--runtime codex)")
    group.add_argument(
        "--runtime", choices=("codex", "claude"),
        help="compose as Codex 0.169 composes a model command's env (claude: a Bash command in "
        "a Claude Code 2.1 session; see the Claude Code options)",
    )  # fmt: skip
    group.add_argument(
        "--codex-home", metavar="DIR",
        help="Codex's config folder (default: $CODEX_HOME of the base env, else ~/.codex)",
    )  # fmt: skip
    group.add_argument(
        "--codex-bin", metavar="PATH",
        help="the native codex binary, whose package's codex-path folder Codex puts first in "
        "PATH (default: codex on PATH)",
    )  # fmt: skip
    group.add_argument(
        "--codex-profile", metavar="NAME", help="as codex -p NAME: layer NAME.config.toml"
    )
    group.add_argument(
        "--codex-config", metavar="KEY=VALUE", action="append", default=[],
        help="as codex -c KEY=VALUE (repeatable)",
    )  # fmt: skip
    group.add_argument(
        "--strict-config", action="store_true",
        help="as codex --strict-config: unknown shell_environment_policy keys are errors",
    )  # fmt: skip
    group.add_argument(
        "--cd", metavar="DIR", help="the directory Codex runs in (default: the current one)"
    )
    group.add_argument("--no-hooks", action="store_true", help="do not run the SessionStart hooks")
    group.add_argument(
        "--no-login-snapshot", action="store_true",
        help="do not capture the login shell (predict a command run without the snapshot)",
    )  # fmt: skip


class CodexUsageError(Exception):
    """A problem with the --runtime codex command line (exit 2)."""


def _launcher(args: argparse.Namespace) -> dict[str, str]:
    if args.base is None:
        return dict(os.environ)
    from .cli import load_base

    base, _ = load_base(args.base)
    return {str(k): str(v) for k, v in base.items()}


def _prediction(args: argparse.Namespace) -> CodexPrediction:
    used = [
        flag
        for flag in ("hook_output", "provider", "state", "set", "unset", "config_dir", "session")
        if getattr(args, flag, None)
    ]
    if used:
        raise CodexUsageError(
            f"--runtime codex composes from CODEX_HOME; --{used[0].replace('_', '-')} does not "
            "apply (Codex has no such input)"
        )
    launcher = _launcher(args)
    home = args.codex_home or launcher.get("CODEX_HOME")
    if not home:
        home = os.path.join(launcher.get("HOME") or os.path.expanduser("~"), ".codex")
    if not os.path.isdir(home):
        raise CodexUsageError(f"--codex-home {home!r} is not a directory")
    cwd = os.path.abspath(args.cd or os.getcwd())
    if not os.path.isdir(cwd):
        raise CodexUsageError(f"--cd {args.cd!r} is not a directory")
    binary = args.codex_bin or shutil.which("codex", path=launcher.get("PATH"))
    from .codex_runtime import load_codex_setup, predict

    setup = load_codex_setup(
        home,
        profile=args.codex_profile,
        overrides=args.codex_config,
        strict=args.strict_config,
    )
    return predict(
        launcher,
        setup,
        cwd=cwd,
        codex_binary=binary,
        run_hooks=not args.no_hooks,
        login_shell=False if args.no_login_snapshot else None,
    )


def report_json(prediction: CodexPrediction) -> dict[str, Any]:
    """The JSON report of ``explain --runtime codex``."""
    from .codex import CODEX_VERSION

    command = prediction.command
    variables = {}
    removed = {}
    for name, steps in sorted(command.steps.items()):
        entry = {"steps": [step.to_json() for step in steps]}
        if name in command.env:
            variables[name] = {
                "value": command.env[name],
                "stage": steps[-1].stage,
                "per_run": name in command.per_run,
                **entry,
            }
        else:
            removed[name] = {"stage": steps[-1].stage, "why": steps[-1].why, **entry}
    return {
        "format": REPORT_FORMAT,
        "version": 1,
        "runtime": {"name": "codex", "version": CODEX_VERSION},
        "codex_home": prediction.setup.codex_home,
        "files": list(prediction.setup.files),
        "warnings": list(prediction.setup.warnings),
        "notes": list(prediction.notes),
        "env": dict(sorted(command.env.items())),
        "per_run": [name for name in command.per_run if name in command.env],
        "variables": variables,
        "removed": removed,
        "hooks": [
            {
                "command": run.hook.command,
                "matcher": run.hook.matcher,
                "exit_code": run.result.exit_code,
                "codex": run.codex_outcome,
                "overlay": run.result.layer.to_overlay() if run.result.layer else None,
                "errors": [d.to_json() for d in run.result.errors],
            }
            for run in prediction.hooks
        ],
        "login_snapshot": (
            {"captured": prediction.snapshot_taken, "error": prediction.snapshot_error}
        ),
    }


def _trail(steps: tuple[Step, ...]) -> str:
    parts = []
    for step in steps:
        shown = "(removed)" if step.value is None else _short(step.value)
        parts.append(f"{step.stage} {shown}")
    return " -> ".join(parts)


def _short(value: str, width: int = 60) -> str:
    return value if len(value) <= width else value[: width - 3] + "..."


def report_text(prediction: CodexPrediction, out: TextIO, *, changed: bool = False) -> None:
    """The text report: each variable, the stage that gave its value and why; what was
    removed and by what; the hooks and what Codex 0.169 does with them."""
    from .codex import CODEX_VERSION

    command = prediction.command
    setup = prediction.setup
    out.write(f"Codex {CODEX_VERSION} model command environment (CODEX_HOME={setup.codex_home})\n")
    for file in setup.files:
        out.write(f"  read {file}\n")
    for warning in setup.warnings:
        out.write(f"  warning: {warning}\n")
    for note in prediction.notes:
        out.write(f"  note: {note}\n")
    if prediction.snapshot_error:
        out.write(f"  login snapshot not captured: {prediction.snapshot_error}\n")
    out.write("\nvariables:\n")
    for name in sorted(command.env):
        steps = command.steps[name]
        last = steps[-1]
        if changed and len(steps) == 1 and last.stage == "launcher":
            continue
        note = "  (per run)" if name in command.per_run else ""
        out.write(f"  {name}={_short(command.env[name])}  [{last.stage}: {last.why}]{note}\n")
        if len(steps) > 1:
            out.write(f"      {_trail(steps)}\n")
    gone = {n: s for n, s in command.steps.items() if n not in command.env}
    if gone:
        out.write("\nremoved or never reaching the command:\n")
        for name, steps in sorted(gone.items()):
            out.write(f"  {name}  [{steps[-1].stage}: {steps[-1].why}]\n")
    if prediction.hooks:
        out.write("\nSessionStart hooks:\n")
        for run in prediction.hooks:
            out.write(f"  {run.hook.command}  [{run.hook.matcher or '*'}] -> {run.codex_outcome}\n")
            if run.result.layer is not None:
                overlay = json.dumps(run.result.layer.to_overlay(), ensure_ascii=False)
                out.write(f"      its env overlay (Codex 0.169 does not apply it): {overlay}\n")


def redacted(prediction: CodexPrediction) -> CodexPrediction:
    """The prediction with the values of secret-looking names (the default secret patterns
    of :mod:`envoverlay.secrets`) shown as ``***``, for printing."""
    import attrs

    from .ops import REDACTED
    from .secrets import DEFAULT_SECRET_NAMES as secret

    command = prediction.command

    def hide(name: str, value: str | None) -> str | None:
        return REDACTED if value is not None and secret.matches(name) else value

    env = {name: REDACTED if secret.matches(name) else value for name, value in command.env.items()}
    steps = {
        name: tuple(attrs.evolve(step, value=hide(name, step.value)) for step in found)
        for name, found in command.steps.items()
    }
    return attrs.evolve(prediction, command=attrs.evolve(command, env=env, steps=steps))


def cmd_explain_codex(args: argparse.Namespace) -> int:
    from .cli import print_json

    prediction = _prediction(args)
    if not getattr(args, "show_secrets", False):  # explain's flag
        prediction = redacted(prediction)
    if args.format == "json":
        print_json(report_json(prediction))
    else:
        report_text(prediction, sys.stdout, changed=args.changed)
    return 0


def exec_env(prediction: CodexPrediction) -> dict[str, str]:
    """The predicted env with fresh per-run ids, ready to run a command under."""
    import uuid  # here, not at the top: the CLI imports this module to build its parser

    env = dict(prediction.command.env)
    thread = str(uuid.uuid4())
    fresh: Mapping[str, str] = {
        "CODEX_THREAD_ID": thread,
        "CODEX_SESSION_ID": thread,
        "CODEX_TOOL_CALL_ID": f"envoverlay-{uuid.uuid4().hex[:12]}",
    }
    for name, value in fresh.items():
        if name in env:
            env[name] = value
    env.pop("_", None)  # the shell sets it to the command's path
    return env


def cmd_exec_codex(args: argparse.Namespace) -> int:
    if not args.command:
        raise CodexUsageError("exec needs a command: envoverlay exec --runtime codex -- CMD ...")
    prediction = _prediction(args)
    for warning in prediction.setup.warnings:
        sys.stderr.write(f"envoverlay: warning: {warning}\n")
    from .cli import run_command

    cwd = os.path.abspath(args.cd or os.getcwd())
    return run_command(args.command, exec_env(prediction), cwd)
