"""Reading a Claude Code session from disk (the file-system edge of :mod:`envoverlay.claude`).

:func:`load_session` reads what Claude Code 2.1 reads for one session — the settings files,
the session's ``session-env/<id>/`` folder (and an outer ``CLAUDE_ENV_FILE``), the shell
profile files its snapshot runs — and returns them as text in a
:class:`~envoverlay.claude.ClaudeSession`. :func:`run_claude_hook` runs a SessionStart hook
as Claude Code runs it. What the files and the output mean is decided by the pure module.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

import attrs

from .claude import (
    ClaudeSession,
    EnvFile,
    SettingsLevel,
    env_file_event,
    env_file_name,
    hook_variables,
    judge_hook,
    order_env_files,
    parse_settings,
    session_start_input,
    transcript_path,
)
from .diagnostics import Diagnostic, EnvOverlayError
from .runner import HookRun, run_hook
from .sources import Source

if TYPE_CHECKING:
    from ._names import PlatformArg
    from .hooks import HookResult
    from .policy import SensitiveMode

#: The profile files Claude Code's shell snapshot runs, per shell.
PROFILE_FILES: Final[Mapping[str, tuple[str, ...]]] = {
    "bash": (".bash_profile", ".bash_login", ".profile", ".bashrc"),
    "zsh": (".zshenv", ".zprofile", ".zshrc"),
}


class ClaudeSessionError(EnvOverlayError):
    """The session cannot be found or its folder cannot be read."""


def config_dir_of(environ: Mapping[str, str]) -> str:
    """Claude Code's config dir: ``$CLAUDE_CONFIG_DIR``, or ``~/.claude``."""
    given = environ.get("CLAUDE_CONFIG_DIR")
    if given:
        return given
    home = environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".claude")


def load_session(
    *,
    config_dir: str | None = None,
    session_id: str | None = None,
    project_dir: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> ClaudeSession:
    """Read one Claude Code session. ``environ`` is the env Claude Code runs with (default:
    this process's): it gives ``CLAUDE_CONFIG_DIR``, ``HOME``, ``SHELL`` and an outer
    ``CLAUDE_ENV_FILE``. Without ``session_id`` the session whose folder changed last is
    read (preferring the project's own sessions). A missing settings file is no problem; an
    unreadable one is reported."""
    env = dict(os.environ if environ is None else environ)
    config = os.path.abspath(config_dir or config_dir_of(env))
    project = os.path.abspath(project_dir or os.getcwd())
    problems: list[Diagnostic] = []
    sessions = Path(config, "session-env")
    if session_id is None:
        session_id = _newest_session(sessions, config, project)
    elif not session_id or "/" in session_id or session_id in (".", ".."):
        raise ClaudeSessionError(f"--session {session_id!r} is not a session id")

    settings = []
    for level, path in _settings_paths(config, project):
        text = _read_text(path, problems, Source("config", f"claude-settings:{path}"))
        if text is not None:
            parsed, found = parse_settings(text, level=level, path=path)
            settings.append(parsed)
            problems.extend(found)

    files = []
    outer = env.get("CLAUDE_ENV_FILE")
    if outer:
        text = _read_text(outer, problems, Source("hook", outer), missing_ok=False)
        if text is not None:
            files.append(EnvFile(outer, "outer", 0, text))
    folder = sessions / session_id
    ignored: list[str] = []
    if folder.is_dir():
        try:
            names = os.listdir(folder)
        except OSError as exc:
            raise ClaudeSessionError(f"cannot list {folder}: {exc.strerror or exc}") from None
        applied, ignored = order_env_files(names)
        for name in applied:
            path = str(folder / name)
            text = _read_text(path, problems, Source("hook", path), missing_ok=False)
            event, index = env_file_event(name)
            files.append(EnvFile(path, event, index, text if text is not None else ""))
        for name in ignored:
            problems.append(
                Diagnostic(
                    "warning", "claude-ignored-file", None, None,
                    f"{folder / name}: Claude Code applies only files named "
                    "(setup|sessionstart|cwdchanged|filechanged)-hook-N.sh; this one never "
                    "reaches a command",
                    hint="let Claude Code name the file: write to $CLAUDE_ENV_FILE",
                )
            )  # fmt: skip
    return ClaudeSession(
        config_dir=config,
        session_id=session_id,
        project_dir=project,
        settings=tuple(settings),
        env_files=tuple(files),
        ignored=tuple(ignored),
        profiles=tuple(_profiles(env)),
        problems=tuple(problems),
    )


def _newest_session(sessions: Path, config: str, project: str) -> str:
    """The session whose env folder changed last — among this project's sessions (those
    with a transcript under ``projects/<project>/``) when there are any."""
    try:
        folders = [entry for entry in sessions.iterdir() if entry.is_dir()]
    except FileNotFoundError:
        folders = []
    except OSError as exc:
        raise ClaudeSessionError(f"cannot list {sessions}: {exc.strerror or exc}") from None
    if not folders:
        raise ClaudeSessionError(
            f"no Claude Code session under {config} (no session-env/<id>/ folder): pass "
            "--session ID, or --config-dir DIR for another config dir"
        )
    transcripts = Path(transcript_path(config, project, "-")).parent
    ours = [folder for folder in folders if (transcripts / f"{folder.name}.jsonl").exists()]
    return max(ours or folders, key=lambda folder: (folder.stat().st_mtime_ns, folder.name)).name


def _settings_paths(config: str, project: str) -> list[tuple[SettingsLevel, str]]:
    return [
        ("user", os.path.join(config, "settings.json")),
        ("project", os.path.join(project, ".claude", "settings.json")),
        ("local", os.path.join(project, ".claude", "settings.local.json")),
    ]


def _read_text(
    path: str, problems: list[Diagnostic], source: Source, *, missing_ok: bool = True
) -> str | None:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        if not missing_ok:
            problems.append(
                Diagnostic("warning", "claude-env-file", None, source,
                           f"{path} does not exist: Claude Code applies nothing from it",
                           hint="check the path")
            )  # fmt: skip
        return None
    except OSError as exc:
        problems.append(
            Diagnostic("error", "claude-env-file", None, source,
                       f"{path} cannot be read ({exc.strerror or exc}): Claude Code logs this in "
                       "its debug log only, and applies nothing from it",
                       hint="fix the file's permissions")
        )  # fmt: skip
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(
            Diagnostic("error", "claude-env-file", None, source,
                       f"{path} is not UTF-8 (byte {exc.start}); it is read with replacement "
                       "characters", hint="write the file as UTF-8")
        )  # fmt: skip
        return data.decode("utf-8", "replace")


def _profiles(env: Mapping[str, str]) -> list[tuple[str, str]]:
    shell = os.path.basename(env.get("SHELL", "bash")) or "bash"
    home = env.get("HOME")
    if not home:
        return []
    found = []
    for name in PROFILE_FILES.get(shell, ()):
        path = os.path.join(home, name)
        try:
            found.append((path, Path(path).read_text("utf-8", "replace")))
        except OSError:
            continue
    return found


@attrs.frozen
class ClaudeHookRun:
    """A hook run the way Claude Code runs it: the process's outcome, the stdin it got,
    where its ``CLAUDE_ENV_FILE`` was and what it held afterwards, and the result as Claude
    Code takes it (see :func:`envoverlay.claude.judge_hook`)."""

    run: HookRun
    stdin: Mapping[str, object]
    env_file: EnvFile
    result: HookResult


def run_claude_hook(
    command: Sequence[str],
    *,
    source: str = "startup",
    config_dir: str | None = None,
    session_id: str | None = None,
    cwd: str | None = None,
    position: int = 0,
    environ: Mapping[str, str] | None = None,
    timeout: float = 600.0,
    platform: PlatformArg = "auto",
    protected: Sequence[str] = (),
    sensitive: SensitiveMode = "warn",
) -> ClaudeHookRun:
    """Run ``command`` as Claude Code 2.1 runs a SessionStart command hook: its stdin for
    ``source``, its env (``environ`` plus Claude Code's hook variables), and
    ``CLAUDE_ENV_FILE`` at ``<config>/session-env/<session>/sessionstart-hook-<position>.sh``
    — in a throwaway config dir unless ``config_dir`` is given (then, as in Claude Code, an
    existing file keeps its lines and the hook appends). Raises OSError when the command
    cannot be started."""
    workdir = os.path.abspath(cwd or os.getcwd())
    session = session_id or str(uuid.uuid4())
    base = dict(os.environ if environ is None else environ)
    with contextlib.ExitStack() as stack:
        config = config_dir or stack.enter_context(
            tempfile.TemporaryDirectory(prefix="envoverlay-claude-")
        )
        folder = Path(config, "session-env", session)
        folder.mkdir(mode=0o755, parents=True, exist_ok=True)
        path = str(folder / env_file_name("SessionStart", position))
        document = session_start_input(
            source=source, session_id=session, cwd=workdir, config_dir=os.path.abspath(config)
        )
        hook_env = {**base, **hook_variables(session, env_file=path, project_dir=workdir)}
        run = run_hook(
            command, source=source, cwd=workdir, timeout=timeout, env=hook_env,
            stdin_document=document,
        )  # fmt: skip
        try:
            text = Path(path).read_text("utf-8", "replace")
        except OSError:
            text = ""
    env_file = EnvFile(path, "sessionstart", position, text)
    result = judge_hook(
        run.stdout, exit_code=run.exit_code, env_file=env_file, env=base, platform=platform,
        protected=protected, sensitive=sensitive,
    )  # fmt: skip
    if run.problem is not None:
        result = attrs.evolve(result, errors=(run.problem, *result.errors))
    return ClaudeHookRun(run, document, env_file, result)


__all__ = [
    "PROFILE_FILES",
    "ClaudeHookRun",
    "ClaudeSessionError",
    "config_dir_of",
    "load_session",
    "run_claude_hook",
]
