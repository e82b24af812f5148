"""The ``envoverlay`` command line: a thin shell around the library.

Exit codes: 0 success; 1 the input is invalid (composition or validation errors); 2 usage
or I/O error; 3 an internal error (a bug: please report it); 125 ``exec`` did not run the
command because the composed env has errors. ``exec`` otherwise exits with the command's own
status. No command ever prints a traceback unless ``ENVOVERLAY_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final, NoReturn, TextIO

from . import __version__
from ._jsonio import InputError, load_json, read_file
from ._shells import SHELLS
from .diagnostics import Diagnostic, EnvOverlayError

if TYPE_CHECKING:
    from .composition import ComposeResult, Provenance
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
#: exec: the command was not run because the composed env has errors (as `env` exits 125).
EXIT_REFUSED = 125
#: Every JSON report's "format" is "envoverlay.<command>"; its "version" is this.
REPORT_VERSION: Final = 1

EXIT_CODES: Final = """\
exit codes:
  0    success (warnings allowed)
  1    the input is invalid: composition errors (explain), an invalid hook output (check),
       or warnings under check --strict
  2    usage or I/O error (an unknown flag or value, a missing or unreadable file)
  3    internal error: a bug, please report it
  125  exec: the composed env has errors, so the command was not run (see --keep-going)
  126  exec: the command is not executable; 127: not found
  130  interrupted (Ctrl-C)
exec otherwise exits with the command's own status."""

#: Options of `check` that only a hook run with --run uses.
RUN_ONLY: Final = ("source", "cwd", "timeout")
DEFAULT_HOOK_TIMEOUT: Final = 600.0


class UsageError(Exception):
    """A problem with the command line or its files (exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Every option's help ends with its default, unless the text already says it or there
    is none to say (a switch, a repeatable flag)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default in (None, False, [], argparse.SUPPRESS):
            return text
        return f"{text} (default: %(default)s)"

    def _split_lines(self, text: str, width: int) -> list[str]:
        # Names such as subagent-start.output must not be broken at their hyphens.
        import textwrap

        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


# -- inputs -------------------------------------------------------------------------------


def read_input(path: str, what: str) -> bytes:
    """The bytes of ``path`` (``-`` is stdin), or a UsageError that says what failed."""
    if path == "-":
        if sys.stdin.isatty():  # a newcomer typed the command alone: say why nothing happens
            sys.stderr.write(f"envoverlay: reading {what} from the terminal; end it with Ctrl-D\n")
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
    wrong = [name for name, value in document.items() if not isinstance(value, str)]
    if wrong:
        shown = ", ".join(f"/{name} ({json.dumps(document[name])})" for name in wrong[:5])
        raise UsageError(
            f"--base {path!r}: values are strings, but {len(wrong)} are not: {shown}; "
            f'quote them (e.g. "1") or drop them'
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

    if getattr(args, "runtime", None) == "claude":  # --runtime claude
        return claude_compose(args)
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


def printable(text: str) -> str:
    """``text`` with what a terminal would not show as itself escaped: control characters
    (``\\n``, ``\\x1b``), and bytes that were not UTF-8 (``\\xff``, from a non-UTF-8
    environment) — so a value can neither break the columns nor drive the terminal."""
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char.isprintable():
            out.append(char)
        elif "\udc80" <= char <= "\udcff":  # a byte os.environ could not decode
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        else:
            out.append(char.encode("unicode_escape", "backslashreplace").decode("ascii"))
    return "".join(out)


def _shorten(text: str | None, width: int, full: bool) -> str:
    if text is None:
        return "(unset)"
    text = printable(text)
    if full or len(text) <= width:
        return text
    return text[: width - 1] + "…"


# -- colour: on a terminal only, never in pipes or JSON, off under NO_COLOR ----------------

_STYLES: Final = {"error": "31", "warning": "33", "valid": "32", "invalid": "31", "head": "1"}


def _plain(text: str, _role: str) -> str:
    return text


def _ansi(text: str, role: str) -> str:
    return f"\x1b[{_STYLES[role]}m{text}\x1b[0m"


def painter(mode: str, stream: TextIO) -> Callable[[str, str], str]:
    """How text output is coloured: ``always``, ``never``, or ``auto`` — on a terminal, unless
    ``NO_COLOR`` is set (https://no-color.org) or ``TERM`` is ``dumb``."""
    if mode == "always":
        return _ansi
    if mode == "never" or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return _plain
    isatty = getattr(stream, "isatty", None)
    return _ansi if isatty is not None and isatty() else _plain


def _sorted_names(platform: str, names: Sequence[str]) -> list[str]:
    """Names in the platform's order: code points on posix, the environment-block order
    (case-insensitive) on Windows."""
    if platform == "windows":
        from ._names import windows_sorted

        return windows_sorted(names)
    return sorted(names)


def _provenance_json(provenance: Provenance, show_secrets: bool) -> dict[str, Any]:
    if not show_secrets:
        return provenance.to_json()
    history = []
    for step in provenance.history:
        shown = step.to_json()
        shown["value"] = step.value
        if step.op is not None:
            shown["argument"] = step.op.argument(redact=False)
        history.append(shown)
    return {"value": provenance.value, "source": provenance.source.to_json(), "history": history}


def explain_json(
    result: ComposeResult,
    hooks: Sequence[HookResult | ProviderResult | EnvFileResult],
    *,
    show_secrets: bool = False,
) -> dict[str, Any]:
    """The ``envoverlay.explain`` report (schema ``explain-report``)."""
    diagnostics = [d.to_json() for d in input_diagnostics(hooks, result)]
    diagnostics.extend(d.to_json() for d in result.diagnostics)
    variables = result.variables
    removed = result.removed
    return {
        "format": "envoverlay.explain",
        "version": REPORT_VERSION,
        "platform": result.platform,
        "env": result.env if show_secrets else result.redacted_env(),
        "variables": {
            name: _provenance_json(variables[name], show_secrets)
            for name in _sorted_names(result.platform, list(variables))
        },
        "removed": {
            name: _provenance_json(removed[name], show_secrets)
            for name in _sorted_names(result.platform, list(removed))
        },
        "diagnostics": diagnostics,
    }


def _overrode(provenance: Provenance, show_secrets: bool) -> str | None:
    if not show_secrets:
        return provenance.overridden
    applied = [step for step in provenance.history if step.status == "applied"]
    return applied[-2].value if len(applied) >= 2 else None


def _source_cell(provenance: Provenance) -> str:
    """``kind:id``; when an env file wrote the effective op, its line too: ``kind:id:LINE``
    when the id names the file (``--env-file FILE``, ``--provider envfile=FILE``), else
    ``kind:id at FILE:LINE``."""
    source, origin = provenance.source, provenance.origin
    if origin is None:
        return str(source)
    if source.id == origin.file or source.id.endswith(f":{origin.file}"):
        return f"{source}:{origin.line}"
    return f"{source} at {origin}"


def explain_text(
    result: ComposeResult,
    hooks: Sequence[HookResult | ProviderResult | EnvFileResult],
    out: TextIO,
    *,
    full: bool,
    changed: bool,
    show_secrets: bool = False,
    paint: Callable[[str, str], str] = _plain,
) -> None:
    variables = result.variables
    rows = []
    for name in _sorted_names(result.platform, list(variables)):
        provenance = variables[name]
        if changed and provenance.source.kind == "inherited":
            continue
        overrode = _overrode(provenance, show_secrets)
        value = provenance.value if show_secrets else provenance.shown_value
        rows.append(
            (
                printable(name),
                _shorten(value, 48, full),
                printable(_source_cell(provenance)),
                "" if overrode is None else _shorten(overrode, 32, full),
            )
        )
    header = ("VARIABLE", "VALUE", "SOURCE", "OVERRODE")
    removed = result.removed
    removed_names = _sorted_names(result.platform, list(removed))
    # One first column for the table and the removed section, so the sections line up.
    first = max(len(cell) for cell in [header[0], *(row[0] for row in rows)])
    first = max([first, *(len(printable(name)) + 2 for name in removed_names)])
    widths = [first, *(max(len(row[i]) for row in [header, *rows]) for i in range(1, 4))]
    for index, row in enumerate([header, *rows]):
        line = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        out.write((paint(line, "head") if index == 0 else line) + "\n")
    if removed:
        out.write("\n" + paint("removed:", "head") + "\n")
        for name in removed_names:
            cell = printable(name).ljust(first - 2)
            out.write(f"  {cell}  by {printable(_source_cell(removed[name]))}\n")
    diagnostics = [*input_diagnostics(hooks, result), *result.diagnostics]
    if diagnostics:
        out.write("\n" + paint("diagnostics:", "head") + "\n")
        for diagnostic in diagnostics:
            text = printable(diagnostic.describe())
            severity = diagnostic.severity
            out.write(f"  {text.replace(severity, paint(severity, severity), 1)}\n")
    errors = sum(d.severity == "error" for d in diagnostics)
    total = len(variables)
    shown = f"{len(rows)} of {total} variables changed" if changed else _count(total, "variable")
    out.write(
        f"\n{shown} ({result.platform}), "
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
        report = explain_json(result, hooks, show_secrets=args.show_secrets)
        claude_json(hooks, report)
        if drift is not None:
            report["login_shell"] = {
                "shell": args.login_shell,
                "drift": [d.to_json() for d in drift],
            }
        print_json(report)
    else:
        explain_text(
            result, hooks, sys.stdout, full=args.full, changed=args.changed,
            show_secrets=args.show_secrets, paint=painter(args.color, sys.stdout),
        )  # fmt: skip
        claude_text(hooks, sys.stdout)
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

    command: list[str] | str = args.command
    if args.code is not None:
        if not args.login_shell:
            raise UsageError(
                "-c CODE runs shell code through a login shell: add --login-shell SHELL"
            )
        if command:
            raise UsageError("give either -c CODE or a command after '--', not both")
        command = args.code
    if not command:
        raise UsageError("exec needs a command: envoverlay exec [options] -- CMD [ARGS...]")
    result, hooks = compose_from_args(args)
    problems = [d for d in input_diagnostics(hooks, result) if d.severity == "error"]
    problems.extend(result.errors)
    for diagnostic in problems:
        sys.stderr.write(f"envoverlay: {printable(diagnostic.describe())}\n")
    if problems and not args.keep_going:
        # As `direnv exec` with a blocked .envrc: never run in an env known to be wrong.
        sys.stderr.write(
            "envoverlay: not running the command: the composed env has the errors above; "
            "fix them, or pass --keep-going to run it anyway\n"
        )
        return EXIT_REFUSED
    if args.login_shell:
        try:
            command = login_shell_argv(args.login_shell, result, command)
        except ValueError as exc:
            raise UsageError(f"--login-shell {args.login_shell}: {exc}") from None
    assert not isinstance(command, str)  # shell code runs through --login-shell (above)
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


def _masked(name: str, argument: Any) -> Any:
    """An op's argument as reports show it: ``***`` for a name that looks like a secret's,
    even when the hook did not mark it (as compose() masks it later)."""
    from .ops import REDACTED
    from .secrets import is_secret_name

    if argument is None or not is_secret_name(name):
        return argument
    return [REDACTED] * len(argument) if isinstance(argument, list) else REDACTED


def _masked_overlay(whole: dict[str, object]) -> dict[str, Any]:
    """A normalized overlay (secrets already redacted) with the values of secret-named
    variables masked too."""
    overlay: dict[str, Any] = dict(whole)
    for name, spec in overlay.items():
        if isinstance(spec, dict):
            overlay[name] = {
                key: _masked(name, value)
                if key in ("set", "default", "prepend", "append")
                else value
                for key, value in spec.items()
            }
        else:
            overlay[name] = _masked(name, spec)
    return overlay


def _overlay_summary(layer: Layer) -> list[str]:
    lines = []
    for op in layer.ops:
        argument = _masked(op.name, op.argument())
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

    out = problem_view(diagnostic)
    if "name" not in out:
        name = _pointer_name(out["path"])
        if name is not None:
            out["name"] = name
    return out


def _pointer_name(pointer: str) -> str | None:
    """The variable a JSON pointer into a hook output points at, if it points into the env."""
    prefix = "/hookSpecificOutput/env/"
    if not pointer.startswith(prefix):
        return None
    token = pointer[len(prefix) :].split("/", 1)[0]
    return token.replace("~1", "/").replace("~0", "~")


def print_json(document: object) -> None:
    """A JSON report on stdout, as every command prints one: indented, UTF-8 as is, one
    trailing newline."""
    json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def check_report(
    label: str,
    hook: HookResult,
    stderr: bytes | None = None,
    env_files: Sequence[EnvFileResult] = (),
    platform: str = "auto",
) -> dict[str, Any]:
    """The report of one checked hook output: one entry of the ``envoverlay.check`` report's
    ``results`` (SPEC §6)."""
    report: dict[str, Any] = {
        "file": label,
        "valid": hook.ok,
        "errors": [_problem_json(d) for d in hook.errors],
        "warnings": [_problem_json(d) for d in hook.warnings],
        "overlay": None,
    }
    try:
        whole = _whole_overlay(hook, platform)
        report["overlay"] = None if whole is None else _masked_overlay(whole)
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
    if hook.layer is None or not hook.ok:
        return None
    ops = hook.layer.ops
    if len({op.name for op in ops}) == len(ops):  # one op a variable: the layer's own overlay
        return hook.layer.to_overlay()
    from .envfile import overlay_of  # several ops on one variable are merged into one

    return overlay_of(ops, platform=platform)  # type: ignore[arg-type]


def env_files_json(files: Sequence[EnvFileResult]) -> list[dict[str, Any]]:
    """What each env file a hook wrote published (check's ``env_files``)."""
    from .views import env_file_view

    return [env_file_view(result) for result in files]


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
    if hook.exit_code != 0 or not written:  # a failed hook contributes nothing, env files
        return hook, []  # included; and with no env file there is nothing to read
    from .envfile import attach_env_files
    from .envfile_eval import read_hook_env_files
    from .sources import Source

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


def unreadable_report(
    label: str,
    message: str,
    *,
    code: str = "unreadable",
    hint: str = "check the path and its permissions",
) -> dict[str, Any]:
    """The report of an input that could not be read, or a hook that could not be started
    (exit 2, but still a report)."""
    problem = {"path": "", "code": code, "message": message, "hint": hint}
    return {"file": label, "valid": False, "errors": [problem], "warnings": [], "overlay": None}


def check_document(reports: Sequence[dict[str, Any]], *, strict: bool) -> dict[str, Any]:
    """The ``envoverlay.check`` report: one object for any number of inputs."""
    valid = all(r["valid"] and not (strict and r["warnings"]) for r in reports)
    return {
        "format": "envoverlay.check",
        "version": REPORT_VERSION,
        "valid": valid,
        "strict": strict,
        "results": list(reports),
    }


def check_text(
    report: dict[str, Any],
    hook: HookResult,
    out: TextIO,
    *,
    strict: bool = False,
    paint: Callable[[str, str], str] = _plain,
) -> None:
    label = printable(report["file"])
    for diagnostic in [*hook.errors, *hook.warnings]:
        severity = diagnostic.severity
        line = printable(_pointer_line(diagnostic)).replace(severity, paint(severity, severity), 1)
        out.write(f"{label}: {line}\n")
    if "stderr_tail" in report and (report["stderr_tail"] and not hook.ok):
        out.write(f"{label}: hook stderr (last lines):\n")
        for line in report["stderr_tail"].splitlines():
            out.write(f"    {printable(line)}\n")
    problems = f"{_count(len(hook.errors), 'error')}, {_count(len(hook.warnings), 'warning')}"
    if not hook.ok:
        out.write(f"{label}: {paint('invalid', 'invalid')} ({problems})\n")
        return
    if strict and hook.warnings:
        out.write(f"{label}: {paint('invalid', 'invalid')} under --strict ({problems})\n")
        return
    out.write(f"{label}: {paint('valid', 'valid')}")
    published = env_files_note(report)
    if published:
        out.write(f" ({published})")
    elif hook.layer is None:
        out.write(" (publishes no env)")
    out.write("\n")
    if hook.layer is not None:
        for line in _overlay_summary(hook.layer):
            out.write(f"    {printable(line)}\n")
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

    _check_protect(args.protect)
    if getattr(args, "runtime", None) == "claude":  # check --runtime claude --run
        return claude_check(args)
    sensitive: SensitiveMode = "deny" if args.secure else "warn"
    checked: list[tuple[dict[str, Any], HookResult | None]] = []
    if args.command and not args.run:
        raise UsageError(f"a command after '--' needs --run: {_RUN_EXAMPLE}")
    if not args.run:
        given = [f"--{flag}" for flag in RUN_ONLY if getattr(args, flag) is not None]
        if given:
            raise UsageError(
                f"{' and '.join(given)} only appl{'ies' if len(given) == 1 else 'y'} to a "
                f"hook run with --run: {_RUN_EXAMPLE}"
            )
    unreadable = False
    if args.run:
        command = _hook_command(args, f"--run needs a command: {_RUN_EXAMPLE}")

        import shlex

        from .runner import run_hook_with_env_files

        label = shlex.join(command)
        try:
            outcome, written = run_hook_with_env_files(
                command,
                source=args.source or "startup",
                cwd=args.cwd,
                timeout=DEFAULT_HOOK_TIMEOUT if args.timeout is None else args.timeout,
                event=args.event,
            )
        except OSError as exc:
            # Like an unreadable FILE: a usage error (exit 2) that still gets its report.
            unreadable = True
            message = _start_failure(exc, command[0], args.cwd)
            sys.stderr.write(f"envoverlay: {message}\n")
            hint = "check the command's path and that it is executable"
            report = unreadable_report(label, message, code="hook-not-started", hint=hint)
            checked.append((report, None))
        else:
            hook = outcome.to_result(
                hook_id=command[0], platform=args.platform, protected=args.protect,
                sensitive=sensitive, event=args.event,
            )  # fmt: skip
            written.update(saved_env_files(args))
            hook, files = hook_with_env_files(hook, written, args)
            report = check_report(label, hook, outcome.stderr, files, args.platform)
            checked.append((report, hook))
    else:
        saved = saved_env_files(args)
        if saved and len(args.files) > 1:
            raise UsageError("--env-file belongs to one hook: pass at most one hook output FILE")
        for path in args.files or (["-"] if not saved else []):
            label = "<stdin>" if path == "-" else path
            try:
                data = read_input(path, "hook output")
            except UsageError as exc:
                # A missing file is an I/O error (exit 2), but the other inputs are still
                # checked and a JSON report is still printed.
                unreadable = True
                sys.stderr.write(f"envoverlay: {exc}\n")
                checked.append((unreadable_report(label, str(exc)), None))
                continue
            hook = parse_hook_output(
                data, hook_id=label, platform=args.platform,
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
        document = check_document([report for report, _ in checked], strict=args.strict)
        print_json(document)
    else:
        paint = painter(args.color, sys.stdout)
        for report, result in checked:
            if result is not None:
                check_text(report, result, sys.stdout, strict=args.strict, paint=paint)
    if unreadable:
        return EXIT_USAGE
    failed = [
        result
        for _, result in checked
        if result is not None and (not result.ok or (args.strict and result.warnings))
    ]
    return EXIT_INVALID if failed else EXIT_OK


#: How to run a hook with check, as usage errors show it.
_RUN_EXAMPLE: Final = "envoverlay check --run -- CMD [ARGS...]"
_CLAUDE_RUN_USAGE: Final = (
    "--runtime claude checks a hook by running it: envoverlay check --runtime claude --run -- "
    "CMD [ARGS...]"
)


def _hook_command(args: argparse.Namespace, missing: str) -> list[str]:
    """The hook command of ``check --run`` (either runtime), after the checks both make: a
    command after ``--`` (else the usage error ``missing``), no FILEs besides it, and a
    ``--cwd`` that is a directory."""
    if not args.command:
        raise UsageError(missing)
    if args.files:
        raise UsageError("pass either FILEs or --run, not both")
    if args.cwd is not None and not os.path.isdir(args.cwd):
        raise UsageError(f"--cwd {args.cwd!r} is not a directory")
    return list(args.command)


def _start_failure(exc: OSError, program: str, cwd: str | None) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"--run: hook command not found: {program}"
    if isinstance(exc, PermissionError):
        return f"--run: hook command is not executable: {program}"
    if isinstance(exc, NotADirectoryError):
        return f"--run: --cwd {cwd!r} is not a directory"
    return f"--run: hook command could not be started: {program}: {exc.strerror or exc}"


def saved_env_files(args: argparse.Namespace) -> dict[str, bytes]:
    """``--env-file FILE``s: saved env files read as the hook's (path → bytes)."""
    return {path: read_input(path, "--env-file") for path in args.env_file}


def cmd_emit(args: argparse.Namespace) -> int:
    """``envoverlay emit``: an overlay or hook output file in another runtime's format."""
    from ._names import resolve_platform
    from .emit import emit_overlay, read_document

    if args.github_path is not None and args.target != "github-env":
        raise UsageError("--github-path goes with --format github-env (it would do nothing)")
    path = args.file or "-"
    data = read_input(path, "emit input")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"emit input {path!r} is not UTF-8 (byte {exc.start})") from None
    platform = resolve_platform(args.platform)
    label = "stdin" if path == "-" else path
    layer, found = read_document(text, label=label, platform=platform)
    errors = [d for d in found if d.severity == "error"]
    warnings = [d for d in found if d.severity == "warning"]
    out_text = path_text = ""
    if layer is not None:
        emitted = emit_overlay(layer, args.target, platform=platform)
        errors.extend(emitted.errors)
        warnings.extend(emitted.warnings)
        out_text, path_text = emitted.text, emitted.github_path
        if path_text and args.github_path is None:
            errors.append(
                Diagnostic(
                    "error",
                    "emit-unsupported",
                    "PATH",
                    layer.source,
                    "PATH prepends go to GITHUB_PATH, and no file was given for it",
                    'pass --github-path "$GITHUB_PATH"',
                )
            )
    if errors:
        out_text = path_text = ""
    elif path_text:
        try:
            with open(args.github_path, "a", encoding="utf-8", newline="") as handle:
                handle.write(path_text)
        except OSError as exc:
            raise UsageError(f"--github-path {args.github_path!r}: {exc.strerror}") from None
    if args.report == "json":
        report = {
            "format": "envoverlay.emit",
            "version": 1,
            "target": args.target,
            "ok": not errors,
            "text": out_text,
            "github_path": path_text,
            "errors": [d.to_json() for d in errors],
            "warnings": [d.to_json() for d in warnings],
        }
        print_json(report)
    else:
        sys.stdout.write(out_text)
        for diagnostic in errors + warnings:
            sys.stderr.write(f"envoverlay: {diagnostic.describe()}\n")
    return EXIT_INVALID if errors else EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from .schemas import SCHEMA_NAMES, bundled_schema

    if args.name not in SCHEMA_NAMES:
        raise UsageError(f"unknown schema {args.name!r}; one of {', '.join(SCHEMA_NAMES)}")
    print_json(bundled_schema(args.name))
    return EXIT_OK


# -- Claude Code runtime (--runtime claude; envoverlay.claude) ------------------------------

#: Options of explain/exec that --runtime claude replaces with the session it reads.
CLAUDE_UNUSED: Final = (
    "state", "hook_output", "provider", "set", "unset", "login_shell", "codex_home", "codex_bin",
    "codex_profile", "codex_config", "strict_config", "cd", "no_hooks", "no_login_snapshot",
)  # fmt: skip


def claude_compose(args: argparse.Namespace) -> tuple[ComposeResult, list[Any]]:
    """explain/exec --runtime claude: predict a Bash command's env in a Claude Code session
    (the prediction carries its findings, as a hook result does)."""
    from .claude import predict
    from .claude_session import load_session

    given = [f"--{name.replace('_', '-')}" for name in CLAUDE_UNUSED if getattr(args, name, None)]
    if given:
        raise UsageError(
            f"{', '.join(given)} cannot be combined with --runtime claude: the session's "
            "settings and env files are the inputs"
        )
    _check_protect(args.protect)
    base, base_id = load_base(args.base)
    try:
        session = load_session(config_dir=args.config_dir, session_id=args.session, environ=base)
        prediction = predict(
            session, base, platform=args.platform, protected=args.protect,
            sensitive="deny" if args.secure else "warn", base_id=base_id,
        )  # fmt: skip
    except EnvOverlayError as exc:
        raise UsageError(f"--runtime claude: {exc}") from None
    return prediction.result, [prediction]


def claude_json(inputs: Sequence[Any], report: dict[str, Any]) -> None:
    """Add the Claude Code session's details to an explain report (if it has one)."""
    from .claude import CLAUDE_VERSION, ClaudePrediction, env_file_hooks

    for item in inputs:
        if isinstance(item, ClaudePrediction):
            report["runtime"] = {
                "name": "claude", "version": CLAUDE_VERSION,
                "config_dir": item.session.config_dir, "session_id": item.session.session_id,
                "per_run": list(item.per_run), "files": [f.to_json() for f in item.files],
                "hooks": [
                    {"event": hook.event, "command": hook.command, "settings": hook.settings,
                     "files": files}
                    for hook, files in env_file_hooks(item.session.settings)
                ],
            }  # fmt: skip


def claude_text(inputs: Sequence[Any], out: TextIO) -> None:
    """The session's env files and the variables Claude Code sets per run (text explain)."""
    if not any(hasattr(item, "per_run") for item in inputs):  # not --runtime claude
        return
    from .claude import ClaudePrediction, env_file_hooks

    for item in inputs:
        if not isinstance(item, ClaudePrediction):
            continue
        out.write(f"\nClaude Code session {item.session.session_id} ({item.session.folder}):\n")
        for hook, files in env_file_hooks(item.session.settings):
            names = set(files.values())
            where = (
                names.pop()
                if len(names) == 1
                else ", ".join(f"{value}: {name}" for value, name in files.items())
            )
            out.write(f"  hook {_shorten(hook.command, 40, False)} ({hook.event}) writes {where}\n")
        if not item.files:
            out.write("  no env files\n")
        for report in item.files:
            out.write(f"  {report.file.path}: {report.status}\n")
            if report.layer is not None:
                for line, read, op in zip(
                    report.lines, report.read, report.layer.ops, strict=False
                ):
                    applied = "" if read == op else f" (re-run, it gives {op.describe()})"
                    out.write(f"      line {line}: {op.name} {read.describe()}{applied}\n")
            if report.powershell:
                out.write(f"      PowerShell would drop it ({report.powershell})\n")
        out.write(
            "  set by Claude Code with a new value each run (not predicted): "
            f"{', '.join(item.per_run)}\n"
        )


def claude_check(args: argparse.Namespace) -> int:
    """check --runtime claude --run -- HOOK: run the hook as Claude Code 2.1 does and report
    what Claude Code would publish and ignore."""
    import shlex

    from .claude_session import run_claude_hook

    if not args.run:
        raise UsageError(_CLAUDE_RUN_USAGE)
    command = _hook_command(args, _CLAUDE_RUN_USAGE)
    try:
        outcome = run_claude_hook(
            command, source=args.source or "startup", config_dir=args.config_dir,
            session_id=args.session, cwd=args.cwd, platform=args.platform,
            protected=args.protect, sensitive="deny" if args.secure else "warn",
            timeout=DEFAULT_HOOK_TIMEOUT if args.timeout is None else args.timeout,
        )  # fmt: skip
    except OSError as exc:
        raise UsageError(_start_failure(exc, command[0], args.cwd)) from None
    hook = outcome.result
    report = check_report(shlex.join(command), hook, outcome.run.stderr)
    report["runtime"] = {
        "name": "claude", "stdin": dict(outcome.stdin), "env_file": outcome.env_file.path,
        "env_file_text": outcome.env_file.text,
    }  # fmt: skip
    if args.format == "json":
        document = check_document([report], strict=args.strict)
        print_json(document)
    else:
        check_text(report, hook, sys.stdout, strict=args.strict)
        lines = len(outcome.env_file.text.splitlines())
        if hook.layer is not None:
            names = {op.name for op in hook.layer.ops}
            what = f"publishes env via CLAUDE_ENV_FILE ({_count(len(names), 'variable')})"
        elif lines:
            what = f"wrote {_count(lines, 'line')} to CLAUDE_ENV_FILE that envoverlay cannot read"
        else:
            what = "wrote nothing to CLAUDE_ENV_FILE"
        where = outcome.env_file.path if args.config_dir else "a throwaway config dir, removed"
        sys.stdout.write(
            f"    Claude Code: {what}; it runs that file before every Bash command ({where})\n"
        )
    return EXIT_OK if hook.ok else EXIT_INVALID


def _add_claude_runtime(parser: argparse.ArgumentParser, *, runtime_flag: bool = False) -> None:
    """The options of --runtime claude (explain, exec, check); ``runtime_flag`` adds
    ``--runtime`` itself where no other runtime's options do (check)."""
    if runtime_flag:
        parser.add_argument(
            "--runtime", choices=("claude",),
            help="run the hook as that agent runtime does (claude: Claude Code 2.1)",
        )  # fmt: skip
    parser.add_argument(
        "--config-dir", metavar="DIR",
        help="Claude Code's config dir (default: $CLAUDE_CONFIG_DIR, else ~/.claude)",
    )  # fmt: skip
    parser.add_argument(
        "--session", metavar="ID",
        help="the Claude Code session id (default: the current project's session whose env "
        "folder changed last)",
    )  # fmt: skip


def cmd_completion(args: argparse.Namespace) -> int:
    sys.stdout.write(completion_script(args.shell, build_parser()))
    return EXIT_OK


# -- shell completion: generated from the parser, so it never drifts from the flags --------


def _options(sub: argparse.ArgumentParser) -> list[argparse.Action]:
    return [action for action in sub._actions if action.option_strings]


def _words(action: argparse.Action) -> list[str]:
    """The words an argument completes to: its choices, or the names it accepts."""
    words: Iterable[object] = action.choices or getattr(action, "completions", None) or ()
    return [str(word) for word in words]


def _takes_file(action: argparse.Action) -> bool:
    return action.metavar in ("FILE", "DIR") or action.dest == "files"


def completion_script(shell: str, parser: argparse.ArgumentParser) -> str:
    """A completion script for ``shell`` (bash, zsh or fish) built from ``parser``."""
    commands = _commands(parser)
    if shell == "fish":
        return _fish_completion(commands)
    script = _bash_completion(commands)
    if shell == "zsh":  # zsh runs bash completion functions through bashcompinit
        script = (
            "#compdef envoverlay\n"
            "autoload -U +X compinit && compinit\n"
            "autoload -U +X bashcompinit && bashcompinit\n" + script
        )
    return script


def _bash_completion(commands: dict[str, argparse.ArgumentParser]) -> str:
    lines = [
        '# envoverlay completion for bash: eval "$(envoverlay completion bash)"',
        "_envoverlay() {",
        '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
        '  local cmd="" i',
        "  for ((i = 1; i < COMP_CWORD; i++)); do",
        '    case "${COMP_WORDS[i]}" in',
        "      --) return 0 ;;",
        "      -*) ;;",
        '      *) cmd="${COMP_WORDS[i]}"; break ;;',
        "    esac",
        "  done",
        '  case "$cmd" in',
        f'    "") COMPREPLY=($(compgen -W "{" ".join(commands)} --help --version" -- "$cur"))'
        " ; return 0 ;;",
    ]
    for name, sub in commands.items():
        flags = " ".join(flag for action in _options(sub) for flag in action.option_strings)
        values = []
        for action in _options(sub):
            pattern = "|".join(action.option_strings)
            if action.choices:
                words = " ".join(map(str, action.choices))
                values.append(f'        {pattern}) COMPREPLY=($(compgen -W "{words}" -- "$cur"))'
                              " ; return 0 ;;")  # fmt: skip
            elif _takes_file(action):
                values.append(
                    f'        {pattern}) COMPREPLY=($(compgen -f -- "$cur")) ; return 0 ;;'
                )
            elif action.nargs != 0:
                values.append(f"        {pattern}) return 0 ;;")
        positional = [a for a in sub._actions if not a.option_strings and a.dest != "help"]
        words = " ".join(str(c) for a in positional for c in _words(a))
        lines += [
            f"    {name})",
            '      case "$prev" in',
            *values,
            "      esac",
            '      if [[ "$cur" == -* ]]; then',
            f'        COMPREPLY=($(compgen -W "{flags}" -- "$cur"))',
            *(
                [f'      else COMPREPLY=($(compgen -W "{words}" -- "$cur"))']
                if words
                else ['      else COMPREPLY=($(compgen -f -- "$cur"))']
            ),
            "      fi ;;",
        ]
    lines += ["  esac", "}", "complete -F _envoverlay envoverlay", ""]
    return "\n".join(lines)


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish_completion(commands: dict[str, argparse.ArgumentParser]) -> str:
    names = " ".join(commands)
    lines = [
        "# envoverlay completion for fish: envoverlay completion fish | source",
        "complete -c envoverlay -f",
        "complete -c envoverlay -n __fish_use_subcommand -l version -d 'print the version'",
    ]
    for name, sub in commands.items():
        lines.append(
            f"complete -c envoverlay -n __fish_use_subcommand -a {name} "
            f"-d {_fish_quote(sub.description or name)}"
        )
        when = f"-n '__fish_seen_subcommand_from {name}'"
        for action in _options(sub):
            parts = [f"complete -c envoverlay {when}"]
            for flag in action.option_strings:
                parts.append(f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}")
            if action.choices:
                parts.append(f"-x -a {_fish_quote(' '.join(map(str, action.choices)))}")
            elif _takes_file(action):
                parts.append("-r -F")
            elif action.nargs != 0:
                parts.append("-x")
            parts.append(f"-d {_fish_quote((action.help or '').split(' (')[0][:60])}")
            lines.append(" ".join(parts))
        for action in sub._actions:
            if not action.option_strings and _words(action):
                words = _fish_quote(" ".join(map(str, _words(action))))
                lines.append(f"complete -c envoverlay {when} -x -a {words}")
            elif not action.option_strings and _takes_file(action):
                lines.append(f"complete -c envoverlay {when} -F")
    del names
    return "\n".join(lines) + "\n"


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
        type=_provider_spec,
        help="a project environment provider, applied in order: direnv=DIR, venv=DIR, "
        "dotenv=FILE, nix=FILE (nix print-dev-env --json), mise=DIR (runs mise env --json) "
        "or mise=FILE (a saved one), "
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
    _add_policy_options(parser)
    _add_platform(parser)
    parser.add_argument(
        "--inherit",
        choices=("all", "core", "none"),
        default="all",
        help="which inherited variables to keep before any op: all, core (HOME, PATH, ...) or none",
    )
    parser.add_argument(
        "--login-shell",
        choices=SHELLS,
        help="exec: run the command through this login shell, re-applying the overlay after "
        "its profile files; explain: show what the shell's profile files change",
    )
    parser.add_argument(
        "--exclude",
        metavar="GLOB",
        action="append",
        default=[],
        help="drop inherited names matching GLOB (repeatable; * and ?, case-insensitive)",
    )
    parser.add_argument(
        "--include-only",
        metavar="GLOB",
        action="append",
        default=[],
        help="keep only inherited names matching one of these GLOBs (repeatable)",
    )
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


def _add_policy_options(parser: argparse.ArgumentParser) -> None:
    """--protect and --secure: the names only the runtime may change, and the sensitive mode
    (explain, exec and check judge hook ops alike)."""
    parser.add_argument(
        "--protect", metavar="NAME", action="append", default=[],
        help="a name (or glob) only the runtime may change (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--secure", action="store_true",
        help="hook and provider ops on code-injecting variables are errors, not applied "
        "(sensitive = deny; default: warn)",
    )  # fmt: skip


def _add_platform(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--platform",
        choices=("posix", "windows", "auto"),
        default="auto",
        help="whose name, path-list and size rules apply (auto: the running OS)",
    )


def _add_output_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text for people; json is a report valid under the shipped schema",
    )
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour text output: auto = on a terminal, unless NO_COLOR is set (JSON never)",
    )


def _provider_spec(text: str) -> str:
    """An argparse type: ``KIND=ARG`` with a known KIND (checked without running it)."""
    from .providers import PROVIDER_KINDS

    kind, sep, arg = text.partition("=")
    if not sep or not arg or kind not in PROVIDER_KINDS:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give KIND=ARG with KIND one of {', '.join(PROVIDER_KINDS)} "
            "(e.g. venv=.venv)"
        )
    return text


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
        epilog=EXIT_CODES,
        formatter_class=_HelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}",
        help="print the version and exit",
    )  # fmt: skip
    commands = parser.add_subparsers(
        dest="command_name", metavar="COMMAND", parser_class=_Parser, title="commands"
    )

    def command(name: str, summary: str, **kwargs: Any) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name, help=summary, description=summary, epilog=EXIT_CODES,
            formatter_class=_HelpFormatter, **kwargs,
        )  # fmt: skip
        sub.set_defaults(subparser=sub)
        return sub

    explain = command(
        "explain", "compose and show each variable's value, source and what it overrode"
    )
    _add_compose_inputs(explain)
    _add_codex_options(explain)
    _add_claude_runtime(explain)
    _add_output_format(explain)
    explain.add_argument(
        "--full", action="store_true", help="do not shorten long values (default: cut at 48)"
    )
    explain.add_argument(
        "--changed", action="store_true", help="list only variables a layer changed"
    )
    explain.add_argument(
        "--show-secrets",
        action="store_true",
        help="show secret values (marked secret, or named like *TOKEN*, *SECRET*, *PASSWORD*, "
        "*KEY*, *CREDENTIAL*, *WEBHOOK*) instead of *** (default: masked)",
    )
    explain.set_defaults(handler=cmd_explain)

    check = command("check", "validate SessionStart hook output (files, stdin, or --run a hook)")
    check.add_argument(
        "files", nargs="*", metavar="FILE", help="hook stdout files (default: stdin, or '-')"
    )
    _add_platform(check)
    _add_policy_options(check)
    check.add_argument(
        "--strict", action="store_true",
        help="warnings fail the check too (exit 1): the CI gate (default: only errors fail)",
    )  # fmt: skip
    _add_output_format(check)
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
    check.add_argument(
        "--cwd", metavar="DIR",
        help="working directory of the hook (with --run; default: the current directory)",
    )  # fmt: skip
    _add_env_file_options(check, "read a saved CLAUDE_ENV_FILE/CODEX_ENV_FILE as the hook's")
    check.add_argument(
        "--timeout", type=_seconds, metavar="SECONDS",
        help="kill the hook and its children after this long (with --run; default "
        f"{DEFAULT_HOOK_TIMEOUT:g})",
    )  # fmt: skip
    _add_claude_runtime(check, runtime_flag=True)
    check.set_defaults(handler=cmd_check)

    emit = command(
        "emit",
        "write an overlay or hook output as a CLAUDE_ENV_FILE script, GITHUB_ENV records "
        "or a Codex set table",
    )
    emit.add_argument(
        "file", nargs="?", metavar="FILE",
        help="an overlay or hook output JSON file (default: stdin)",
    )  # fmt: skip
    emit.add_argument(
        "--format", dest="target", required=True,
        choices=("claude-env-file", "github-env", "codex-set"),
        help="claude-env-file (also CODEX_ENV_FILE), github-env, or codex-set",
    )  # fmt: skip
    emit.add_argument(
        "--github-path", metavar="FILE",
        help="github-env: append PATH prepends to this file (\"$GITHUB_PATH\")",
    )  # fmt: skip
    _add_platform(emit)
    emit.add_argument(
        "--report", choices=("text", "json"), default="text",
        help="text: the output on stdout, problems on stderr; json: an envoverlay.emit report",
    )  # fmt: skip
    emit.set_defaults(handler=cmd_emit)

    from .schemas import DEFAULT_SCHEMA, SCHEMA_NAMES

    schema = command("schema", "print a shipped JSON Schema, self-contained")
    name = schema.add_argument(
        "name", nargs="?", default=DEFAULT_SCHEMA, metavar="NAME",
        help=f"one of: {', '.join(SCHEMA_NAMES)}",
    )  # fmt: skip
    name.completions = SCHEMA_NAMES  # type: ignore[attr-defined]  # checked by cmd_schema
    schema.set_defaults(handler=cmd_schema)

    run = command(
        "exec",
        "run a command under the composed env",
        usage="envoverlay exec [options] -- CMD [ARGS...]\n"
        "       envoverlay exec [options] --login-shell SHELL -c CODE",
    )
    _add_compose_inputs(run)
    _add_codex_options(run)
    _add_claude_runtime(run)
    run.add_argument(
        "-c", dest="code", metavar="CODE",
        help="shell code to run through --login-shell SHELL, instead of a command after '--'",
    )  # fmt: skip
    run.add_argument(
        "--keep-going", action="store_true",
        help="run the command even when the composed env has errors (default: exit 125)",
    )  # fmt: skip
    run.add_argument(
        "--strict", action="store_true",
        help="kept for old scripts: not running on errors is now the default",
    )  # fmt: skip
    run.set_defaults(handler=cmd_exec)

    completion = command("completion", "print a shell completion script for bash, zsh or fish")
    completion.add_argument("shell", choices=("bash", "zsh", "fish"), help="the shell")
    completion.set_defaults(handler=cmd_completion)
    return parser


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _report_extras(
    parser: argparse.ArgumentParser, args: argparse.Namespace, extras: list[str]
) -> NoReturn:
    """Arguments no option took: reported by the subcommand's own parser (its usage line)."""
    sub: argparse.ArgumentParser = getattr(args, "subparser", parser)
    if args.command_name == "exec" and not extras[0].startswith("-"):
        import shlex

        sub.error(f"put the command after '--': envoverlay exec [options] -- {shlex.join(extras)}")
    sub.error(f"unrecognized arguments: {' '.join(extras)}")


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
    args, extras = parser.parse_known_args(arguments)
    if args.command_name is None:
        if extras:
            parser.error(f"unrecognized arguments: {' '.join(extras)}")
        parser.print_help(sys.stdout)
        return EXIT_OK
    if extras:
        _report_extras(parser, args, extras)
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
