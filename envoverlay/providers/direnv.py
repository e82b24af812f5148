"""direnv: run the real ``direnv export json`` and turn its answer into a diff.

direnv answers with full final values (``{"NAME": "value" | null}``); diffing them against
the base gives ops that compose over any base (``PATH_add bin`` becomes a prepend). direnv's
own bookkeeping (``DIRENV_DIFF``, ``DIRENV_DIR``, ``DIRENV_FILE``, ``DIRENV_WATCHES``) is left
out. A blocked or failing ``.envrc`` is an error carrying direnv's message, and nothing of it
applies — even though direnv still prints a partial diff in that case. No shell code is ever
replayed later: only the resulting values are kept.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from .._jsonio import load_json
from .._names import PlatformArg
from ..diagnostics import OverlayError
from ..diff import env_diff
from ..ops import Op
from ._result import DEFAULT_TIMEOUT, ProviderResult, failure, problem, success

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def direnv_ops(
    export: Mapping[str, str | None], base: Mapping[str, str], *, platform: PlatformArg = "auto"
) -> list[Op]:
    """The ops of a ``direnv export json`` answer, given the env direnv ran with."""
    after = dict(base)
    for name, value in export.items():
        if value is None:
            after.pop(name, None)
        else:
            after[name] = value
    return env_diff(base, after, platform=platform)


def direnv(
    directory: str,
    base: Mapping[str, str],
    *,
    platform: PlatformArg = "auto",
    timeout: float = DEFAULT_TIMEOUT,
    program: str = "direnv",
) -> ProviderResult:
    """Run ``direnv export json`` in ``directory`` with ``base`` as its environment."""
    if not os.path.isdir(directory):
        return failure(
            "direnv",
            directory,
            problem(
                "provider-failed",
                f"direnv: {directory!r} is not a directory",
                "pass the project directory",
            ),
        )
    from ..runner import run_in_process_group

    try:
        # Its own process group: an .envrc's helpers die with it on a timeout or Ctrl-C.
        proc = run_in_process_group(
            [program, "export", "json"], cwd=directory, env=base, timeout=timeout
        )
    except FileNotFoundError:
        return failure(
            "direnv",
            directory,
            problem(
                "provider-failed",
                f"direnv: the program {program!r} was not found",
                "install direnv (e.g. the Debian package 'direnv')",
            ),
        )
    why = proc.stopped(timeout)
    if why is not None:
        return failure(
            "direnv",
            directory,
            problem(
                "provider-failed",
                f"direnv: export {why}; it and its children were killed",
                "make the .envrc faster, or raise the timeout",
            ),
        )
    message = _ANSI.sub("", proc.stderr.decode("utf-8", "replace")).strip()
    if proc.returncode != 0:
        return failure(
            "direnv",
            directory,
            problem(
                "provider-failed",
                f"direnv: export exited with code {proc.returncode}: {message or 'no message'}",
                "run `direnv allow` in that directory if the .envrc is blocked, or fix the .envrc",
            ),
        )
    text = proc.stdout.decode("utf-8", "replace")
    if not text.strip():
        return success("direnv", directory, [])
    document, problems = load_json(text, what="direnv export json output")
    if (
        problems
        or not isinstance(document, dict)
        or not all(isinstance(v, str) or v is None for v in document.values())
    ):
        return failure(
            "direnv",
            directory,
            problem(
                "provider-failed",
                "direnv: export json printed something that is not a {name: string | null} object",
                "check the direnv version",
            ),
        )
    try:
        ops = direnv_ops(document, base, platform=platform)
    except OverlayError as exc:  # e.g. a name no environment can hold
        return failure("direnv", directory, *exc.diagnostics)
    return success("direnv", directory, ops)
