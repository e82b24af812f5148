"""envfile: a saved env file as a provider layer — a ``CLAUDE_ENV_FILE``-style shell file
(``envfile=FILE``), a ``GITHUB_ENV`` file (``github-env=FILE``) or a ``GITHUB_PATH`` file
(``github-path=FILE``), read statically over the env composed so far (SPEC §3a). Nothing in
the file runs; a construct the reader does not read is an error naming its line."""

from __future__ import annotations

from collections.abc import Mapping

from .._names import PlatformArg
from ..envfile import EnvFileFormat, read_env_file
from ..sources import Source
from ._result import ProviderResult, failure, read_text, source_id, success

#: Provider kind → env file format.
ENV_FILE_KINDS: dict[str, EnvFileFormat] = {
    "envfile": "shell",
    "github-env": "github-env",
    "github-path": "github-path",
}


def envfile(
    path: str,
    base: Mapping[str, str] | None = None,
    *,
    kind: str = "envfile",
    platform: PlatformArg = "auto",
) -> ProviderResult:
    """A layer from the env file at ``path`` (its format named by ``kind``)."""
    text, error = read_text(kind, path)
    if text is None:
        assert error is not None
        return failure(kind, path, error)
    source = Source("provider", source_id(kind, path))
    result = read_env_file(
        text, base, format=ENV_FILE_KINDS[kind], platform=platform, label=path, source=source
    )
    if result.errors:
        return failure(kind, path, *result.errors)
    return success(kind, path, result.ops, result.warnings)
