"""Reading a Claude Code session from disk (``envoverlay.claude_session``): the config dir,
the newest session, the session-env files in Claude Code's order, the settings levels, and
running a hook as Claude Code runs it. What the runtime makes of a session is in
test_claude.py."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from claude_cases import HOOK, SESSION, build_session
from tools import require_tool

from envoverlay.claude import transcript_path
from envoverlay.claude_session import (
    ClaudeSessionError,
    config_dir_of,
    load_session,
    run_claude_hook,
)
from envoverlay.schemas import validator

FOLDER_CASES = [
    # (folder files, outer CLAUDE_ENV_FILE text or None, expected (event, N) order, ignored)
    ({"sessionstart-hook-1.sh": "export B=2\n", "sessionstart-hook-0.sh": "export A=1\n"},
     None, [("sessionstart", 0), ("sessionstart", 1)], []),
    ({"cwdchanged-hook-0.sh": "export C=1\n", "setup-hook-0.sh": "export S=1\n"},
     "export OUTER=1\n", [("outer", 0), ("setup", 0), ("cwdchanged", 0)], []),
    ({"sessionstart-hook-0.sh": "", "sessionstart-hook-1.sh": "  \n\n"},
     None, [("sessionstart", 0), ("sessionstart", 1)], []),
    ({"sessionstart-hook-0.sh": "export A=1\n", "stray.sh": "export X=1\n"},
     None, [("sessionstart", 0)], ["stray.sh"]),
]  # fmt: skip


@pytest.mark.parametrize(("files", "outer", "order", "ignored"), FOLDER_CASES)
def test_load_session_reads_files_in_claude_codes_order(
    tmp_path: Path,
    files: dict[str, str],
    outer: str | None,
    order: list[tuple[str, int]],
    ignored: list[str],
) -> None:
    config = build_session(tmp_path, files)
    environ = {"HOME": str(tmp_path / "home")}
    if outer is not None:
        (tmp_path / "outer.sh").write_text(outer, encoding="utf-8")
        environ["CLAUDE_ENV_FILE"] = str(tmp_path / "outer.sh")
    session = load_session(
        config_dir=str(config), session_id=SESSION, project_dir=str(tmp_path), environ=environ
    )
    assert [(f.event, f.index) for f in session.env_files] == order
    assert list(session.ignored) == ignored
    codes = [d.code for d in session.problems]
    assert codes == ["claude-ignored-file"] * len(ignored)
    for file in session.env_files:
        if file.event != "outer":
            assert file.text == files[file.name]


def test_load_session_picks_the_newest_session_and_names_a_missing_one(tmp_path: Path) -> None:
    config = build_session(tmp_path, {})
    older = config / "session-env" / "older"
    older.mkdir()
    os.utime(older, ns=(1, 1))
    session = load_session(config_dir=str(config), project_dir=str(tmp_path), environ={})
    assert session.session_id == SESSION
    # A session of this project (it has a transcript there) wins over a newer one elsewhere.
    transcripts = Path(transcript_path(str(config), str(tmp_path), SESSION)).parent
    transcripts.mkdir(parents=True)
    (transcripts / "older.jsonl").write_text("")
    session = load_session(config_dir=str(config), project_dir=str(tmp_path), environ={})
    assert session.session_id == "older"
    with pytest.raises(ClaudeSessionError, match="no Claude Code session under"):
        load_session(config_dir=str(tmp_path / "empty"), project_dir=str(tmp_path), environ={})
    with pytest.raises(ClaudeSessionError, match="is not a session id"):
        load_session(config_dir=str(config), session_id="../x", environ={})


def test_config_dir_is_claude_config_dir_or_dot_claude() -> None:
    assert config_dir_of({"CLAUDE_CONFIG_DIR": "/c", "HOME": "/h"}) == "/c"
    assert config_dir_of({"HOME": "/h"}) == "/h/.claude"


def test_a_missing_outer_file_is_reported(tmp_path: Path) -> None:
    config = build_session(tmp_path, {})
    environ = {"CLAUDE_ENV_FILE": str(tmp_path / "nope.sh")}
    session = load_session(config_dir=str(config), session_id=SESSION, environ=environ)
    assert [d.code for d in session.problems] == ["claude-env-file"]
    assert "nope.sh does not exist" in session.problems[0].message


def test_settings_levels_merge_user_project_local(tmp_path: Path) -> None:
    config = build_session(tmp_path, {}, {"env": {"SHARED": "user", "U": "1"}})
    project = tmp_path / "project"
    (project / ".claude").mkdir(parents=True)
    (project / ".claude" / "settings.json").write_text('{"env": {"SHARED": "project"}}')
    (project / ".claude" / "settings.local.json").write_text('{"env": {"SHARED": "local"}}')
    session = load_session(
        config_dir=str(config), session_id=SESSION, project_dir=str(project), environ={}
    )
    assert [s.level for s in session.settings] == ["user", "project", "local"]
    assert [dict(s.env)["SHARED"] for s in session.settings] == ["user", "project", "local"]


@pytest.mark.parametrize("source", ["startup", "resume", "compact"])
def test_run_claude_hook_gives_claude_codes_stdin_and_env_file(tmp_path: Path, source: str) -> None:

    require_tool("sh")
    hook = tmp_path / "hook.sh"
    hook.write_text(HOOK)
    hook.chmod(0o755)
    copy = tmp_path / "stdin.json"
    environ = {"PATH": "/usr/bin:/bin", "STDIN_COPY": str(copy)}
    config = tmp_path / "config"
    for _ in range(2):  # a given config dir keeps the file: the second run appends
        outcome = run_claude_hook(
            [str(hook)], source=source, config_dir=str(config), session_id=SESSION,
            cwd=str(tmp_path), environ=environ, platform="posix",
        )  # fmt: skip
    stdin = json.loads(copy.read_text())
    assert stdin == outcome.stdin
    assert list(validator("claude-session-start.input").iter_errors(stdin)) == []
    assert stdin["source"] == source
    assert outcome.env_file.path == str(config / "session-env" / SESSION / "sessionstart-hook-0.sh")
    assert outcome.env_file.text == 'export PATH="/opt/tool/bin:$PATH"\n' * 2
    assert Path(f"{copy}.project").read_text().strip() == str(tmp_path)
    assert outcome.result.ok
    assert outcome.result.additional_context == "Using the tool"
    assert outcome.result.layer is not None
    assert [op.action for op in outcome.result.layer.ops] == ["prepend", "prepend"]
