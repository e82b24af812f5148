"""venv: what ``bin/activate`` (``Scripts\\activate.bat`` on Windows) does, as data.

Activation sets ``VIRTUAL_ENV`` to the environment's absolute path, prepends its ``bin``
(``Scripts``) directory to ``PATH``, unsets ``PYTHONHOME`` and sets ``VIRTUAL_ENV_PROMPT``
(the literal the activate script sets, else the ``prompt`` of ``pyvenv.cfg``, else the
directory's name). The prompt change of interactive shells (``PS1``) is not part of it.
"""

from __future__ import annotations

import re
from pathlib import Path

from .._names import PlatformArg, resolve_platform
from ..ops import Op
from ._result import ProviderResult, failure, problem, success

_PROMPT_LINE = re.compile(r"""^\s*VIRTUAL_ENV_PROMPT=(?:'([^'$`\\]*)'|"([^"$`\\]*)")\s*$""", re.M)


def venv_ops(location: str, prompt: str, *, platform: PlatformArg = "auto") -> list[Op]:
    """The ops of activating the venv at absolute path ``location``."""
    plat = resolve_platform(platform)
    separator = "\\" if plat == "windows" else "/"
    scripts = "Scripts" if plat == "windows" else "bin"
    return [
        Op.set("VIRTUAL_ENV", location),
        Op.prepend("PATH", [f"{location.rstrip(separator)}{separator}{scripts}"]),
        Op.unset("PYTHONHOME"),
        Op.set("VIRTUAL_ENV_PROMPT", prompt),
    ]


def venv(directory: str, *, platform: PlatformArg = "auto") -> ProviderResult:
    """Activate the venv in ``directory`` (which holds ``pyvenv.cfg``)."""
    root = Path(directory).absolute()
    config = root / "pyvenv.cfg"
    if not config.is_file():
        return failure(
            "venv",
            directory,
            problem(
                "provider-failed",
                f"venv: {directory!r} has no pyvenv.cfg; it is not a virtual environment",
                "create one with `python -m venv DIR`, or pass its directory",
            ),
        )
    return success("venv", directory, venv_ops(str(root), _prompt(root), platform=platform))


def _prompt(root: Path) -> str:
    activate = root / "bin" / "activate"
    if activate.is_file():
        match = _PROMPT_LINE.search(activate.read_text("utf-8", "replace"))
        if match:
            return match.group(1) if match.group(1) is not None else match.group(2)
    for line in (root / "pyvenv.cfg").read_text("utf-8", "replace").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "prompt":
            return value.strip().strip("'\"")
    return root.name
