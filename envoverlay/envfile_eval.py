"""Evaluating an env file (opt-in, SPEC §3a): run it once in bash and keep the env diff.

The static reader (:mod:`envoverlay.envfile`) executes nothing and refuses what it cannot
read. A caller that already trusts a hook can instead have its file sourced **once** by
``bash --noprofile --norc`` over the env composed so far; the difference between the
exported env before and after becomes the ops (:func:`envoverlay.diff.env_diff`, the same
rules as every other env diff). What a sourced file can leave behind that no environment can
carry — shell functions, aliases, unexported variables — is reported by name as not
representable, never silently dropped. The file runs in its own process group with a
timeout (:func:`envoverlay.runner.run_in_process_group`); on timeout, or a signal, the whole
group is killed and the file contributes nothing.

This is a shell-side module: it runs a program. Nothing here runs unless a caller asks for
it (``evaluate=True``, ``--evaluate-env-files``).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import attrs

from ._names import PlatformArg, resolve_platform
from .diagnostics import Diagnostic
from .diff import env_diff
from .envfile import EnvFileResult, read_shell_env_file
from .hooks import MAX_OUTPUT_BYTES
from .ops import Op
from .runner import run_in_process_group
from .secrets import DEFAULT_SECRET_NAMES, SecretNames
from .sources import Source

DEFAULT_TIMEOUT: Final = 10.0
#: Tools' own bookkeeping left out of an evaluated diff besides :data:`diff.IGNORED_NAMES`.
IGNORED_PREFIXES: Final = ("DIRENV_", "__MISE_", "__envoverlay_")
#: Variables bash itself sets or changes in any script (never the file's doing).
_BASH_OWN: Final = re.compile(
    r"(BASH.*|COLUMNS|LINES|FUNCNAME|GROUPS|PIPESTATUS|OPTERR|OPTIND|PPID|RANDOM|SECONDS|"
    r"SRANDOM|LINENO|EPOCH.*|HISTCMD|_|__envoverlay_.*)\Z"
)

# The driver: dump the exported env and the shell's names, source the file (stdin closed,
# stdout/stderr kept apart from the dumps), dump again. Only builtins run after the file,
# so a PATH the file breaks cannot break the dump.
_DUMP: Final = r"""
__envoverlay_dump() {
  builtin local __envoverlay_n
  for __envoverlay_n in $(builtin compgen -e); do
    builtin printf '%s=%s\0' "$__envoverlay_n" "${!__envoverlay_n}"
  done > "$__envoverlay_dir/env.$1"
  builtin compgen -v > "$__envoverlay_dir/vars.$1"
  builtin compgen -A function > "$__envoverlay_dir/functions.$1"
  builtin compgen -a > "$__envoverlay_dir/aliases.$1"
}
"""
# The dump function is defined again after the file, which may have redefined it.
_DRIVER: Final = (
    "builtin readonly __envoverlay_dir __envoverlay_file\n"
    + _DUMP
    + """__envoverlay_dump before
. "$__envoverlay_file" < /dev/null > "$__envoverlay_dir/stdout" 2> "$__envoverlay_dir/stderr"
__envoverlay_status=$?
"""
    + _DUMP
    + """__envoverlay_dump after
builtin printf '%s' "$__envoverlay_status" > "$__envoverlay_dir/status"
"""
)
#: Exported into the bash run: a dump without it did not work (never diff a broken dump).
_MARKER: Final = "__envoverlay_dir"


def evaluate_env_file(
    path: str | os.PathLike[str],
    env: Mapping[str, str],
    *,
    platform: PlatformArg = "auto",
    label: str | None = None,
    source: Source | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    bash: str | None = None,
    secrets: SecretNames = DEFAULT_SECRET_NAMES,
) -> EnvFileResult:
    """Source the shell env file at ``path`` once in bash over ``env`` and return the env
    diff as its ops. Never raises for anything the file does: a timeout, a missing bash or
    a file that exits are errors in the result (and then it contributes nothing)."""
    plat = resolve_platform(platform)
    shown = label or str(path)
    program = bash or shutil.which("bash")

    def failed(code: str, message: str, hint: str) -> EnvFileResult:
        found = Diagnostic("error", code, None, source, message, hint=hint, pointer=shown)
        return EnvFileResult(shown, "shell", errors=(found,), method="evaluated")

    if program is None:
        return failed("env-file-failed", "bash is not installed", "install bash")
    with tempfile.TemporaryDirectory(prefix="envoverlay-eval-") as scratch:
        child_env = {
            **env,
            "__envoverlay_dir": scratch,
            "__envoverlay_file": os.fspath(Path(path).absolute()),
        }
        command = [program, "--noprofile", "--norc", "-c", _DRIVER]
        try:
            # Its own process group, killed whole on the timeout and on SIGINT/SIGTERM/SIGHUP;
            # its output goes to the null device, as background processes the file starts
            # may hold bash's own stdout. What bash leaves in its group is killed too.
            run = run_in_process_group(
                command, env=child_env, timeout=timeout, capture=False, kill_leftovers=True
            )
        except OSError as exc:
            return failed("env-file-failed", f"bash could not be started: {exc}", "install bash")
        why = run.stopped(timeout)
        if why is not None:  # the timeout, or a signal the caller's handler took
            return failed(
                "env-file-timeout" if run.timed_out else "env-file-failed",
                f"evaluating {shown} {why}; it and every process it started were killed, and "
                "nothing of it applies",
                "remove the loop or the command that waits, or write the env as JSON"
                if run.timed_out
                else "evaluate the file again",
            )
        folder = Path(scratch)
        status = _read(folder / "status")
        if status is None:
            return failed(
                "env-file-failed",
                f"{shown} ended the shell that sourced it (exit, exec or a fatal error) with "
                f"status {run.returncode}; nothing of it applies",
                "remove `exit`/`exec` from the file: it is sourced before every command",
            )
        if any(_MARKER not in _env(folder / f"env.{when}") for when in ("before", "after")):
            return failed(
                "env-file-failed",
                f"the environment after sourcing {shown} could not be read (does it redefine "
                "`builtin`?); nothing of it applies",
                "do not redefine shell builtins in an env file",
            )
        return _result(folder, shown, plat, source, secrets, status, stray=run.leftovers_killed)


def _result(
    folder: Path,
    label: str,
    platform: PlatformArg,
    source: Source | None,
    secrets: SecretNames,
    status: str,
    *,
    stray: bool,
) -> EnvFileResult:
    before = _env(folder / "env.before")
    after = _env(folder / "env.after")
    ignored = [n for n in {*before, *after} if n.startswith(IGNORED_PREFIXES)]
    ops = env_diff(before, after, platform=platform, ignore=ignored)
    ops = [_secret(op, secrets) for op in ops]
    warnings = []

    def warn(code: str, name: str | None, message: str, hint: str) -> None:
        warnings.append(Diagnostic("warning", code, name, source, message, hint, label))

    new_vars = _names(folder / "vars.after") - _names(folder / "vars.before")
    leftovers = sorted(
        n
        for n in new_vars - set(after)
        if not _BASH_OWN.match(n) and not n.startswith(IGNORED_PREFIXES)
    )
    for kind, names, why in (
        ("function", _names(folder / "functions.after") - _names(folder / "functions.before"),
         "a function is shell code: an environment cannot carry it"),
        ("alias", _names(folder / "aliases.after") - _names(folder / "aliases.before"),
         "an alias is shell code: an environment cannot carry it"),
        ("unexported variable", set(leftovers),
         "no command would see it: it was never exported"),
    ):  # fmt: skip
        for name in sorted(names):
            warn(
                "env-file-not-representable",
                name,
                f"evaluating {label} left the {kind} {name} behind; {why}, so it is not applied",
                "export what commands need; tools that need shell functions (e.g. "
                "`mise activate`) should publish their env (`mise env --json`) instead",
            )
    if stray:
        warn(
            "env-file-not-representable",
            None,
            f"sourcing {label} left background processes running; they were killed",
            "do not start processes from an env file: it is sourced before every command",
        )
    if status not in ("", "0"):
        stderr = (_read(folder / "stderr") or "").strip().splitlines()
        tail = f": {stderr[-1]}" if stderr else ""
        warn(
            "env-file-failed",
            None,
            f"sourcing {label} ended with status {status}{tail}; the env it left is used",
            "make the file's last command succeed",
        )
    return EnvFileResult(label, "shell", tuple(ops), (), (), tuple(warnings), method="evaluated")


def _secret(op: Op, secrets: SecretNames) -> Op:
    if op.action == "unset" or op.secret or not secrets.matches(op.name):
        return op
    return attrs.evolve(op, secret=True)


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        return None


def _env(path: Path) -> dict[str, str]:
    text = _read(path) or ""
    out = {}
    for item in text.split("\0"):
        name, sep, value = item.partition("=")
        if sep:
            out[name] = value
    return out


def _names(path: Path) -> set[str]:
    return set((_read(path) or "").split())


def read_env_bytes(
    data: bytes,
    env: Mapping[str, str],
    *,
    label: str,
    evaluate: bool = False,
    platform: PlatformArg = "auto",
    source: Source | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    origins: Mapping[str, str] | None = None,
) -> EnvFileResult:
    """A shell env file's bytes read statically over ``env`` or, with ``evaluate=True``,
    evaluated once in bash. Bytes that are not UTF-8, or more of them than a hook's whole
    stdout may hold, are an error of the file."""
    if len(data) > MAX_OUTPUT_BYTES:
        found = Diagnostic(
            "error", "too-large", None, source,
            f"line 1: the file is {len(data)} bytes; at most {MAX_OUTPUT_BYTES} are read",
            hint="publish the env, not data: write large data to a file and its path to the env",
            pointer=f"{label}:1",
        )  # fmt: skip
        return EnvFileResult(label, "shell", errors=(found,))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        found = Diagnostic(
            "error", "env-file-syntax", None, source,
            f"line {line}: the file is not UTF-8 (byte {exc.start}: {exc.reason})",
            hint="write the file as UTF-8 text", pointer=f"{label}:{line}",
        )  # fmt: skip
        return EnvFileResult(label, "shell", errors=(found,))
    if not evaluate:
        return read_shell_env_file(
            text, env, platform=platform, label=label, source=source, origins=origins
        )
    with tempfile.TemporaryDirectory(prefix="envoverlay-envfile-") as folder:
        path = Path(folder) / "env.sh"
        path.write_bytes(data)
        return evaluate_env_file(
            path, env, platform=platform, label=label, source=source, timeout=timeout
        )


def read_hook_env_files(
    written: Mapping[str, bytes],
    env: Mapping[str, str],
    *,
    evaluate: bool = False,
    platform: PlatformArg = "auto",
    source: Source | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    origins: Mapping[str, str] | None = None,
) -> list[EnvFileResult]:
    """The env files a hook wrote (variable → bytes, as the hook runner returns them), each
    read over the env the previous ones leave; files holding only whitespace are skipped,
    as Claude Code skips them."""
    from .composition import compose

    plat = resolve_platform(platform)
    current: Mapping[str, str] = env
    results = []
    for variable, data in written.items():
        if not data.strip():
            continue
        result = read_env_bytes(
            data, current, label=variable, evaluate=evaluate, platform=plat, source=source,
            timeout=timeout, origins=origins,
        )  # fmt: skip
        results.append(result)
        layer = result.layer(kind="hook", id=variable)
        if layer is not None:  # the next file is read over this one's effect
            current = compose(current, [layer], platform=plat).env
    return results


__all__ = ["DEFAULT_TIMEOUT", "evaluate_env_file", "read_env_bytes", "read_hook_env_files"]
