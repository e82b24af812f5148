"""mise: run the real ``mise env --json`` in a project directory, or read a saved document.

``mise=DIR`` runs ``mise env --json`` there over the env composed so far (in its own process
group, with a timeout, through :func:`envoverlay.runner.run_in_process_groups`), as the
direnv provider runs direnv. mise answers with final values
of the variables it manages; diffing them against the base gives ops that compose over any
base (``_.path`` becomes a prepend). ``mise env --json`` leaves out what ``[env]`` clears
(``NAME = false``), so the same run's ``mise env -s bash`` answer is scanned for its
``unset NAME`` lines: nothing mise removes is silently kept. mise's trust rules apply: a
config file mise does not trust is an error carrying mise's message and the fix,
``mise trust``. A failing mise contributes nothing. ``mise=FILE`` reads a saved
``mise env --json`` (or ``--json-extended``) document instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

import attrs

from .._jsonio import load_json
from .._names import PlatformArg
from ..diagnostics import Diagnostic, OverlayError
from ..diff import env_diff
from ..ops import Op
from ._result import (
    DEFAULT_TIMEOUT,
    ProviderResult,
    failure,
    from_json_document,
    problem,
    success,
)

if TYPE_CHECKING:
    from ..runner import GroupRun

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: Lines of mise's error output that say nothing about the problem.
_NOISE = re.compile(r"^mise ERROR (Version:|Run with --verbose)")
_LEVEL = re.compile(r"^(mise (ERROR|WARN) |\[WARN\] migrate: )")
_UNSET = re.compile(r"unset ([A-Za-z_][A-Za-z0-9_]*)\Z")
#: mise's own bookkeeping (SPEC §3a): never part of a project's env.
_BOOKKEEPING_PREFIX = "__MISE_"
#: What mise is asked: final values, the shell form of the same answer (for its unsets), and
#: the variables its config redacts (their ops are secret).
_QUESTIONS = (["env", "--json"], ["env", "-s", "bash"], ["env", "--redacted", "--json"])


def mise_ops(
    document: object,
    base: Mapping[str, str],
    *,
    platform: PlatformArg = "auto",
    unset: Collection[str] = (),
    secret: Collection[str] = (),
) -> list[Op]:
    """The ops of a ``mise env --json`` (or ``--json-extended``) document over ``base``;
    ``unset`` names the variables mise clears, ``secret`` those it redacts (their ops are
    secret). Raises ValueError for a document of another shape."""
    if isinstance(document, Mapping) and all(
        isinstance(v, Mapping) and isinstance(v.get("value"), str) for v in document.values()
    ):
        document = {name: entry["value"] for name, entry in document.items()}
    if not isinstance(document, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in document.items()
    ):
        raise ValueError("the document is not a flat JSON object of name to string")
    after = dict(base)
    after.update(
        (name, value)
        for name, value in document.items()
        if not name.startswith(_BOOKKEEPING_PREFIX)
    )
    for name in unset:
        if name not in document:
            after.pop(name, None)
    return [
        attrs.evolve(op, secret=True) if op.name in secret and op.action != "unset" else op
        for op in env_diff(base, after, platform=platform)
    ]


def unset_names(shell_output: str) -> list[str]:
    """The names a ``mise env -s bash`` answer unsets: its ``unset NAME`` lines outside
    quoted values (a multi-line value may hold such a line; it is skipped)."""
    names = []
    quoted = False
    for line in shell_output.split("\n"):
        if not quoted:
            match = _UNSET.match(line)
            if match:
                names.append(match.group(1))
        escaped = False
        for char in line:  # mise quotes with '...' and \' outside quotes
            if escaped:
                escaped = False
            elif char == "\\" and not quoted:
                escaped = True
            elif char == "'":
                quoted = not quoted
    return names


def mise(
    argument: str,
    base: Mapping[str, str],
    *,
    platform: PlatformArg = "auto",
    timeout: float = DEFAULT_TIMEOUT,
    program: str = "mise",
) -> ProviderResult:
    """A layer from mise: ``argument`` is a project directory (mise runs there with ``base``
    as its environment) or a saved ``mise env --json`` document."""
    if not os.path.isdir(argument):
        return from_json_document(
            "mise",
            argument,
            lambda document: mise_ops(document, base, platform=platform),
            "pass a project directory, or the output of `mise env --json`",
        )
    answers = _ask(program, argument, base, timeout)
    if isinstance(answers, Diagnostic):
        return failure("mise", argument, answers)
    texts, warnings = answers
    json_text, shell_text, redacted_text = texts
    document, problems = load_json(json_text, what="mise env --json output")
    if problems:
        return failure(
            "mise",
            argument,
            problem(
                "provider-failed",
                f"mise: env --json printed something that is not JSON: {problems[0].message}",
                "check the mise version (mise env --json prints a JSON object)",
            ),
        )
    redacted, problems = load_json(redacted_text, what="mise env --redacted --json output")
    if problems or not isinstance(redacted, dict):
        redacted = {}
        warnings.append(
            Diagnostic(
                "warning",
                "provider-message",
                None,
                None,
                "mise: env --redacted --json printed no JSON object, so no value is marked "
                "secret from mise's redactions",
                "check the mise version",
            )
        )
    try:
        ops = mise_ops(
            document, base, platform=platform, unset=unset_names(shell_text), secret=set(redacted)
        )
    except OverlayError as exc:  # e.g. a name no environment can hold
        return failure("mise", argument, *exc.diagnostics)
    except ValueError as exc:
        return failure(
            "mise",
            argument,
            problem("provider-failed", f"mise: env --json: {exc}", "check the mise version"),
        )
    return success("mise", argument, ops, warnings)


def _ask(
    program: str, directory: str, base: Mapping[str, str], timeout: float
) -> tuple[list[str], list[Diagnostic]] | Diagnostic:
    """mise's answers to :data:`_QUESTIONS` in ``directory`` and its warnings, or the error
    that says why it failed. The questions run at once, each in its own process group: the
    provider costs about one mise run of wall time, and a timeout or a signal kills them all."""
    from ..runner import run_in_process_groups

    try:
        runs = run_in_process_groups(
            [[program, *args] for args in _QUESTIONS], cwd=directory, env=base, timeout=timeout
        )
    except FileNotFoundError:
        return problem(
            "provider-failed",
            f"mise: the program {program!r} was not found",
            "install mise (e.g. the npm package @jdxcode/mise-linux-x64), or pass a saved "
            "`mise env --json` document as mise=FILE.json",
        )
    except OSError as exc:
        return problem(
            "provider-failed", f"mise: cannot run {program!r}: {exc.strerror}", "check mise"
        )
    texts: list[str] = []
    warnings: list[Diagnostic] = []
    for index, (args, run) in enumerate(zip(_QUESTIONS, runs, strict=True)):
        answer = _answer(run, args, directory, timeout)
        if isinstance(answer, Diagnostic):
            return answer
        texts.append(answer[0])
        warnings.extend(answer[1] if not index else ())  # each question repeats them
    return texts, warnings


def _answer(
    run: GroupRun, args: list[str], directory: str, timeout: float
) -> tuple[str, list[Diagnostic]] | Diagnostic:
    """One question's stdout and mise's warnings, or the error that says why it failed."""
    command = " ".join(["mise", *args])
    why = run.stopped(timeout)
    if why is not None:
        return problem(
            "provider-failed",
            f"mise: `{command}` {why} (killed, with every process it started)",
            "check the project's mise config (a slow _.source script?), or raise the timeout",
        )
    message = _message(run.stderr)
    if run.returncode != 0:
        hint = (
            f"review the config, then run `mise trust` in {directory}"
            if "not trusted" in message
            else "fix the mise config (mise's message above says where)"
        )
        return problem(
            "provider-failed",
            f"mise: `{command}` exited with code {run.returncode}: {message or 'no message'}",
            hint,
        )
    warnings = []
    if message:  # mise succeeded but said something: shown, never lost
        warnings.append(Diagnostic("warning", "provider-message", None, None, f"mise: {message}"))
    return run.stdout.decode("utf-8", "replace"), warnings


def _message(stderr: bytes) -> str:
    lines = _ANSI.sub("", stderr.decode("utf-8", "replace")).splitlines()
    kept = (line.strip() for line in lines if line.strip() and not _NOISE.match(line))
    # mise repeats a config error as a migration warning: each message once, in order
    return " ".join(dict.fromkeys(_LEVEL.sub("", line) for line in kept))
