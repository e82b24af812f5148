"""What the Claude Code tests share: a session id, a config dir built from a table of
session-env files, and a SessionStart hook that writes CLAUDE_ENV_FILE as Claude Code's hooks
do (written here, reproducing what Claude Code 2.1.328 writes, never a published hook)."""

from __future__ import annotations

import json
from pathlib import Path

SESSION = "0a1b2c3d-0000-4000-8000-000000000001"


def build_session(root: Path, files: dict[str, str], settings: object = None) -> Path:
    """A config dir holding ``session-env/SESSION/`` with ``files``; returns the config dir."""
    config = root / "config"
    folder = config / "session-env" / SESSION
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    if settings is not None:
        (config / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    return config


HOOK = """#!/bin/sh
cat > "$STDIN_COPY"
printf 'export PATH="/opt/tool/bin:$PATH"\\n' >> "$CLAUDE_ENV_FILE"
echo "$CLAUDE_PROJECT_DIR" > "$STDIN_COPY.project"
echo 'Using the tool'
"""
