"""Diagnostics (``envoverlay.diagnostics``): the list of stable codes."""

from __future__ import annotations

from pathlib import Path

import envoverlay as eo

ROOT = Path(__file__).resolve().parents[2]


def test_codes_lists_every_code_the_library_emits():
    import re

    emitted: set[str] = set()
    for path in (ROOT / "envoverlay").rglob("*.py"):
        text = path.read_text("utf-8")
        emitted.update(re.findall(r'Diagnostic\(\s*"(?:error|warning)",\s*"([a-z0-9-]+)"', text))
        emitted.update(re.findall(r'\b(?:problem|error)\(\s*"([a-z0-9-]+)"', text))
        emitted.update(re.findall(r'return "([a-z-]+)", ["\']', text))
    assert emitted - {"error", "warning"} <= set(eo.CODES)
    assert "wrong-event" in emitted  # the scan sees every way codes are written
