"""dotenv: a ``.env`` file, parsed with python-dotenv (the ``envoverlay[dotenv]`` extra).

Interpolation follows python-dotenv's syntax — ``${NAME}`` and ``${NAME:-default}``, in
every value; a bare ``$NAME`` is literal — but resolves names only against (1) the values
defined earlier in the same file, then (2) the base the caller passed explicitly (the env
composed so far). It never reads this process's environment behind the caller's back. A
name that resolves nowhere becomes the empty string, as in python-dotenv, with an
``unresolved-variable`` warning naming it and the line; a line python-dotenv cannot parse is
an error, and a key without ``=`` (no value) is skipped with a warning.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from .._names import PlatformArg
from ..diagnostics import Diagnostic, OverlayError
from ..ops import Op
from ._result import ProviderResult, failure, problem, read_text, success


def dotenv_ops(
    text: str, base: Mapping[str, str] | None = None
) -> tuple[list[Op], list[Diagnostic], list[Diagnostic]]:
    """The ops of a ``.env`` text: ``(ops, errors, warnings)``. Raises ImportError when
    python-dotenv is not installed."""
    from dotenv.parser import parse_stream
    from dotenv.variables import parse_variables

    known: dict[str, str] = {}
    ops: list[Op] = []
    errors: list[Diagnostic] = []
    warnings: list[Diagnostic] = []
    for binding in parse_stream(io.StringIO(text)):
        line = binding.original.line
        if binding.error:
            errors.append(
                problem(
                    "invalid-dotenv",
                    f"dotenv: line {line} cannot be parsed: "
                    f"{binding.original.string.strip()[:60]!r}",
                    "write NAME=value (quote values with spaces or #)",
                )
            )
            continue
        if binding.key is None:  # a comment or a blank line
            continue
        if binding.value is None:
            warnings.append(
                Diagnostic(
                    "warning",
                    "no-value",
                    binding.key,
                    None,
                    f"dotenv: line {line}: {binding.key} has no '=' and no value; skipped",
                    hint=f"write {binding.key}= for an empty value",
                )
            )
            continue
        scope: dict[str, Any] = {**(base or {}), **known}
        resolved = []
        for atom in parse_variables(binding.value):
            name = getattr(atom, "name", None)
            if name is not None and name not in scope and getattr(atom, "default", None) is None:
                warnings.append(
                    Diagnostic(
                        "warning",
                        "unresolved-variable",
                        binding.key,
                        None,
                        f"dotenv: line {line}: ${{{name}}} is neither defined earlier in the file "
                        "nor in the base env; it became empty",
                        hint=f"define {name} above this line, or write ${{{name}:-default}}",
                    )
                )
            resolved.append(atom.resolve(scope))
        value = "".join(resolved)
        known[binding.key] = value
        ops.append(Op.set(binding.key, value))
    return ops, errors, warnings


def dotenv(
    path: str, *, base: Mapping[str, str] | None = None, platform: PlatformArg = "auto"
) -> ProviderResult:
    """A layer from a ``.env`` file; ``${VAR}`` resolves against the file, then ``base``."""
    text, error = read_text("dotenv", path)
    if text is None:
        assert error is not None
        return failure("dotenv", path, error)
    try:
        ops, errors, warnings = dotenv_ops(text, base)
    except OverlayError as exc:  # e.g. a key no environment can hold
        return failure("dotenv", path, *exc.diagnostics)
    except ImportError:
        return failure(
            "dotenv",
            path,
            problem(
                "provider-failed",
                "dotenv: python-dotenv is not installed",
                "pip install 'envoverlay[dotenv]'",
            ),
        )
    if errors:
        return failure("dotenv", path, *errors)
    return success("dotenv", path, ops, warnings)
