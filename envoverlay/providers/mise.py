"""mise: a ``mise env --json`` document (final values) as a diff against the base."""

from __future__ import annotations

from collections.abc import Mapping

from .._names import PlatformArg
from ..diff import env_diff
from ..ops import Op
from ._result import ProviderResult, from_json_document


def mise_ops(
    document: object, base: Mapping[str, str], *, platform: PlatformArg = "auto"
) -> list[Op]:
    """The ops of a ``mise env --json`` document over ``base``. Raises ValueError for a
    document that is not a flat object of strings."""
    if not isinstance(document, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in document.items()
    ):
        raise ValueError("the document is not a flat JSON object of name to string")
    after = {**base, **document}
    return env_diff(base, after, platform=platform)


def mise(path: str, base: Mapping[str, str], *, platform: PlatformArg = "auto") -> ProviderResult:
    """A layer from a saved ``mise env --json`` output file."""
    return from_json_document(
        "mise", path, lambda document: mise_ops(document, base, platform=platform),
        "pass the output of `mise env --json`",
    )  # fmt: skip
