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


def run_codex_exec(
    codex: str,
    *,
    workdir: Path,
    codex_home: Path,
    cwd: Path,
    launcher: Mapping[str, str],
    policy_toml: str = "",
    extra_args: tuple[str, ...] = (),
    prompt: str = "dump the environment",
) -> CodexRun:
    """Run `codex exec` once; the model's command writes its env to ``workdir/command-env``."""
    dump = workdir / "command-env"
    with contextlib.suppress(FileNotFoundError):
        dump.unlink()
    with mock_server(workdir, f"env -0 > {dump}") as (port, log):
        config = provider_config(port)
        if policy_toml:
            config += "[shell_environment_policy]\n" + policy_toml + "\n"
        (codex_home / "config.toml").write_text(config, encoding="utf-8")
        argv = [codex, "exec", *extra_args, "--skip-git-repo-check"]
        argv += ["--dangerously-bypass-hook-trust", "--json", prompt]
        done = subprocess.run(
            argv,
            env=dict(launcher),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=120,
            check=False,
        )
        requests = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0, stderr[-3000:]
    events = [json.loads(line) for line in done.stdout.decode().splitlines() if line.startswith("{")]
    thread = next(e["thread_id"] for e in events if e.get("type") == "thread.started")
    return CodexRun(parse_env0(dump.read_bytes()), thread, events, stderr, requests)
