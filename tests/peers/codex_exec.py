"""Drive the real `codex exec` offline: a mock Responses API on 127.0.0.1 (started here,
stopped by its pid), a throwaway CODEX_HOME and HOME, and a model whose one command dumps
its environment (`env -0`) to a file."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

SERVER = Path(__file__).with_name("mock_responses.py")


@attrs.frozen
class CodexRun:
    """What one `codex exec` run left behind."""

    command_env: dict[str, str]
    thread_id: str
    events: list[dict[str, Any]]
    stderr: str
    requests: list[dict[str, Any]]


def parse_env0(data: bytes) -> dict[str, str]:
    env: dict[str, str] = {}
    for entry in data.split(b"\0"):
        if entry:
            name, _, value = entry.decode("utf-8").partition("=")
            env[name] = value
    return env


@contextlib.contextmanager
def mock_server(workdir: Path, command: str) -> Iterator[tuple[int, Path]]:
    """The mock Responses API, answering with one exec_command running ``command``."""
    port_file = workdir / "mock-port"
    process = subprocess.Popen(
        [sys.executable, str(SERVER), str(port_file), command],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not port_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the mock Responses server did not start")
            time.sleep(0.02)
        yield int(port_file.read_text(encoding="utf-8")), port_file.with_name("mock-port.log")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def provider_config(port: int) -> str:
    """config.toml lines that point Codex at the mock model."""
    return (
        'model = "mock-model"\nmodel_provider = "mock"\napproval_policy = "never"\n'
        'sandbox_mode = "workspace-write"\n'
        "[model_providers.mock]\n"
        f'name = "mock"\nbase_url = "http://127.0.0.1:{port}/v1"\nwire_api = "responses"\n'
        "request_max_retries = 0\nstream_max_retries = 0\n"
    )


class CodexSession:
    """One mock server and one CODEX_HOME for several `codex exec` runs (a fork must reach
    the server its source thread used)."""

    def __init__(
        self, codex: str, *, workdir: Path, codex_home: Path, cwd: Path,
        launcher: Mapping[str, str], port: int, log: Path,
    ) -> None:  # fmt: skip
        self.codex, self.workdir, self.codex_home, self.cwd = codex, workdir, codex_home, cwd
        self.launcher, self.port, self.log = dict(launcher), port, log

    def run(
        self, *subcommand: str, prompt: str = "dump the environment", command: bool = True
    ) -> CodexRun:
        """`codex exec [SUBCOMMAND...] PROMPT`; with ``command``, the model's one command
        writes its env to ``workdir/command-env``."""
        dump = self.workdir / "command-env"
        with contextlib.suppress(FileNotFoundError):
            dump.unlink()
        argv = [self.codex, "exec", "--skip-git-repo-check", "--dangerously-bypass-hook-trust"]
        argv += ["--json", *subcommand, prompt]
        done = subprocess.run(
            argv, env=self.launcher, cwd=self.cwd, stdin=subprocess.DEVNULL,
            capture_output=True, timeout=90, check=False,
        )  # fmt: skip
        stderr = done.stderr.decode("utf-8", "replace")
        assert done.returncode == 0, stderr[-3000:]
        lines = done.stdout.decode().splitlines()
        events = [json.loads(line) for line in lines if line.startswith("{")]
        thread = next(e["thread_id"] for e in events if e.get("type") == "thread.started")
        requests = [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]
        env = parse_env0(dump.read_bytes()) if command else {}
        return CodexRun(env, thread, events, stderr, requests)


@contextlib.contextmanager
def codex_session(
    codex: str,
    *,
    workdir: Path,
    codex_home: Path,
    cwd: Path,
    launcher: Mapping[str, str],
    policy_toml: str = "",
    top_toml: str = "",
) -> Iterator[CodexSession]:
    """A mock server whose model runs `env -0 > workdir/command-env`, and a CODEX_HOME whose
    config.toml points at it (``top_toml`` top-level keys first, ``policy_toml`` as
    [shell_environment_policy])."""
    with mock_server(workdir, f"env -0 > {workdir / 'command-env'}") as (port, log):
        config = top_toml + provider_config(port)
        if policy_toml:
            config += "[shell_environment_policy]\n" + policy_toml + "\n"
        (codex_home / "config.toml").write_text(config, encoding="utf-8")
        yield CodexSession(
            codex, workdir=workdir, codex_home=codex_home, cwd=cwd, launcher=launcher,
            port=port, log=log,
        )  # fmt: skip
