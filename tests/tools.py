"""Test helpers for tests that need real programs.

A missing program skips the test with a reason that says what to install — except when
``ENVOVERLAY_REQUIRE_TOOLS=1`` (CI sets it), where a missing program fails the test: CI must
never pass by skipping the real-program tests.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

INSTALL_HINT = {
    "direnv": "apt-get install direnv",
    "zsh": "apt-get install zsh",
    "fish": "apt-get install fish",
    "dash": "apt-get install dash",
    "bash": "apt-get install bash",
    "jq": "apt-get install jq",
    "x86_64-w64-mingw32-gcc": "apt-get install gcc-mingw-w64-x86-64",
    "wine": "apt-get install wine wine64",
    "wineboot": "apt-get install wine wine64",
    "wineserver": "apt-get install wine wine64",
}


# Programs from npm packages: .ci/run installs them at pinned versions and names each in an
# environment variable (they are not on PATH).
NPM_TOOLS = {
    "codex": ("ENVOVERLAY_CODEX", "npm install --ignore-scripts @openai/codex@0.169.0-linux-x64"),
    "mise": ("ENVOVERLAY_MISE", "npm install --ignore-scripts @jdxcode/mise-linux-x64@2026.9.15"),
    "claude": (
        "ENVOVERLAY_CLAUDE",
        "npm install --ignore-scripts @anthropic-ai/claude-code-linux-x64@2.1.328",
    ),
}


def require_npm_tool(name: str) -> str:
    """The path of an npm-packaged peer (``codex``, ``mise``, ``claude``) named by its
    variable, or skip (fail in CI) with how to install it."""
    variable, hint = NPM_TOOLS[name]
    path = os.environ.get(variable, "")
    if path and os.access(path, os.X_OK):
        return path
    message = f"{name} not found: set {variable} to its binary ({hint}; bash .ci/run does it)"
    if os.environ.get("ENVOVERLAY_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{message}; ENVOVERLAY_REQUIRE_TOOLS=1 requires it")
    pytest.skip(message)


def require_tool(name: str) -> str:
    """The path of program ``name``, or skip (fail in CI) with what to install."""
    path = shutil.which(name)
    if path is not None:
        return path
    message = f"{name} is not installed ({INSTALL_HINT.get(name, 'install ' + name)})"
    if os.environ.get("ENVOVERLAY_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{message}; ENVOVERLAY_REQUIRE_TOOLS=1 requires it")
    pytest.skip(message)


def process_gone(pid: int, patience: float = 5.0) -> bool:
    """Whether process ``pid`` has exited, looking again for up to ``patience`` seconds:
    SIGKILL is delivered at once, but a process killed while running takes a moment to be
    torn down. A zombie (dead, waiting for whoever adopted it to reap it) counts as gone."""
    stat = Path(f"/proc/{pid}/stat")
    deadline = time.monotonic() + patience
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            if stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return True
        except (OSError, IndexError):
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


#: A signal to the envoverlay CLI while a program it started runs: (signal, the CLI's exit
#: status). Ctrl-C is KeyboardInterrupt, handled by the CLI; SIGTERM and SIGHUP take their
#: default action once the program's process group is gone.
CLI_SIGNALS = [
    (signal.SIGINT, 130),
    (signal.SIGTERM, -signal.SIGTERM),
    (signal.SIGHUP, -signal.SIGHUP),
]


def signal_the_cli(
    args: list[str], pid_file: Path, signum: int, *, env: dict[str, str] | None = None
) -> tuple[int, bytes, list[int]]:
    """Run ``python -m envoverlay ARGS``; once ``pid_file`` names a process that the program
    it runs started, send ``signum`` to envoverlay. Returns its exit status, its stderr and
    every pid ``pid_file`` holds (one a line) once it has exited."""
    root = Path(__file__).resolve().parents[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "envoverlay", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**(os.environ if env is None else env), "PYTHONPATH": str(root)},
    )
    try:
        deadline = time.monotonic() + 30
        while not (pid_file.exists() and pid_file.read_text().strip()):
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail(f"{pid_file} never appeared: {process.communicate()[1]!r}")
            time.sleep(0.05)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, stderr, [int(pid) for pid in pid_file.read_text().split()]


@contextlib.contextmanager
def signal_once_written(pid_file: Path, signum: int) -> Iterator[list[int]]:
    """While the block runs, a handler of this process records ``signum`` (where the default
    action would end it), and once ``pid_file`` is written, ``signum`` is sent to the main
    thread, as kill(1) reaches it. Yields the signals the handler saw."""
    seen: list[int] = []
    previous = signal.signal(signum, lambda number, _frame: seen.append(number))
    main = threading.main_thread().ident
    assert main is not None

    def send_once_written() -> None:
        deadline = time.monotonic() + 30
        while not (pid_file.exists() and pid_file.read_text().strip()):
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)
        signal.pthread_kill(main, signum)

    sender = threading.Thread(target=send_once_written)
    sender.start()
    try:
        yield seen
    finally:
        sender.join()
        signal.signal(signum, previous)
