"""Project environment providers: direnv, venv, dotenv, nix and mise as ``provider`` layers.

Each provider turns what a project tool would do to a shell into data — a layer whose id
names it (``direnv:/repo``, ``venv:/repo/.venv``, ...) — so that its variables carry
provenance and compose like any other layer. The conversion from the tool's output to ops is
a pure function in each module; reading a file or running ``direnv`` is the thin edge around
it. A provider never raises on bad input: problems are diagnostics in its
:class:`ProviderResult`, and a provider with errors contributes no layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .._names import PlatformArg
from ..diagnostics import Diagnostic
from ._result import DEFAULT_TIMEOUT, ProviderResult, failure
from .direnv import direnv
from .dotenv import dotenv
from .envfile import ENV_FILE_KINDS, envfile
from .mise import mise
from .nix import nix
from .venv import venv

#: The provider kinds ``--provider KIND=ARG`` accepts.
PROVIDER_KINDS: Final = ("direnv", "dotenv", "venv", "nix", "mise", *ENV_FILE_KINDS)


def from_spec(
    spec: str,
    base: Mapping[str, str],
    *,
    platform: PlatformArg = "auto",
    timeout: float = DEFAULT_TIMEOUT,
) -> ProviderResult:
    """Run the provider named by a ``KIND=ARG`` spec (the CLI's ``--provider``) over ``base``,
    the env composed so far."""
    kind, sep, arg = spec.partition("=")
    if not sep or not arg or kind not in PROVIDER_KINDS:
        return failure(
            kind or spec,
            arg,
            Diagnostic(
                "error",
                "invalid-provider",
                None,
                None,
                f"--provider takes KIND=ARG with KIND one of {', '.join(PROVIDER_KINDS)}; "
                f"got {spec!r}",
                hint="e.g. --provider direnv=. or --provider venv=.venv",
            ),
        )
    if kind == "direnv":
        return direnv(arg, base, platform=platform, timeout=timeout)
    if kind == "venv":
        return venv(arg, platform=platform)
    if kind == "dotenv":
        return dotenv(arg, base=base, platform=platform)
    if kind == "nix":
        return nix(arg, platform=platform)
    if kind in ENV_FILE_KINDS:
        return envfile(arg, base, kind=kind, platform=platform)
    return mise(arg, base, platform=platform, timeout=timeout)


__all__ = [
    "PROVIDER_KINDS",
    "ProviderResult",
    "direnv",
    "dotenv",
    "envfile",
    "from_spec",
    "mise",
    "nix",
    "venv",
]
