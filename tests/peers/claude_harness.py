"""Running the real ``claude -p`` offline: a mock Messages API and a throwaway session.

:func:`mock_messages_api` starts ``mock_messages_api.py`` as its own process, listening on
127.0.0.1 only, and stops it by its pid. :class:`ClaudeSandbox` is a throwaway ``HOME`` and
``CLAUDE_CONFIG_DIR`` with a project folder, and runs ``claude -p`` in it with a minimal,
known inherited environment — so the env a Bash command dumps can be compared, variable by
variable, with what envoverlay predicts from the same folders.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import attrs

MOCK = Path(__file__).with_name("mock_messages_api.py")
#: Generous: the binary is large and node-based, and the machine may be busy.
RUN_TIMEOUT = 300.0


@contextlib.contextmanager
def mock_messages_api(command: str, log: Path) -> Iterator[int]:
    """A mock Messages API whose model runs ``command`` with the Bash tool once per prompt;
    yields its port. The server is stopped by its pid when the block ends."""
    server = subprocess.Popen(
        [sys.executable, str(MOCK), "--command", command, "--log", str(log)],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line.strip().isdigit():
            raise RuntimeError(f"the mock Messages API did not start: {line!r}")
        yield int(line)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(server.pid, signal.SIGKILL)
            server.wait()
        if server.stdout is not None:
            server.stdout.close()


@attrs.frozen
class ClaudeRun:
    """One ``claude -p`` run: its exit status, output, and the env map its Bash command
    dumped (None when the command did not run)."""

    exit_code: int
    stdout: str
    stderr: str
    dumped: dict[str, str] | None


@attrs.define
class ClaudeSandbox:
    """A throwaway home, config dir and project folder for real ``claude`` runs."""

    root: Path
    binary: str
    #: More variables for the environment claude is started with.
    extra_env: dict[str, str] = attrs.field(factory=dict)

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    @property
    def project(self) -> Path:
        return self.root / "project"

    @property
    def dump(self) -> Path:
        return self.root / "dumped.env"

    @property
    def dump_command(self) -> str:
        """The Bash command the mock model runs: dump the env, NUL-separated."""
        return f"env -0 > {shlex.quote(str(self.dump))}"

    def __attrs_post_init__(self) -> None:
        for folder in (self.home, self.config_dir, self.project):
            folder.mkdir(parents=True, exist_ok=True)

    def write_settings(self, document: Mapping[str, object]) -> None:
        """The user-level settings.json."""
        (self.config_dir / "settings.json").write_text(json.dumps(document), encoding="utf-8")

    def base_env(self, port: int) -> dict[str, str]:
        """The environment ``claude`` itself is started with: minimal and known."""
        return {
            "PATH": os.defpath.lstrip(":") or "/usr/bin:/bin",
            "HOME": str(self.home),
            "SHELL": "/bin/bash",
            "LANG": "C.UTF-8",
            "CLAUDE_CONFIG_DIR": str(self.config_dir),
            "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}",
            "ANTHROPIC_API_KEY": "dummy",
            **self.extra_env,
        }

    def run(self, port: int, *args: str) -> ClaudeRun:
        """``claude -p`` with ``args`` (e.g. ``--session-id ID`` or ``--resume ID``); the mock
        model runs its one Bash command, which dumps the env to :attr:`dump`."""
        with contextlib.suppress(FileNotFoundError):
            self.dump.unlink()
        argv = [
            self.binary, "-p", "Run the command.", "--output-format", "stream-json",
            "--verbose", "--allowedTools", "Bash", *args,
        ]  # fmt: skip
        completed = subprocess.run(
            argv,
            cwd=self.project,
            env=self.base_env(port),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
        dumped = None
        if self.dump.exists():
            dumped = parse_env0(self.dump.read_bytes())
        return ClaudeRun(completed.returncode, completed.stdout, completed.stderr, dumped)


def parse_env0(data: bytes) -> dict[str, str]:
    """The map ``env -0`` printed."""
    env = {}
    for item in data.split(b"\0"):
        if item:
            name, _, value = item.decode("utf-8", "surrogateescape").partition("=")
            env[name] = value
    return env
