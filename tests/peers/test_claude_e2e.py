"""The real Claude Code 2.1.328 (``claude -p``) against envoverlay's prediction.

Each test runs the released binary offline: a mock Messages API on 127.0.0.1 (started and
stopped by pid by the test) answers with one ``Bash`` tool call that dumps the command's env.
The binary is large and node-based: runs are few and timeouts generous.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from claude_harness import ClaudeSandbox, mock_messages_api
from tools import require_npm_tool

SELF_REFERENCING = 'printf \'export PATH="/opt/tool/bin:$PATH"\\n\' >> "$CLAUDE_ENV_FILE"'
PLAIN_EXPORT = "printf 'export GREETING=hello\\n' >> \"$CLAUDE_ENV_FILE\""


@pytest.fixture
def sandbox(tmp_path: Path) -> ClaudeSandbox:
    return ClaudeSandbox(tmp_path, require_npm_tool("claude"))


def test_harness_runs_the_bash_command_and_hooks_write_their_files(
    sandbox: ClaudeSandbox, tmp_path: Path
) -> None:
    sandbox.write_settings(
        {"hooks": {"SessionStart": [{"hooks": [
            {"type": "command", "command": SELF_REFERENCING},
            {"type": "command", "command": PLAIN_EXPORT},
        ]}]}}
    )  # fmt: skip
    session = str(uuid.uuid4())
    with mock_messages_api(sandbox.dump_command, tmp_path / "requests.jsonl") as port:
        run = sandbox.run(port, "--session-id", session)
    assert run.exit_code == 0, run.stderr
    assert run.dumped is not None, run.stdout[-2000:]
    assert run.dumped["GREETING"] == "hello"
    assert run.dumped["PATH"].split(":")[0] == "/opt/tool/bin"
    folder = sandbox.config_dir / "session-env" / session
    assert sorted(p.name for p in folder.iterdir()) == [
        "sessionstart-hook-0.sh",
        "sessionstart-hook-1.sh",
    ]
