"""Shown CLI output is what the CLI prints today.

In README.md and docs/*.md, a ```console block holding one `$ envoverlay ...` line that is
followed directly by a ```text or ```json block is a claim: running that command from the repo
root prints exactly that text (json: that document). The exit status must be 1 when the shown
output holds an error, else 0.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.MULTILINE | re.DOTALL)
MISTAKES = ROOT / "examples" / "hooks" / "mistakes"


def shown_outputs(page: Path) -> list[tuple[str, str, str]]:
    """(command line, output language, output) for every console block with its output."""
    text = page.read_text("utf-8")
    fences = list(FENCE.finditer(text))
    pairs = []
    for first, second in itertools.pairwise(fences):
        if first.group(1) != "console" or second.group(1) not in ("text", "json"):
            continue
        if text[first.end() : second.start()].strip():
            continue  # prose in between: not a command and its output
        lines = first.group(2).splitlines()
        assert len(lines) == 1, f"{page.name}: one command per console block: {lines}"
        assert lines[0].startswith("$ envoverlay "), f"{page.name}: {lines[0]!r}"
        pairs.append((lines[0][2:], second.group(1), second.group(2)))
    return pairs


CASES = [(page, *pair) for page in PAGES for pair in shown_outputs(page)]


def run_cli(line: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "envoverlay", *shlex.split(line)[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        check=False,
    )


def json_has_error(document: object) -> bool:
    """Whether a `check` report (or a list of them) or an `explain` document holds an error."""
    reports = document if isinstance(document, list) else [document]
    return any(
        report.get("valid") is False
        or any(d.get("severity") == "error" for d in report.get("diagnostics", []))
        for report in reports
    )


@pytest.mark.parametrize(
    ("page", "line", "language", "shown"),
    CASES,
    ids=[f"{page.name}: {line}" for page, line, _, _ in CASES],
)
def test_shown_output_is_what_the_cli_prints(
    page: Path, line: str, language: str, shown: str
) -> None:
    proc = run_cli(line)
    if language == "json":
        document = json.loads(shown)
        assert json.loads(proc.stdout) == document
        has_error = json_has_error(document)
        if isinstance(document, dict) and "format" in document:  # a report: valid, shipped
            from envoverlay.schemas import validator

            schema = document["format"].removeprefix("envoverlay.") + "-report"
            assert [e.message for e in validator(schema).iter_errors(document)] == []
    else:
        assert proc.stdout == shown
        has_error = "error[" in shown
    assert proc.returncode == (1 if has_error else 0), proc.stderr


def test_there_are_shown_outputs_to_check() -> None:
    assert len(CASES) >= 12


def common_mistakes() -> str:
    text = (ROOT / "docs" / "hook-authors.md").read_text("utf-8")
    return text.split("## Common mistakes", 1)[1].split("\n## ", 1)[0]


def test_common_mistakes_show_each_rule_with_its_message() -> None:
    section = common_mistakes()
    outputs = [
        output
        for page, line, _, output in CASES
        if page.name == "hook-authors.md" and line in section
    ]
    codes = set(re.findall(r"(?:error|warning)\[([a-z-]+)\]", "".join(outputs)))
    assert codes >= {
        "protected",
        "relative-path-entry",
        "nul",
        "duplicate-key",
        "invalid-op",
        "case-conflict",
        "sensitive",
    }
    assert any("publishes no env" in output for output in outputs)  # a log line first


def test_every_mistake_file_is_shown() -> None:
    section = common_mistakes()
    files = sorted(path.name for path in MISTAKES.iterdir())
    assert files
    assert [name for name in files if f"examples/hooks/mistakes/{name}" not in section] == []


def test_cli_page_names_every_command_and_flag() -> None:
    from envoverlay.cli import build_parser

    page = (ROOT / "docs" / "cli.md").read_text("utf-8")
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = []
    for name, subparser in commands.choices.items():
        if f"## `envoverlay {name}" not in page:
            missing.append(name)
        for action in subparser._actions:
            for option in action.option_strings:
                if f"`{option}" not in page:
                    missing.append(f"{name} {option}")
            for choice in action.choices or ():
                if option_choice_missing(page, action, str(choice)):
                    missing.append(f"{name} {action.dest}={choice}")
    assert missing == []


def option_choice_missing(page: str, action: argparse.Action, choice: str) -> bool:
    """A choice of an option counts as documented where the page lists it next to the flag."""
    if not action.option_strings:
        return False
    flag = action.option_strings[-1]
    return not any(flag in line and choice in line for line in page.splitlines())
