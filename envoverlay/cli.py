"""The ``envoverlay`` command line: a thin shell around the library.

Exit codes: 0 success; 1 the input is invalid (composition or validation errors); 2 usage
or I/O error; 3 an internal error (a bug: please report it). ``exec`` exits with the
command's own status. No command ever prints a traceback unless ``ENVOVERLAY_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, NoReturn, TextIO

from ._jsonio import InputError, load_json, read_file
from .diagnostics import Diagnostic, EnvOverlayError
from .shell import SHELLS

if TYPE_CHECKING:
    from .composition import ComposeResult
    from .envfile import EnvFileResult
    from .hooks import HookResult
    from .layers import Layer
    from .policy import SensitiveMode
    from .providers import ProviderResult
    from .shell import Drift

# Each command imports the modules it uses when it runs: `envoverlay check` never loads the
# composition core, the providers or the store format (the login-shell module is loaded for
# its list of shells, which the parser needs).

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3

#: Options of `check` that only a hook run with --run uses.
RUN_ONLY: Final = ("source", "cwd", "timeout")
DEFAULT_HOOK_TIMEOUT: Final = 600.0


class UsageError(Exception):
    """A problem with the command line or its files (exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


# -- inputs -------------------------------------------------------------------------------


def read_input(path: str, what: str) -> bytes:
    """The bytes of ``path`` (``-`` is stdin), or a UsageError that says what failed."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return read_file(path, what)
    except InputError as exc:
        raise UsageError(str(exc)) from None


def read_json_file(path: str, what: str) -> Any:
    data = read_input(path, what)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{what} {path!r} is not UTF-8 (byte {exc.start})") from None
    document, problems = load_json(text, what=f"{what} {path!r}")
    if problems:
        raise UsageError("\n".join(p.describe() for p in problems))
    return document


def load_base(path: str | None) -> tuple[dict[str, Any], str]:
    """The inherited map and its provenance id: a JSON object file, or this process's env."""
    if path is None:
        return dict(os.environ), "launcher"
    document = read_json_file(path, "--base")
    if not isinstance(document, dict):
        raise UsageError(
            f"--base {path!r} must hold a JSON object of name to string value, "
            f"not {type(document).__name__}"
        )
    return document, f"file:{path}"


def load_hooks(paths: Sequence[str], args: argparse.Namespace) -> list[HookResult]:
    from .hooks import parse_hook_output

    return [
        parse_hook_output(
            read_input(path, "--hook-output"),
            hook_id=path,
            platform=args.platform,
            protected=args.protect,
            sensitive="deny" if args.secure else "warn",
        )
        for path in paths
    ]


def _check_protect(patterns: Sequence[str]) -> None:
    for pattern in patterns:
        if not pattern:
            raise UsageError("--protect takes a non-empty name or glob")


def thread_layer(args: argparse.Namespace) -> Layer | None:
    from .layers import Layer
    from .ops import Op

    ops = []
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--set takes NAME=VALUE, got {item!r}")
        ops.append(Op.set(name, value))
    ops.extend(Op.unset(name) for name in args.unset)
    return Layer.from_ops(ops, kind="thread", id="cli") if ops else None


def load_state_layers(path: str | None) -> list[Layer]:
    """The layers of a saved thread state (runtime layer included), or none."""
    from .serialize import StateError, loads

    if path is None:
        return []
    data = read_input(path, "--state")
    try:
        state = loads(data)
    except StateError as exc:
        raise UsageError(f"--state {path!r}: {exc}") from None
    return list(state.layers)


def compose_from_args(
    args: argparse.Namespace,
) -> tuple[ComposeResult, list[HookResult | ProviderResult | EnvFileResult]]:
    """Compose the inputs of explain/exec: state, providers (run in order, each over the env
    composed so far), hook outputs, thread overrides."""
    from .composition import compose
    from .policy import InheritPolicy
    from .providers import from_spec

    base, base_id = load_base(args.base)
    hooks = load_hooks(args.hook_output, args)
    state_layers = load_state_layers(args.state)
    layers = [layer for layer in state_layers if layer.kind != "runtime"]
    try:
        policy = InheritPolicy(
            inherit=args.inherit, exclude=tuple(args.exclude), include_only=tuple(args.include_only)
        )
    except EnvOverlayError as exc:
        raise UsageError(f"--exclude/--include-only: {exc}") from None
    _check_protect(args.protect)
    options: dict[str, Any] = {
        "platform": args.platform,
        "protected": args.protect,
        "sensitive": "deny" if args.secure else "warn",
        "policy": policy,
        "base_id": base_id,
    }
    inputs: list[HookResult | ProviderResult | EnvFileResult] = []
    for spec in args.provider:
        so_far = compose(base, layers, **options).env
        provided = from_spec(spec, so_far, platform=args.platform)
        inputs.append(provided)
        if provided.layer is not None:
            layers.append(provided.layer)
    inputs.extend(hooks)
    layers += [hook.layer for hook in hooks if hook.layer is not None]
    for found in env_file_inputs(args, base, layers, options):
        inputs.append(found)
        layer = found.layer(kind="hook")
        if layer is not None:
            layers.append(layer)
    layers += [layer for layer in state_layers if layer.kind == "runtime"]
    try:
        extra = thread_layer(args)
    except EnvOverlayError as exc:
        raise UsageError(f"--set/--unset: {exc}") from None
    if extra is not None:
        layers.append(extra)
    return compose(base, layers, **options), inputs


def env_file_inputs(
    args: argparse.Namespace, base: dict[str, Any], layers: list[Layer], options: dict[str, Any]
) -> list[EnvFileResult]:
    """``--env-file FILE``s of explain/exec: each read over the env composed so far (each
    reference reported with the source of its value), as a hook layer whose id is FILE."""
    from .composition import compose
    from .envfile_eval import read_env_bytes
    from .sources import Source

    found: list[EnvFileResult] = []
    for path in args.env_file:
        data = read_input(path, "--env-file")
        so_far = compose(base, layers, **options)
        origins = {name: str(p.source) for name, p in so_far.variables.items()}
        result = read_env_bytes(
            data, so_far.env, label=path, evaluate=args.evaluate_env_files,
            platform=args.platform, source=Source("hook", path), origins=origins,
        )  # fmt: skip
        found.append(result)
        layer = result.layer(kind="hook")
        if layer is not None:
            layers = [*layers, layer]
    return found


# -- output -------------------------------------------------------------------------------


def input_diagnostics(
    inputs: Sequence[HookResult | ProviderResult | EnvFileResult], result: ComposeResult
) -> list[Diagnostic]:
    """The diagnostics of hook outputs and providers that composition does not report too
    (the same finding is equal in both: see :class:`~envoverlay.Diagnostic`)."""
    composed = set(result.diagnostics)
    found = (d for item in inputs for d in item.diagnostics)
    return [d for d in dict.fromkeys(found) if d not in composed]


def _shorten(text: str | None, width: int, full: bool) -> str:
    if text is None:
        return "(unset)"
    text = text.replace("\n", "\\n")
    if full or len(text) <= width:
        return text
    return text[: width - 1] + "…"


def explain_json(
    result: ComposeResult, hooks: Sequence[HookResult | ProviderResult | EnvFileResult]
) -> dict[str, Any]:
    from .views import compose_result_view

    return compose_result_view(result, input_diagnostics(hooks, result))


def explain_text(
    result: ComposeResult,
    hooks: Sequence[HookResult | ProviderResult | EnvFileResult],
    out: TextIO,
    *,
    full: bool,
    changed: bool,
) -> None:
    rows = []
    for name, provenance in result.variables.items():
        if changed and provenance.source.kind == "inherited":
            continue
        overrode = provenance.overridden
        rows.append(
            (
                name,
                _shorten(provenance.shown_value, 48, full),
                str(provenance.source),
                "" if overrode is None else _shorten(overrode, 32, full),
            )
        )
    header = ("VARIABLE", "VALUE", "SOURCE", "OVERRODE")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        out.write("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() + "\n")
    removed = result.removed
    if removed:
        out.write("\nremoved:\n")
        for name, provenance in removed.items():
            out.write(f"  {name}  by {provenance.source}\n")
    diagnostics = [*input_diagnostics(hooks, result), *result.diagnostics]
    if diagnostics:
        out.write("\ndiagnostics:\n")
        for diagnostic in diagnostics:
            out.write(f"  {diagnostic.describe()}\n")
    errors = sum(d.severity == "error" for d in diagnostics)
    out.write(
        f"\n{_count(len(result.variables), 'variable')} ({result.platform}), "
        f"{len(removed)} removed, {_count(errors, 'error')}, "
        f"{_count(len(diagnostics) - errors, 'warning')}\n"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


# -- commands -----------------------------------------------------------------------------


def cmd_explain(args: argparse.Namespace) -> int:
    if getattr(args, "runtime", None) == "codex":
        return _codex_command("explain", args)
    result, hooks = compose_from_args(args)
    drift = login_drift(args.login_shell, result) if args.login_shell else None
    if args.format == "json":
        report = explain_json(result, hooks)
        if drift is not None:
            report["login_shell"] = {
                "shell": args.login_shell,
                "drift": [d.to_json() for d in drift],
            }
        json.dump(report, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        explain_text(result, hooks, sys.stdout, full=args.full, changed=args.changed)
        if drift is not None:
            drift_text(args.login_shell, drift, sys.stdout, full=args.full)
    failed = not result.ok or any(d.severity == "error" for d in input_diagnostics(hooks, result))
    return EXIT_INVALID if failed else EXIT_OK


def _codex_command(name: str, args: argparse.Namespace) -> int:
    """explain/exec --runtime codex (envoverlay.codex_cli)."""
    from . import codex_cli

    try:
        if name == "explain":
            return codex_cli.cmd_explain_codex(args)
        return codex_cli.cmd_exec_codex(args)
    except codex_cli.CodexUsageError as exc:
        raise UsageError(str(exc)) from None


def login_drift(shell: str, result: ComposeResult) -> tuple[Drift, ...]:
    """What the real login shell's profile changes (runs the shell once)."""
    from .shell import ShellError, drift_report

    try:
        return drift_report(shell, result)
    except (ShellError, ValueError) as exc:
        raise UsageError(f"--login-shell {shell}: {exc}") from None


def drift_text(shell: str, drift: Sequence[Drift], out: TextIO, *, full: bool) -> None:
    out.write(f"\nlogin shell drift ({shell}: what its profile files change):\n")
    if not drift:
        out.write("  nothing\n")
    for item in drift:
        guard = "re-applied by --login-shell" if item.reapplied else "the profile wins"
        out.write(
            f"  {item.name}  {item.change}: {_shorten(item.before, 40, full)} -> "
            f"{_shorten(item.after, 40, full)}  [{item.source}; {guard}]\n"
        )


def cmd_exec(args: argparse.Namespace) -> int:
    if getattr(args, "runtime", None) == "codex":
        return _codex_command("exec", args)

    from .shell import login_shell_argv

    command = args.command
    if not command:
        raise UsageError("exec needs a command: envoverlay exec [options] -- CMD [ARGS...]")
    result, hooks = compose_from_args(args)
    problems = [d for d in input_diagnostics(hooks, result) if d.severity == "error"]
    problems.extend(result.errors)
    for diagnostic in problems:
        sys.stderr.write(f"envoverlay: {diagnostic.describe()}\n")
    if args.strict and problems:
        sys.stderr.write("envoverlay: not running the command (--strict and errors above)\n")
        return EXIT_INVALID
    if args.login_shell:
        try:
            command = login_shell_argv(args.login_shell, result, command)
        except ValueError as exc:
            raise UsageError(f"--login-shell {args.login_shell}: {exc}") from None
    return run_command(command, result.env)


def run_command(command: Sequence[str], env: dict[str, str], cwd: str | None = None) -> int:
    """Run ``command`` under ``env``; its exit status as a shell gives it (127 not found,
    126 not executable, 128 + N killed by signal N)."""
    import subprocess

    sys.stdout.flush()
    try:
        completed = subprocess.run(command, env=env, cwd=cwd, check=False)
    except FileNotFoundError:
        sys.stderr.write(f"envoverlay: command not found: {command[0]}\n")
        return 127
    except PermissionError:
        sys.stderr.write(f"envoverlay: command not executable: {command[0]}\n")
        return 126
    code = completed.returncode
    return 128 - code if code < 0 else code


def _overlay_summary(layer: Layer) -> list[str]:
    lines = []
    for op in layer.ops:
        argument = op.argument()
        if op.action == "unset":
            lines.append(f"unset {op.name}")
        elif op.action in ("prepend", "append"):
            where = "to the front of" if op.action == "prepend" else "to the end of"
            lines.append(f"add {', '.join(map(str, argument or []))} {where} {op.name}")
        elif op.action == "default":
            lines.append(f"set {op.name}={argument} if it is absent or empty")
        else:
            lines.append(f"set {op.name}={argument}")
    return lines


def _problem_json(diagnostic: Diagnostic) -> dict[str, Any]:
    from .views import problem_view

    return problem_view(diagnostic)


def check_report(
    label: str,
    hook: HookResult,
    stderr: bytes | None = None,
    env_files: Sequence[EnvFileResult] = (),
    platform: str = "auto",
) -> dict[str, Any]:
    """The JSON report of one checked hook output (SPEC §6)."""
    report: dict[str, Any] = {
        "file": label,
        "valid": hook.ok,
        "errors": [_problem_json(d) for d in hook.errors],
        "warnings": [_problem_json(d) for d in hook.warnings],
        "overlay": None,
    }
    try:
        report["overlay"] = _whole_overlay(hook, platform)
    except ValueError as exc:  # e.g. a file's prepend after a stdout default of one variable
        shown = Diagnostic(
            "warning", "env-file-not-representable", None, None,
            f"the hook's ops cannot be shown as one overlay ({exc}); they apply in order",
            hint="publish one op per variable", pointer="",
        )  # fmt: skip
        report["warnings"].append(_problem_json(shown))
    if env_files:
        report["env_files"] = env_files_json(env_files)
    if hook.additional_context is not None:
        report["additionalContext"] = hook.additional_context
    if stderr is not None:
        report["exit_code"] = hook.exit_code
        report["stderr_tail"] = _tail(stderr)
    return report


def _whole_overlay(hook: HookResult, platform: str) -> dict[str, object] | None:
    """The hook's whole overlay: its stdout overlay and its env files' ops as one."""
    from .envfile import overlay_of

    if hook.layer is None or not hook.ok:
        return None
    return overlay_of(hook.layer.ops, platform=platform)  # type: ignore[arg-type]


def env_files_json(files: Sequence[EnvFileResult]) -> list[dict[str, Any]]:
    """What each env file a hook wrote published (check's ``env_files``)."""
    return [
        {
            "file": result.label,
            "format": result.format,
            "method": result.method,
            "variables": list(result.names),
            "lines": list(result.lines),
        }
        for result in files
    ]


def env_files_note(report: dict[str, Any]) -> str:
    """``publishes env via CLAUDE_ENV_FILE (2 variables)`` for check's text output."""
    parts = [
        f"{item['file']} ({_count(len(item['variables']), 'variable')})"
        for item in report.get("env_files", ())
    ]
    return f"publishes env via {', '.join(parts)}" if parts else ""


def hook_with_env_files(
    hook: HookResult, written: dict[str, bytes], args: argparse.Namespace
) -> tuple[HookResult, list[EnvFileResult]]:
    """``hook`` with the env files it wrote (variable or path → bytes) joined to its layer,
    read over this process's env (the env the hook itself ran in)."""
    from .envfile import attach_env_files
    from .envfile_eval import read_hook_env_files
    from .sources import Source

    if hook.exit_code != 0:  # a failed hook contributes nothing, env files included
        return hook, []
    files = read_hook_env_files(
        written, dict(os.environ), evaluate=args.evaluate_env_files, platform=args.platform,
        source=Source("hook", hook.hook_id),
        origins=dict.fromkeys(os.environ, "inherited:launcher"),
    )  # fmt: skip
    joined = attach_env_files(
        hook, files, platform=args.platform, protected=args.protect,
        sensitive="deny" if args.secure else "warn",
    )  # fmt: skip
    return joined, files


def _tail(data: bytes, lines: int = 20) -> str:
    text = data.decode("utf-8", "replace").rstrip("\n")
    return "\n".join(text.splitlines()[-lines:])


def check_text(report: dict[str, Any], hook: HookResult, out: TextIO) -> None:
    label = report["file"]
    for diagnostic in hook.errors:
        out.write(f"{label}: {_pointer_line(diagnostic)}\n")
    for diagnostic in hook.warnings:
        out.write(f"{label}: {_pointer_line(diagnostic)}\n")
    if "stderr_tail" in report and (report["stderr_tail"] and not hook.ok):
        out.write(f"{label}: hook stderr (last lines):\n")
        for line in report["stderr_tail"].splitlines():
            out.write(f"    {line}\n")
    if not hook.ok:
        problems = f"{_count(len(hook.errors), 'error')}, {_count(len(hook.warnings), 'warning')}"
        out.write(f"{label}: invalid ({problems})\n")
        return
    out.write(f"{label}: valid")
    published = env_files_note(report)
    if published:
        out.write(f" ({published})")
    elif hook.layer is None:
        out.write(" (publishes no env)")
    out.write("\n")
    if hook.layer is not None:
        for line in _overlay_summary(hook.layer):
            out.write(f"    {line}\n")
    if hook.additional_context:
        out.write(f"    additional context: {len(hook.additional_context)} characters\n")


def _pointer_line(diagnostic: Diagnostic) -> str:
    pointer = diagnostic.pointer if diagnostic.pointer else "/"
    text = f"{diagnostic.severity}[{diagnostic.code}] {pointer}: {diagnostic.message}"
    if diagnostic.hint:
        text += f" (fix: {diagnostic.hint})"
    return text


def cmd_check(args: argparse.Namespace) -> int:
    from .hooks import parse_hook_output

    sensitive: SensitiveMode = "deny" if args.secure else "warn"
    _check_protect(args.protect)
    checked: list[tuple[dict[str, Any], HookResult]] = []
    if args.command and not args.run:
        raise UsageError(
            "a command after '--' needs --run: envoverlay check --run -- CMD [ARGS...]"
        )
    if not args.run:
        given = [f"--{flag}" for flag in RUN_ONLY if getattr(args, flag) is not None]
        if given:
            raise UsageError(
                f"{' and '.join(given)} only appl{'ies' if len(given) == 1 else 'y'} to a "
                "hook run with --run: "
                "envoverlay check --run -- CMD [ARGS...]"
            )
    if args.run:
        command = args.command
        if not command:
            raise UsageError("--run needs a command: envoverlay check --run -- CMD [ARGS...]")
        if args.files:
            raise UsageError("pass either FILEs or --run, not both")
        if args.cwd is not None and not os.path.isdir(args.cwd):
            raise UsageError(f"--cwd {args.cwd!r} is not a directory")
        import attrs

        from .runner import run_hook_with_env_files

        try:
            outcome, written = run_hook_with_env_files(
                command,
                source=args.source or "startup",
                cwd=args.cwd,
                timeout=DEFAULT_HOOK_TIMEOUT if args.timeout is None else args.timeout,
                event=args.event,
            )
        except FileNotFoundError:
            raise UsageError(f"--run: hook command not found: {command[0]}") from None
        except PermissionError:
            raise UsageError(f"--run: hook command is not executable: {command[0]}") from None
        except NotADirectoryError:
            raise UsageError(f"--run: --cwd {args.cwd!r} is not a directory") from None
        hook = parse_hook_output(
            outcome.stdout, hook_id=command[0], exit_code=outcome.exit_code,
            platform=args.platform, protected=args.protect, sensitive=sensitive,
            event=args.event,
        )  # fmt: skip
        if outcome.problem is not None:
            hook = attrs.evolve(hook, errors=(outcome.problem, *hook.errors))
        written.update(saved_env_files(args))
        hook, files = hook_with_env_files(hook, written, args)
        report = check_report(" ".join(command), hook, outcome.stderr, files, args.platform)
        checked.append((report, hook))
    else:
        saved = saved_env_files(args)
        if saved and len(args.files) > 1:
            raise UsageError("--env-file belongs to one hook: pass at most one hook output FILE")
        for path in args.files or (["-"] if not saved else []):
            label = "<stdin>" if path == "-" else path
            hook = parse_hook_output(
                read_input(path, "hook output"), hook_id=label, platform=args.platform,
                protected=args.protect, sensitive=sensitive, event=args.event,
            )  # fmt: skip
            hook, files = hook_with_env_files(hook, saved, args)
            checked.append((check_report(label, hook, None, files, args.platform), hook))
        if not args.files and saved:  # only env files: a hook that printed nothing
            label = ", ".join(saved)
            hook = parse_hook_output(b"", hook_id=label, platform=args.platform)
            hook, files = hook_with_env_files(hook, saved, args)
            checked.append((check_report(label, hook, None, files, args.platform), hook))
    if args.format == "json":
        reports = [report for report, _ in checked]
        document: Any = reports[0] if len(reports) == 1 else reports
        json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        for report, hook in checked:
            check_text(report, hook, sys.stdout)
    return EXIT_OK if all(hook.ok for _, hook in checked) else EXIT_INVALID


def saved_env_files(args: argparse.Namespace) -> dict[str, bytes]:
    """``--env-file FILE``s: saved env files read as the hook's (path → bytes)."""
    return {path: read_input(path, "--env-file") for path in args.env_file}


def cmd_schema(args: argparse.Namespace) -> int:
    from .schemas import SCHEMA_NAMES, bundled_schema

    if args.name not in SCHEMA_NAMES:
        raise UsageError(f"unknown schema {args.name!r}; one of {', '.join(SCHEMA_NAMES)}")
    json.dump(bundled_schema(args.name), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return EXIT_OK


# -- parser -------------------------------------------------------------------------------


def _add_compose_inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base",
        metavar="FILE",
        help="inherited env as a JSON object file ('-' for stdin); default: this process's env",
    )
    parser.add_argument(
        "--state",
        metavar="FILE",
        help="a saved thread state (envoverlay.dumps): its layers compose first, runtime last",
    )
    parser.add_argument(
        "--hook-output",
        metavar="FILE",
        action="append",
        default=[],
        help="a SessionStart hook's stdout, applied as a hook layer (repeatable, in order)",
    )
    parser.add_argument(
        "--provider",
        metavar="KIND=ARG",
        action="append",
        default=[],
        help="a project environment provider, applied in order: direnv=DIR, venv=DIR, "
        "dotenv=FILE, nix=FILE (nix print-dev-env --json), mise=FILE (mise env --json), "
        "envfile=FILE (a CLAUDE_ENV_FILE, read statically), github-env=FILE, github-path=FILE",
    )
    parser.add_argument(
        "--set",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="a thread override (repeatable)",
    )
    parser.add_argument(
        "--unset", metavar="NAME", action="append", default=[], help="a thread unset (repeatable)"
    )
    parser.add_argument(
        "--protect",
        metavar="NAME",
        action="append",
        default=[],
        help="a name (or glob) only the runtime may change (repeatable)",
    )
    parser.add_argument("--platform", choices=("posix", "windows", "auto"), default="auto")
    parser.add_argument(
        "--secure",
        action="store_true",
        help="reject hook ops on code-injecting variables (sensitive = deny)",
    )
    parser.add_argument("--inherit", choices=("all", "core", "none"), default="all")
    parser.add_argument(
        "--login-shell",
        choices=SHELLS,
        help="exec: run the command through this login shell, re-applying the overlay after "
        "its profile files; explain: show what the shell's profile files change",
    )
    parser.add_argument("--exclude", metavar="GLOB", action="append", default=[])
    parser.add_argument("--include-only", metavar="GLOB", action="append", default=[])
    _add_env_file_options(
        parser, "a saved CLAUDE_ENV_FILE, applied as a hook layer after --hook-output"
    )


def _add_env_file_options(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--env-file", metavar="FILE", action="append", default=[],
        help=f"{what} (shell lines, read statically; repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--evaluate-env-files", action="store_true",
        help="source env files once in bash (with a timeout) instead of reading them "
        "statically: this runs their code, so only for hooks you trust",
    )  # fmt: skip


def _add_codex_options(parser: argparse.ArgumentParser) -> None:
    from .codex_cli import add_codex_options

    add_codex_options(parser)


def _seconds(text: str) -> float:
    """An argparse type: a finite number of seconds above zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of seconds above zero")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="envoverlay",
        description="Compose, explain and check the environment of agent shell commands.",
    )
    commands = parser.add_subparsers(dest="command_name", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    explain = commands.add_parser(
        "explain", help="compose and show each variable's value, source and what it overrode"
    )
    _add_compose_inputs(explain)
    _add_codex_options(explain)
    explain.add_argument("--format", choices=("text", "json"), default="text")
    explain.add_argument("--full", action="store_true", help="do not shorten long values")
    explain.add_argument(
        "--changed", action="store_true", help="list only variables a layer changed"
    )
    explain.set_defaults(handler=cmd_explain)

    check = commands.add_parser(
        "check", help="validate SessionStart hook output (files, stdin, or --run a hook)"
    )
    check.add_argument("files", nargs="*", metavar="FILE", help="hook stdout files ('-' = stdin)")
    check.add_argument("--platform", choices=("posix", "windows", "auto"), default="auto")
    check.add_argument(
        "--secure", action="store_true", help="ops on code-injecting variables are errors"
    )
    check.add_argument(
        "--protect", metavar="NAME", action="append", default=[],
        help="a name (or glob) only the runtime may change (repeatable)",
    )  # fmt: skip
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument(
        "--event", choices=("SessionStart", "SubagentStart"), default="SessionStart",
        help="the hook event whose output schema applies (default SessionStart); a "
        "SubagentStart hook's env belongs to the child thread",
    )  # fmt: skip
    check.add_argument(
        "--run", action="store_true",
        help="run the hook given after '--' with a SessionStart input on stdin, and check its "
        "exit status and stdout",
    )  # fmt: skip
    check.add_argument(
        "--source", choices=("startup", "resume", "clear", "compact", "fork"),
        help="the SessionStart source written to the hook's stdin (with --run; default startup)",
    )  # fmt: skip
    check.add_argument("--cwd", metavar="DIR", help="working directory of the hook (with --run)")
    _add_env_file_options(check, "read a saved CLAUDE_ENV_FILE/CODEX_ENV_FILE as the hook's")
    check.add_argument(
        "--timeout", type=_seconds, metavar="SECONDS",
        help="kill the hook and its children after this long (with --run; default "
        f"{DEFAULT_HOOK_TIMEOUT:g})",
    )  # fmt: skip
    check.set_defaults(handler=cmd_check)

    schema = commands.add_parser("schema", help="print a shipped JSON Schema, self-contained")
    schema.add_argument("name", nargs="?", default="session-start.output")
    schema.set_defaults(handler=cmd_schema)

    run = commands.add_parser(
        "exec",
        help="run a command under the composed env",
        usage="envoverlay exec [options] -- CMD [ARGS...]",
    )
    _add_compose_inputs(run)
    _add_codex_options(run)
    run.add_argument("--strict", action="store_true", help="do not run the command on errors")
    run.set_defaults(handler=cmd_exec)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        # A value holding an undecodable byte (from a non-UTF-8 environment) is printed as an
        # escape, never a crash.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    # Everything after the first '--' is a command to run (exec, check --run), never options.
    command: list[str] = []
    if "--" in arguments:
        split = arguments.index("--")
        arguments, command = arguments[:split], arguments[split + 1 :]
    args = parser.parse_args(arguments)
    args.command = command
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except UsageError as exc:
        sys.stderr.write(f"envoverlay: {exc}\n")
        return EXIT_USAGE
    except EnvOverlayError as exc:
        sys.stderr.write(f"envoverlay: {exc}\n")
        return EXIT_INVALID
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        if os.environ.get("ENVOVERLAY_DEBUG") == "1":
            raise
        sys.stderr.write(
            f"envoverlay: internal error: {type(exc).__name__}: {exc}\n"
            "envoverlay: this is a bug; please report it (ENVOVERLAY_DEBUG=1 shows a traceback)\n"
        )
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
