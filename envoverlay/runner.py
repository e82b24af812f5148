"""Running a hook the way an agent runtime does (the imperative edge of ``check --run``).

For runtime authors, :func:`run_session_start_hook` is the one call: it writes a SessionStart
input built from the session's ids, model, cwd and source to the hook's stdin, runs it with
the env you give it in its own process group (session) with a timeout, and returns the
:class:`~envoverlay.hooks.HookResult` that :func:`~envoverlay.hooks.parse_hook_output` makes
of its exit status and stdout::

    import envoverlay as eo

    hook = eo.run_session_start_hook(
        ["./hooks/venv.sh"], session_id="s1", model="gpt-5", cwd="/repo", source="startup",
        env=spawn_env, timeout=600,
    )
    layers = [hook.layer] if hook.layer is not None else []

The hook is killed — its whole process group, children included — when it outlives the
timeout, and when this process gets SIGINT (Ctrl-C), SIGTERM or SIGHUP while it runs: a hook
that started background helpers never outlives the run. The signal is then delivered to the
caller as if the hook had not been there (KeyboardInterrupt for SIGINT; the previous handler
or the default action for the others). :func:`run_hook` is the lower level: the same run,
returning the raw :class:`HookRun` (stdout, stderr, exit status).

:func:`run_in_process_group` (and :func:`run_in_process_groups`, several programs at once)
is the rule under both, and the one way envoverlay runs any program (hooks, the direnv and
mise providers, login shells, env-file evaluation): its own process group, killed whole on
the timeout and on those signals. The one program it does not run is the command
``envoverlay exec`` hands over to: that one runs in the foreground, in envoverlay's own
process group, with no timeout, so the terminal's Ctrl-C and job control reach it directly.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Final

import attrs

from .diagnostics import Diagnostic
from .errors import ArgumentError
from .sources import Source

if TYPE_CHECKING:
    from ._names import PlatformArg
    from .hooks import HookEvent, HookResult
    from .policy import SensitiveMode

#: How long to wait for pipes to close after the process group was killed.
_DRAIN_SECONDS: Final = 5.0
#: Codex's default hook timeout, in seconds.
DEFAULT_TIMEOUT: Final = 600.0
#: Signals that kill the running hook's process group before they reach the caller.
INTERRUPTS: Final = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


@attrs.frozen
class HookRun:
    """What running a hook produced. ``exit_code`` is None when it was killed; ``problem``
    says why (a timeout) when the runner killed it."""

    stdout: bytes
    stderr: bytes
    exit_code: int | None
    problem: Diagnostic | None = None

    def to_result(
        self,
        *,
        hook_id: str,
        platform: PlatformArg = "auto",
        protected: Iterable[str] = (),
        sensitive: SensitiveMode = "warn",
        event: HookEvent = "SessionStart",
    ) -> HookResult:
        """The hook's :class:`~envoverlay.hooks.HookResult`: its stdout parsed (under the
        ``event``'s output schema) with its exit status, with a timeout reported once (as
        ``hook-timeout``, not also as a failure)."""
        from .hooks import parse_hook_output

        result = parse_hook_output(
            self.stdout, hook_id=hook_id, exit_code=self.exit_code, platform=platform,
            protected=protected, sensitive=sensitive, event=event,
        )  # fmt: skip
        if self.problem is None:
            return result
        problem = attrs.evolve(self.problem, source=Source("hook", hook_id))
        # The timeout says why there is no exit status; "killed by a signal?" would guess.
        rest = tuple(d for d in result.errors if d.code != "hook-failed")
        return attrs.evolve(result, errors=(problem, *rest))


def session_start_input(
    *,
    source: str,
    cwd: str,
    session_id: str = "envoverlay-check",
    model: str = "envoverlay-check",
    transcript_path: str | None = None,
    permission_mode: str = "default",
) -> dict[str, object]:
    """A SessionStart hook input document (valid under ``session-start.input`` when its
    arguments are)."""
    return {
        "session_id": session_id,
        "transcript_path": transcript_path,
        "cwd": cwd,
        "hook_event_name": "SessionStart",
        "model": model,
        "permission_mode": permission_mode,
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
    env: Mapping[str, str] | None = None,
    session_id: str = "envoverlay-check",
    model: str = "envoverlay-check",
    transcript_path: str | None = None,
    permission_mode: str = "default",
    timeout: float = DEFAULT_TIMEOUT,
    event: str = "SessionStart",
    stdin_document: Mapping[str, object] | None = None,
) -> HookRun:
    """Run ``command`` as a SessionStart hook (or, with ``event="SubagentStart"``, a
    SubagentStart hook) and return what it produced (see the module docs). ``env`` is the
    hook's whole environment (default: this process's); ``cwd`` its working directory and the
    input's ``cwd`` (default: the current directory); ``stdin_document`` replaces the input
    document written to its stdin. Raises OSError (FileNotFoundError, PermissionError,
    NotADirectoryError) when it cannot start."""
    workdir = cwd if cwd is not None else os.getcwd()
    if stdin_document is not None:
        document = dict(stdin_document)
    elif event == "SubagentStart":
        document = subagent_start_input(cwd=workdir, session_id=session_id)
    else:
        document = session_start_input(
            source=source, cwd=workdir, session_id=session_id, model=model,
            transcript_path=transcript_path, permission_mode=permission_mode,
        )  # fmt: skip
    stdin = json.dumps(document).encode("utf-8")
    return _run(command, stdin, workdir, _hook_env(env), timeout)


def run_session_start_hook(
    command: Sequence[str],
    *,
    session_id: str,
    model: str,
    cwd: str,
    source: str = "startup",
    env: Mapping[str, str] | None = None,
    transcript_path: str | None = None,
    permission_mode: str = "default",
    timeout: float = DEFAULT_TIMEOUT,
    hook_id: str | None = None,
    platform: PlatformArg = "auto",
    protected: Iterable[str] = (),
    sensitive: SensitiveMode = "warn",
) -> HookResult:
    """Run a SessionStart hook as Codex and Claude Code do, and parse what it printed.

    The hook's ``HookResult`` (``hook_id`` defaults to ``command[0]``): its layer when it
    succeeded, every problem otherwise — a non-zero exit, a timeout, invalid output. Raises
    OSError when the command cannot be started at all."""
    run = run_hook(
        command, source=source, cwd=cwd, env=env, session_id=session_id, model=model,
        transcript_path=transcript_path, permission_mode=permission_mode, timeout=timeout,
    )  # fmt: skip
    return run.to_result(
        hook_id=command[0] if hook_id is None else hook_id,
        platform=platform, protected=protected, sensitive=sensitive,
    )  # fmt: skip


def _hook_env(env: Mapping[str, str] | None) -> dict[str, str] | None:
    """The environment the hook process gets (the env files a runtime hands its hooks are
    added by :func:`run_hook_with_env_files`, SPEC §3a)."""
    return None if env is None else dict(env)


@attrs.frozen
class GroupRun:
    """What a program run by :func:`run_in_process_group` produced.

    ``returncode`` is the program's status (negative: the signal that ended it), or None when
    its group was killed before it exited. ``timed_out``: the timeout struck;
    ``leader_exited`` then says that the program itself had finished and something it
    started still held its pipes.
    ``interrupted`` names the signal (SIGTERM, SIGHUP) that stopped the run; ``pipes_held``:
    even after the kill, a process outside the group kept the pipes open (output is lost).
    ``leftovers_killed`` (only asked for with ``kill_leftovers=True``): the program had
    exited, and processes it started were still running in its group; they were killed."""

    stdout: bytes
    stderr: bytes
    returncode: int | None
    timed_out: bool = False
    leader_exited: bool = False
    interrupted: str | None = None
    pipes_held: bool = False
    leftovers_killed: bool = False

    def stopped(self, timeout: float) -> str | None:
        """Why the program did not finish, as a message says it ("did not finish within
        30 s", "was stopped by SIGTERM"), or None when it finished (whatever its status)."""
        if self.interrupted is not None:
            return f"was stopped by {self.interrupted}"
        return f"did not finish within {timeout:g} s" if self.timed_out else None


def run_in_process_group(
    argv: Sequence[str],
    *,
    stdin: bytes | None = None,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float,
    capture: bool = True,
    kill_leftovers: bool = False,
) -> GroupRun:
    """Run ``argv`` in its own process group (a new session on POSIX) and wait for it, with
    ``stdin`` written to it (else it reads nothing). The whole group — children included — is
    killed when ``timeout`` passes, and when this process gets SIGINT, SIGTERM or SIGHUP
    meanwhile (see the module docs): a program envoverlay starts never outlives the wait.
    Raises OSError when ``argv`` cannot be started. Every program envoverlay runs (hooks,
    providers, login shells, env-file evaluation) goes through here.

    ``capture=False`` sends stdout and stderr to the null device instead of pipes, for a
    program whose background children may hold its pipes long after it exits (a shell
    sourcing a file): the wait then ends when the program itself exits, and ``stdin`` must be
    None. ``kill_leftovers=True`` also kills what is left in the group once the program has
    exited (``GroupRun.leftovers_killed`` says whether there was anything)."""
    [run] = run_in_process_groups(
        [argv], stdin=stdin, cwd=cwd, env=env, timeout=timeout, capture=capture,
        kill_leftovers=kill_leftovers,
    )  # fmt: skip
    return run


def run_in_process_groups(
    argvs: Sequence[Sequence[str]],
    *,
    stdin: bytes | None = None,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float,
    capture: bool = True,
    kill_leftovers: bool = False,
) -> list[GroupRun]:
    """Run every program of ``argvs`` at once, each in its own process group, as
    :func:`run_in_process_group` runs one, and return their runs in order: the wall time is
    about the slowest one's. ``timeout`` is one deadline for them all; a signal kills every
    group. Raises OSError when one cannot be started (those already started are killed)."""
    if stdin is not None and not capture:
        raise ArgumentError(
            "run_in_process_group: stdin= needs capture=True (the program's input is written "
            "while its output is read); pass stdin=None or capture=True"
        )
    deadline = time.monotonic() + timeout
    processes: list[subprocess.Popen[bytes]] = []
    with _interrupts_raise() as arm:
        # A signal that arrives while a program is being started is held until it has a
        # pid: then its group can be killed (else a hook could be orphaned in that window).
        try:
            for argv in argvs:
                processes.append(_start(argv, stdin is not None, cwd, env, capture))
            arm()
            return [_wait(p, stdin, deadline, capture, kill_leftovers) for p in processes]
        except _Interrupted as interrupted:
            drained = [_kill_and_drain(process) for process in processes]
            signum = interrupted.signum
        except BaseException:  # KeyboardInterrupt (a caller's own SIGINT handling) and the rest
            for process in processes:
                _kill_and_drain(process)
            raise
    # Deliver the signal as if nothing had been running, now that the groups are gone and the
    # caller's handlers are back: Ctrl-C raises KeyboardInterrupt, SIGTERM and SIGHUP reach
    # the previous handler or end this process by default.
    signal.raise_signal(signum)
    name = signal.Signals(signum).name
    return [
        GroupRun(stdout, stderr, None, interrupted=name, pipes_held=held)
        for stdout, stderr, held in drained
    ]


def _start(
    argv: Sequence[str],
    has_stdin: bool,
    cwd: str | None,
    env: Mapping[str, str] | None,
    capture: bool,
) -> subprocess.Popen[bytes]:
    windows = sys.platform == "win32"
    output = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE if has_stdin else subprocess.DEVNULL,
        stdout=output,
        stderr=output,
        cwd=cwd,
        env=None if env is None else dict(env),
        start_new_session=not windows,
        creationflags=getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0) if windows else 0,
    )


def _wait(
    process: subprocess.Popen[bytes],
    stdin: bytes | None,
    deadline: float,
    capture: bool,
    kill_leftovers: bool,
) -> GroupRun:
    """Wait for one started program until ``deadline``; kill its group if it is not done."""
    remaining = max(deadline - time.monotonic(), 0.0)
    stdout = stderr = b""
    if capture:
        try:
            stdout, stderr = process.communicate(stdin, timeout=remaining)
        except subprocess.TimeoutExpired:
            # Either it hangs, or it is done and something it started in the background
            # still holds the pipes: kill the whole group either way.
            leader = process.poll()
            stdout, stderr, held = _kill_and_drain(process)
            return GroupRun(stdout, stderr, leader, True, leader is not None, pipes_held=held)
    elif not _wait_or_kill(process, remaining):
        return GroupRun(b"", b"", None, True)
    leftovers = kill_leftovers and _kill_group(process)
    return GroupRun(stdout, stderr, process.returncode, leftovers_killed=leftovers)


def _wait_or_kill(process: subprocess.Popen[bytes], timeout: float) -> bool:
    """Whether ``process`` exited within ``timeout``; if not, its group was killed. A blocking
    wait returns the moment it exits (``wait(timeout=)`` polls, sleeping up to 50 ms); a
    timer kills the group if it does not."""
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        _kill_group(process)

    timer = threading.Timer(timeout, expire)
    timer.daemon = True
    timer.start()
    try:
        process.wait()
    finally:
        timer.cancel()
    return not expired.is_set()


def _run(
    command: Sequence[str],
    stdin: bytes,
    workdir: str,
    env: dict[str, str] | None,
    timeout: float,
) -> HookRun:
    run = run_in_process_group(command, stdin=stdin, cwd=workdir, env=env, timeout=timeout)
    problem = None
    why = run.stopped(timeout)
    if why is not None:
        problem = Diagnostic(
            "error", "hook-timeout" if run.timed_out else "hook-interrupted", None, None,
            f"the hook {why}; it and its children were killed",
            hint="make the hook finish sooner, or raise --timeout" if run.timed_out
            else "run the hook again",
            pointer="",
        )  # fmt: skip
    code = run.returncode
    return HookRun(
        run.stdout, run.stderr, code if code is not None and code >= 0 else None, problem
    )


class _Interrupted(BaseException):
    """SIGINT, SIGTERM or SIGHUP arrived while a program ran (raised by the temporary
    handler)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _interrupts_raise() -> Iterator[Callable[[], None]]:
    """While a program runs, SIGINT, SIGTERM and SIGHUP raise :class:`_Interrupted`, so that
    its group is killed before the signal takes effect. Until the caller calls the yielded
    ``arm()`` (once the program has a pid) a signal is only noted; ``arm()`` raises it then.
    Only the main thread can set handlers; elsewhere the caller's own handling stays."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda: None
        return
    previous: dict[int, signal._HANDLER] = {}
    state: dict[str, int | None] = {"pending": None, "armed": 0}

    def interrupted(signum: int, _frame: object) -> None:
        if state["armed"]:
            raise _Interrupted(signum)
        state["pending"] = signum

    def arm() -> None:
        state["armed"] = 1
        pending = state["pending"]
        if pending is not None:
            raise _Interrupted(pending)

    try:
        for signum in INTERRUPTS:
            handler = signal.getsignal(signum)
            if handler == signal.SIG_IGN or handler is None:  # ignored stays ignored (nohup)
                continue
            previous[signum] = handler
            signal.signal(signum, interrupted)
        yield arm
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _kill_and_drain(process: subprocess.Popen[bytes]) -> tuple[bytes, bytes, bool]:
    """Kill the group and collect what it wrote; the flag says a process outside the group
    kept the pipes open (the output is then lost)."""
    _kill_group(process)
    try:
        stdout, stderr = process.communicate(timeout=_DRAIN_SECONDS)
    except subprocess.TimeoutExpired:  # pragma: no cover - a child escaped the group
        process.kill()
        return b"", b"", True
    return stdout or b"", stderr or b"", False  # None: the output went to the null device


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


def _kill_group(process: subprocess.Popen[bytes]) -> bool:
    """Kill the program's whole process group; whether anything was left in it to kill."""
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        subprocess.run(
            ["taskkill", "/T", "/F", "/PID", str(process.pid)], check=False, capture_output=True
        )
        return False
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):  # already gone (macOS: only zombies left)
        return False
    return True


__all__ = [
    "DEFAULT_TIMEOUT",
    "GroupRun",
    "HookRun",
    "run_hook",
    "run_in_process_group",
    "run_in_process_groups",
    "run_session_start_hook",
    "session_start_input",
    "subagent_start_input",
]
