"""Secret names: which variables hold credentials, judged by name alone.

Env files (SPEC §3a) and plain string overlays carry no ``secret`` marker, yet hooks write
``GITHUB_TOKEN`` or ``SLACK_WEBHOOK_URL`` into them in plain text. A value whose name
matches one of :data:`DEFAULT_SECRET_PATTERNS` is marked secret: it stays real in the spawn
map and is redacted (``***``) everywhere else. This is redaction only — the value is never
changed or dropped — so a false positive costs a ``***`` in a report, nothing more.

Patterns are globs (``*`` and ``?``, whole name, case-insensitive on every platform: a
``github_token`` is as secret as a ``GITHUB_TOKEN``). Callers pass their own tuple to
override the defaults; an empty tuple marks nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Final

import attrs

from ._names import WINDOWS, NameGlobs, names_argument

#: The default secret name patterns (SPEC §3a).
DEFAULT_SECRET_PATTERNS: Final[tuple[str, ...]] = (
    "*TOKEN*",
    "*SECRET*",
    "*PASSWORD*",
    "*KEY*",
    "*CREDENTIAL*",
    "*WEBHOOK*",
)


def _pattern_tuple(patterns: Iterable[str] | str) -> tuple[str, ...]:
    # A bare string is one pattern, as for every argument that takes names.
    return names_argument(patterns, argument="secret patterns")


@attrs.frozen
class SecretNames:
    """A set of secret name patterns. ``SecretNames()`` holds the defaults;
    ``SecretNames(("*PASS*",))`` replaces them; ``SecretNames(())`` marks nothing."""

    patterns: tuple[str, ...] = attrs.field(
        default=DEFAULT_SECRET_PATTERNS, converter=_pattern_tuple
    )

    #: The compiled patterns (a bad pattern fails when the object is made, not at first use).
    _globs: NameGlobs = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_globs", _compiled(self.patterns))

    def matches(self, name: str) -> bool:
        """Whether ``name`` is a secret's name."""
        return self._globs.matches(name)

    def matches_folded(self, folded: str) -> bool:
        """Whether a name whose :func:`~envoverlay._names.windows_fold` is ``folded`` is a
        secret's name: :meth:`matches` for a caller that folded the name already (the env-file
        reader judges every name it reads once, folded once)."""
        return self._globs.matches_key(folded)

    def pattern_for(self, name: str) -> str | None:
        """The first pattern that matches ``name`` (to say why it was marked), or None."""
        return self._globs.first_match(name)


@lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> NameGlobs:
    # Secret names are matched ignoring case on every platform (GitHub_Token is a token).
    return WINDOWS.globs(patterns)


#: The default patterns, ready to match.
DEFAULT_SECRET_NAMES: Final = SecretNames()


def is_secret_name(name: str, patterns: Iterable[str] | None = None) -> bool:
    """Whether ``name`` matches the secret patterns (the defaults when ``patterns`` is None)."""
    if patterns is None:
        return DEFAULT_SECRET_NAMES.matches(name)
    return SecretNames(tuple(patterns)).matches(name)


__all__ = ["DEFAULT_SECRET_NAMES", "DEFAULT_SECRET_PATTERNS", "SecretNames", "is_secret_name"]
