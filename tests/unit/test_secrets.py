"""Secret names (envoverlay.secrets): the default patterns, overriding them, bad patterns."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envoverlay._names import windows_fold
from envoverlay.secrets import (
    DEFAULT_SECRET_NAMES,
    DEFAULT_SECRET_PATTERNS,
    SecretNames,
    is_secret_name,
)

CASES = [
    # (name, secret by the defaults, the pattern that matched)
    ("GITHUB_TOKEN", True, "*TOKEN*"),
    ("github_token", True, "*TOKEN*"),
    ("TOKENIZER_DIR", True, "*TOKEN*"),
    ("AWS_SECRET_ACCESS_KEY", True, "*SECRET*"),
    ("DB_PASSWORD", True, "*PASSWORD*"),
    ("OPENAI_API_KEY", True, "*KEY*"),
    ("GOOGLE_APPLICATION_CREDENTIALS", True, "*CREDENTIAL*"),
    ("SLACK_WEBHOOK_URL", True, "*WEBHOOK*"),
    ("Path", False, None),
    ("HOME", False, None),
    ("VIRTUAL_ENV", False, None),
    ("KE_Y", False, None),
]


@pytest.mark.parametrize(("name", "secret", "pattern"), CASES)
def test_default_patterns(name: str, secret: bool, pattern: str | None) -> None:
    assert is_secret_name(name) is secret
    assert DEFAULT_SECRET_NAMES.matches(name) is secret
    assert DEFAULT_SECRET_NAMES.pattern_for(name) == pattern


def test_the_defaults_are_the_spec_list() -> None:
    assert DEFAULT_SECRET_PATTERNS == (
        "*TOKEN*", "*SECRET*", "*PASSWORD*", "*KEY*", "*CREDENTIAL*", "*WEBHOOK*"
    )  # fmt: skip


def test_patterns_are_overridable() -> None:
    custom = SecretNames(("*PASS*", "API_?"))
    assert custom.matches("MYPASS")
    assert custom.matches("api_x")
    assert not custom.matches("GITHUB_TOKEN")
    assert is_secret_name("MYPASS", ["*PASS*"])
    assert not is_secret_name("GITHUB_TOKEN", [])
    assert not SecretNames(()).matches("GITHUB_TOKEN")


@pytest.mark.parametrize("patterns", [[""], [None], 7])
def test_bad_patterns_are_refused(patterns: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        SecretNames(patterns)  # type: ignore[arg-type]


def test_a_bare_string_is_one_pattern() -> None:
    assert SecretNames("*PASS*").patterns == ("*PASS*",)  # type: ignore[arg-type]
    assert SecretNames("*PASS*").matches("DB_PASSWORD")  # type: ignore[arg-type]


@given(st.text(min_size=1).filter(lambda s: "\0" not in s))
def test_a_name_holding_a_pattern_word_is_secret(core: str) -> None:
    for word in ("token", "Secret", "PASSWORD", "key", "Credential", "webhook"):
        assert is_secret_name(core + word + core)


@given(
    name=st.text(alphabet="aeknoprstwyKEYTOKN_\u212a\u00df1", min_size=1, max_size=12),
    patterns=st.sampled_from([None, ("*KEY*",), ("GH_*", "*tok?n*"), ("API_KEY",)]),
)
def test_matches_folded_is_matches_of_the_folded_name(
    name: str, patterns: tuple[str, ...] | None
) -> None:
    secrets = DEFAULT_SECRET_NAMES if patterns is None else SecretNames(patterns)
    assert secrets.matches_folded(windows_fold(name)) is secrets.matches(name)
