"""Codex 0.169 as a runtime profile: the imperative edge of ``--runtime codex``.

It reads ``$CODEX_HOME/config.toml`` (plus a ``-p NAME`` profile's ``NAME.config.toml`` and
``-c key=value`` overrides) and ``$CODEX_HOME/hooks.json``, runs the SessionStart hooks
the way Codex runs them, captures the login-shell snapshot with the project's login-shell
capture, and hands everything to :func:`envoverlay.codex.command_env`, the pure model of
what a model's command sees. Errors in Codex's files are :class:`CodexConfigError`s naming
the file, the key and the fix.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

from .codex import (
    ARG0_PLACEHOLDER,
    POLICY_KEYS,
    SNAPSHOT_SKIPPED,
    CodexConfigError,
    CodexHook,
    CodexPolicy,
    CommandEnv,
    codex_process_env,
    command_env,
    merge_config,
    parse_codex_hooks,
    parse_config_text,
    parse_override,
    with_override,
)
from .hooks import HookResult, parse_hook_output

__all__ = [
    "CodexHookRun",
    "CodexPrediction",
    "CodexSetup",
    "codex_path_dirs",
    "load_codex_setup",
    "predict",
    "run_codex_hooks",
]


@attrs.frozen
class CodexSetup:
    """What Codex reads from ``CODEX_HOME``: the policy, the start hooks, the files read
    and warnings (unknown policy keys Codex ignores)."""

    codex_home: str
    policy: CodexPolicy
    hooks: tuple[CodexHook, ...]
    files: tuple[str, ...]
    warnings: tuple[str, ...]
    login_shell: bool = True


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise CodexConfigError(
            str(path), "", f"is not UTF-8 text (byte {exc.start})", "save it as UTF-8"
        ) from None
    except OSError as exc:
        raise CodexConfigError(
            str(path), "", f"cannot be read: {exc.strerror or exc}", "check the file"
        ) from None


def load_codex_setup(
    codex_home: str | os.PathLike[str],
    *,
    profile: str | None = None,
    overrides: Sequence[str] = (),
    strict: bool = False,
) -> CodexSetup:
    """Read a ``CODEX_HOME`` as Codex 0.169 does. Missing files mean defaults."""
    home = Path(codex_home)
    layers = []
    files = []
    names = ["config.toml"] + ([f"{profile}.config.toml"] if profile else [])
    for name in names:
        path = home / name
        text = _read(path)
        if text is None:
            if name != "config.toml":
                raise CodexConfigError(
                    str(path), "", f"profile {profile!r} has no file",
                    f"create {name} or drop -p {profile}",
                )  # fmt: skip
            continue
        files.append(str(path))
        layer = parse_config_text(text, file=str(path))
        # Each file's own table is checked under its own name, so an error names its file.
        _checked_policy(layer, str(path), strict)
        layers.append(layer)
    config = merge_config(layers)
    for text in overrides:
        key, value = parse_override(text)
        _checked_policy(with_override({}, key, value), "-c", strict)
        config = with_override(config, key, value)
    where = ", ".join([*files[-1:], *(["-c"] if overrides else [])]) or "config.toml"
    policy = _checked_policy(config, where, strict)
    warnings = tuple(
        f"{source}: shell_environment_policy.{key} is ignored (Codex 0.169 does not know it)"
        for source, key in _ignored_keys(layers, files, overrides)
    )
    login = config.get("allow_login_shell", True)
    hooks_path = home / "hooks.json"
    hooks_text = _read(hooks_path)
    hooks: tuple[CodexHook, ...] = ()
    if hooks_text is not None:
        files.append(str(hooks_path))
        try:
            document = json.loads(hooks_text)
        except json.JSONDecodeError as exc:
            raise CodexConfigError(
                str(hooks_path), f"line {exc.lineno}, column {exc.colno}",
                f"is not JSON: {exc.msg}", "fix the JSON syntax there",
            ) from None  # fmt: skip
        hooks = parse_codex_hooks(document, file=str(hooks_path))
    return CodexSetup(str(home), policy, hooks, tuple(files), warnings, login is not False)


def _checked_policy(config: Mapping[str, object], file: str, strict: bool) -> CodexPolicy:
    return CodexPolicy.from_table(
        config.get("shell_environment_policy", {}), file=file, strict=strict
    )


def _ignored_keys(
    layers: Sequence[Mapping[str, object]], files: Sequence[str], overrides: Sequence[str]
) -> list[tuple[str, str]]:
    """(file, key) of each unknown policy key, named where it is written."""
    found = []
    for layer, file in zip(layers, files, strict=False):
        table = layer.get("shell_environment_policy")
        if isinstance(table, Mapping):
            found += [(file, key) for key in CodexPolicy.from_table(table).ignored_keys]
    for text in overrides:
        path, _ = parse_override(text)
        if len(path) >= 2 and path[0] == "shell_environment_policy" and path[1] not in POLICY_KEYS:
            found.append(("-c", path[1]))
    return found


def codex_path_dirs(codex_binary: str | None) -> tuple[str, ...]:
    """The directories Codex puts in front of PATH: its package's ``codex-path`` folder
    (beside the ``bin`` folder of the native binary), when it exists."""
    if not codex_binary:
        return ()
    folder = Path(codex_binary).resolve().parent.parent / "codex-path"
    return (str(folder),) if folder.is_dir() else ()


@attrs.frozen
class CodexHookRun:
    """One SessionStart hook run as Codex runs it, and what envoverlay makes of it."""

    hook: CodexHook
    result: HookResult
    codex_outcome: str


def run_codex_hooks(
    setup: CodexSetup,
    process_env: Mapping[str, str],
    *,
    cwd: str,
    source: str = "startup",
    session_id: str = "envoverlay-predicted-session",
    model: str = "envoverlay",
) -> tuple[CodexHookRun, ...]:
    """Run the SessionStart hooks whose matcher selects ``source`` as Codex 0.169 does:
    ``$SHELL -c COMMAND`` (``/bin/sh`` without ``SHELL``) in ``cwd``, with Codex's own env
    (no ``set`` values, no thread id) and the stdin fields 0.169 sends."""
    from .runner import run_hook

    runs = []
    shell = process_env.get("SHELL") or "/bin/sh"
    document = {
        "session_id": session_id,
        "transcript_path": None,
        "cwd": cwd,
        "hook_event_name": "SessionStart",
        "model": model,
        "permission_mode": "bypassPermissions",
        "source": source,
    }
    for hook in setup.hooks:
        if hook.event != "SessionStart" or not hook.matches(source) or hook.is_async:
            continue
        try:
            outcome = run_hook(
                [shell, "-c", hook.command], cwd=cwd, timeout=float(hook.timeout),
                env=dict(process_env), stdin_document=document,
            )  # fmt: skip
        except OSError as exc:
            raise CodexConfigError(
                f"{setup.codex_home}/hooks.json", f"{hook.pointer}/command",
                f"cannot run {shlex.quote(shell)}: {exc.strerror or exc}", "check SHELL",
            ) from None  # fmt: skip
        result = parse_hook_output(
            outcome.stdout, hook_id=hook.command, exit_code=outcome.exit_code
        )
        if outcome.problem is not None:
            result = attrs.evolve(result, errors=(outcome.problem, *result.errors))
        runs.append(CodexHookRun(hook, result, _codex_outcome(result)))
    return tuple(runs)


def _codex_outcome(result: HookResult) -> str:
    """What Codex 0.169 does with this output (it has no env overlay)."""
    if result.exit_code is None:
        return "failed (killed or timed out): Codex ignores its output"
    if result.exit_code != 0:
        return f"failed (exit {result.exit_code}): Codex ignores its output"
    document = result.document or {}
    specific = document.get("hookSpecificOutput")
    if isinstance(specific, dict) and "env" in specific:
        return (
            "failed: Codex 0.169 rejects hookSpecificOutput.env, so the whole output is "
            "dropped (its additionalContext too) and the env never reaches a command; it "
            'prints only "hook: SessionStart Failed"'
        )
    if result.additional_context:
        return "ok: additionalContext given to the model; no env (Codex has no env overlay)"
    return "ok: no env (Codex has no env overlay)"


@attrs.frozen
class CodexPrediction:
    """``explain --runtime codex``'s answer: the command env and the hooks that ran."""

    command: CommandEnv
    hooks: tuple[CodexHookRun, ...]
    setup: CodexSetup
    snapshot_error: str | None = None
    notes: tuple[str, ...] = ()
    snapshot_taken: bool = False


def predict(
    launcher: Mapping[str, str],
    setup: CodexSetup,
    *,
    cwd: str,
    codex_binary: str | None,
    run_hooks: bool = True,
    login_shell: bool | None = None,
) -> CodexPrediction:
    """Predict a model command's env inside Codex started from ``launcher`` in ``cwd``."""
    from .shell import ShellError, capture_login_env

    codex_path = codex_path_dirs(codex_binary)
    notes = list(_notes(launcher, setup, codex_binary, codex_path))
    arg0 = arg0_dir(launcher, setup.codex_home)
    process = codex_process_env(launcher, codex_path, arg0)
    hooks = run_codex_hooks(setup, process, cwd=cwd) if run_hooks else ()
    snapshot = None
    error = None
    use_login = setup.login_shell if login_shell is None else login_shell
    if use_login:
        from .codex import apply_codex_policy

        kept = dict(apply_codex_policy(process, setup.policy).kept)
        try:
            shell = kept.get("SHELL") or ""
            bash = shell if os.path.basename(shell) == "bash" else None
            captured = capture_login_env("bash", kept, shell_path=bash)
            snapshot = {k: v for k, v in captured.items() if k not in SNAPSHOT_SKIPPED}
            level = snapshot.get("SHLVL", "")
            if level.isdigit():  # the capture's `exec env` counted one level down
                snapshot["SHLVL"] = str(int(level) + 1)
        except ShellError as exc:
            error = str(exc)
    env = command_env(
        launcher, setup.policy, cwd=cwd, codex_path=codex_path, snapshot=snapshot, arg0_dir=arg0
    )
    return CodexPrediction(env, hooks, setup, error, tuple(notes), snapshot is not None)


def arg0_dir(launcher: Mapping[str, str], codex_home: str) -> str | None:
    """The per-run helper folder Codex puts in its PATH (a placeholder for its random
    suffix), or None when ``codex_home`` is inside the temp folder, where Codex refuses to
    create it."""
    temp = os.path.realpath(launcher.get("TMPDIR") or "/tmp")
    home = os.path.realpath(codex_home)
    if home == temp or home.startswith(temp.rstrip("/") + "/"):
        return None
    return os.path.join(os.path.abspath(codex_home), "tmp", "arg0-linux", ARG0_PLACEHOLDER)


def _notes(
    launcher: Mapping[str, str],
    setup: CodexSetup,
    codex_binary: str | None,
    codex_path: Sequence[str],
) -> list[str]:
    """What the prediction cannot show, said once."""
    notes = []
    if not codex_path:
        notes.append(
            "the codex binary was not found (give --codex-bin): the codex-path folder Codex "
            "puts first in PATH is not shown"
        )
    if arg0_dir(launcher, setup.codex_home) is not None:
        notes.append(
            "CODEX_HOME is outside the temp folder, so Codex puts a per-run "
            "$CODEX_HOME/tmp/arg0-linux/codex-arg0XXXXXX folder in its own PATH: it is shown "
            "as codex-arg0<per run>, and PATH is marked per run"
        )
    shell = os.path.basename(launcher.get("SHELL") or "")
    if setup.login_shell and shell not in ("", "bash"):
        notes.append(
            f"the login snapshot is modelled with bash; Codex takes it with your shell ({shell})"
        )
    return notes
