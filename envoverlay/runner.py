"""Running a hook the way an agent runtime does (the imperative edge of ``check --run``).

The hook gets a valid SessionStart input on stdin, runs in its own process group (session),
and on timeout the whole group is killed — children included — so a hook that hangs cannot
leave helpers behind holding its pipes.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from typing import Final

import attrs

from .diagnostics import Diagnostic

#: How long to wait for pipes to close after the process group was killed.
_DRAIN_SECONDS: Final = 5.0


@attrs.frozen
class HookRun:
    """What running a hook produced. ``exit_code`` is None when it was killed."""

    stdout: bytes
    stderr: bytes
    exit_code: int | None
    problem: Diagnostic | None = None


def session_start_input(
    *, source: str, cwd: str, session_id: str = "envoverlay-check"
) -> dict[str, object]:
    """A SessionStart hook input document (valid under ``session-start.input``)."""
    return {
        "session_id": session_id,
        "transcript_path": None,
        "cwd": cwd,
        "hook_event_name": "SessionStart",
        "model": "envoverlay-check",
        "permission_mode": "default",
        "source": source,
    }


def subagent_start_input(
    *, cwd: str, session_id: str = "envoverlay-check", agent_id: str = "envoverlay-check-agent"
) -> dict[str, object]:
    """A SubagentStart hook input document (valid under ``subagent-start.input``)."""
    return {
        "session_id": session_id,
        "transcript_path": None,
        "cwd": cwd,
        "hook_event_name": "SubagentStart",
        "model": "envoverlay-check",
        "permission_mode": "default",
        "turn_id": "envoverlay-check-turn",
        "agent_id": agent_id,
        "agent_type": "default",
    }


def run_hook(
    command: Sequence[str],
    *,
    source: str = "startup",
    cwd: str | None = None,
    timeout: float = 600.0,
    event: str = "SessionStart",
    env: Mapping[str, str] | None = None,
    stdin_document: Mapping[str, object] | None = None,
) -> HookRun:
    """Run ``command`` as a SessionStart (or, with ``event="SubagentStart"``, a SubagentStart)
    hook. ``env`` is its whole environment (default: this process's); ``stdin_document``
    replaces the input document written to its stdin. Raises OSError (FileNotFoundError,
    PermissionError) when it cannot be started."""
    workdir = cwd if cwd is not None else os.getcwd()
    document = (
        dict(stdin_document)
        if stdin_document is not None
        else subagent_start_input(cwd=workdir)
        if event == "SubagentStart"
        else session_start_input(source=source, cwd=workdir)
    )
    stdin = json.dumps(document).encode("utf-8")
    windows = sys.platform == "win32"
    process = subprocess.Popen(
        list(command),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=workdir,
        env=None if env is None else dict(env),
        start_new_session=not windows,
        creationflags=getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0) if windows else 0,
    )
    try:
        stdout, stderr = process.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        try:
            stdout, stderr = process.communicate(timeout=_DRAIN_SECONDS)
        except subprocess.TimeoutExpired:  # pragma: no cover - a child escaped the group
            process.kill()
            stdout, stderr = b"", b""
        problem = Diagnostic(
            "error", "hook-timeout", None, None,
            f"the hook did not finish within {timeout:g} s; it and its children were killed",
            hint="make the hook finish sooner, or raise --timeout",
            pointer="",
        )  # fmt: skip
        return HookRun(stdout, stderr, None, problem)
    except BrokenPipeError:  # the hook exited without reading its stdin
        stdout, stderr = process.communicate()
    code = process.returncode
    return HookRun(stdout, stderr, code if code >= 0 else None)


def run_hook_with_env_files(
    command: Sequence[str],
    *,
    source: str = "startup",
    cwd: str | None = None,
    timeout: float = 600.0,
    env: Mapping[str, str] | None = None,
    event: str = "SessionStart",
) -> tuple[HookRun, dict[str, bytes]]:
    """Run a hook as :func:`run_hook` does, with fresh, empty ``CLAUDE_ENV_FILE`` and
    ``CODEX_ENV_FILE`` files named in its env; return the run and, for each variable,
    what the hook wrote to its file (SPEC §3a)."""
    from .envfile import HOOK_ENV_FILE_VARIABLES

    with tempfile.TemporaryDirectory(prefix="envoverlay-hook-") as folder:
        paths = {
            name: os.path.join(folder, f"{name.lower()}.sh") for name in HOOK_ENV_FILE_VARIABLES
        }
        for path in paths.values():
            with open(path, "wb"):
                pass
        hook_env = {**(os.environ if env is None else env), **paths}
        run = run_hook(command, source=source, cwd=cwd, timeout=timeout, env=hook_env, event=event)
        written = {}
        for name, path in paths.items():
            with contextlib.suppress(OSError), open(path, "rb") as file:
                written[name] = file.read()
    return run, written


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        subprocess.run(
            ["taskkill", "/T", "/F", "/PID", str(process.pid)], check=False, capture_output=True
        )
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
