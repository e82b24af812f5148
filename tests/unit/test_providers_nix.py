"""The nix provider (``envoverlay.providers.nix``), from ``nix print-dev-env --json``
documents of its published shape (written here, not captured from a real build)."""

from __future__ import annotations

import json

import pytest

import envoverlay as eo
from envoverlay.providers import nix
from envoverlay.providers.nix import nix_ops

NIX_DOC = {
    "bashFunctions": {"genericBuild": "..."},
    "variables": {
        "PATH": {"type": "exported", "value": "/nix/store/a-gcc/bin:/nix/store/b-make/bin"},
        "XDG_DATA_DIRS": {"type": "exported", "value": "/nix/store/c/share"},
        "CC": {"type": "exported", "value": "gcc"},
        "HOME": {"type": "exported", "value": "/homeless-shelter"},
        "TMPDIR": {"type": "exported", "value": "/build"},
        "NIX_BUILD_TOP": {"type": "exported", "value": "/build"},
        "out": {"type": "var", "value": "/nix/store/out"},
        "buildInputs": {"type": "array", "value": ["a", "b"]},
        "SHLVL": {"type": "exported", "value": "1"},
    },
}


def test_nix_exported_only_path_prepended_internals_dropped(tmp_path):
    path = tmp_path / "dev-env.json"
    path.write_text(json.dumps(NIX_DOC))
    provided = nix(str(path))
    assert provided.ok
    result = eo.compose(
        {"PATH": "/usr/bin", "HOME": "/home/me"}, [provided.layer], platform="posix"
    )
    assert result.env == {
        "PATH": "/nix/store/a-gcc/bin:/nix/store/b-make/bin:/usr/bin",
        "HOME": "/home/me",
        "XDG_DATA_DIRS": "/nix/store/c/share",
        "CC": "gcc",
    }


@pytest.mark.parametrize(
    "document",
    [
        [],
        {"variables": []},
        {"variables": {"A": "x"}},
        {"variables": {"A": {"type": "exported", "value": 1}}},
    ],
    ids=["array", "variables array", "bare value", "number value"],
)
def test_nix_malformed_documents(document):
    with pytest.raises(ValueError, match=r"variables|value"):
        nix_ops(document)
