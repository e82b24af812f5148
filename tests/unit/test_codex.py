"""The Codex 0.169 mapping (envoverlay.codex): the policy, config files and hooks.json."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest
from catalogue import load_named
from hypothesis import given
from hypothesis import strategies as st
from strategies import json_values

from envoverlay.codex import (
    CODEX_FIXED_ENV,
    CODEX_NON_INHERITABLE,
    PER_RUN,
    CodexConfigError,
    CodexPolicy,
    CommandEnv,
    apply_codex_policy,
    codex_glob_matches,
    codex_process_env,
    command_env,
    is_non_inheritable,
    merge_config,
    parse_codex_hooks,
    parse_config_text,
    parse_override,
    sandbox_env,
    with_override,
)

CATALOGUE = load_named("codex-policy")
CASES = CATALOGUE.cases
PLACEHOLDERS = {"cwd": "{cwd}", "codex_path": ["{codex-path}"]}


def policy_of(case: dict[str, Any]) -> CodexPolicy:
    text = "[shell_environment_policy]\n" + case["policy"] + "\n"
    return CodexPolicy.from_table(tomllib.loads(text)["shell_environment_policy"])


def predicted_entries(case: dict[str, Any]) -> list[str]:
    """What envoverlay says `codex sandbox -- env -0` prints for a catalogue case."""
    launcher = {**case["base"], "CODEX_HOME": "{CODEX_HOME}"}
    env = sandbox_env(launcher, policy_of(case), cwd="{cwd}", codex_path=["{codex-path}"])
    return sorted(f"{name}={value}" for name, value in env.items())


def test_catalogue_is_large_and_covers_the_rules() -> None:
    assert len(CASES) >= 80
    unicode_cases = [case for case in CASES if case["name"].startswith("unicode-")]
    assert len(unicode_cases) >= 24
    policies = "\n".join(case["policy"] for case in CASES)
    for needle in ("\u017f", "\u0131", "\u03c2", "\u212a", 'exclude = [""]', "bogus", "core"):
        assert needle in policies


@pytest.mark.parametrize("case", CATALOGUE.params(lambda case: "error" not in case["expect"]))
def test_catalogue_case_agrees_with_recorded_codex(case: dict[str, Any]) -> None:
    """The map Codex 0.169.0 gave (recorded in the catalogue; re-measured by
    tests/peers/test_codex_policy.py) is the map envoverlay computes."""
    assert predicted_entries(case) == case["expect"]["codex"]


@pytest.mark.parametrize("case", CATALOGUE.params(lambda case: "error" in case["expect"]))
def test_names_no_block_can_hold_are_errors(case: dict[str, Any]) -> None:
    """Codex passes `=x` / `A=B=x` raw; envoverlay refuses, naming the key and the fix."""
    assert any(entry.startswith(("=", "A=B=")) for entry in case["expect"]["codex"])
    with pytest.raises(CodexConfigError) as raised:
        policy_of(case)
    assert raised.value.key.startswith("shell_environment_policy.set.")
    assert "no environment can hold" in str(raised.value)
    assert "fix:" in str(raised.value)


#: (pattern, name, matches?) — the case rule found by differential testing.
GLOB_CASES = [
    ("PATH", "path", True),
    ("*PATH", "MYPATH", True),
    ("*PATH", "PATHEXT", False),
    ("A?C", "ABC", True),
    ("A?C", "AC", False),
    ("[A]", "A", False),
    ("[A]", "[a]", True),
    ("A\\*", "A\\xyz", True),
    ("", "", False),
    ("", "A", False),
    ("\u212a*", "kilo", True),  # Kelvin sign = k
    ("\u00c9T\u00c9", "\u00e9t\u00e9", True),
    ("\u017f", "s", False),  # long s is not s
    ("\u0131", "I", False),  # dotless i is not I
    ("\u03c2", "\u03c3", False),  # final sigma is not sigma
    ("\u0130", "i", False),
    ("\u0130", "\u0130", True),
    ("\u00b5", "\u03bc", False),  # micro sign is not mu
    ("A?B", "A\U0001f600B", True),  # ? is one character, astral included
]


@pytest.mark.parametrize(("pattern", "name", "expected"), GLOB_CASES)
def test_glob_rule(pattern: str, name: str, expected: bool) -> None:
    assert codex_glob_matches(pattern, name) is expected


def test_glob_rule_is_not_python_ignorecase() -> None:
    differ = [
        (p, n)
        for p, n, expected in GLOB_CASES
        if p and (re.fullmatch(re.escape(p).replace(r"\*", ".*"), n, re.I) is not None) != expected
    ]
    assert ("\u017f", "s") in differ


# Codex globs: names of UTF-8 characters without the wildcards (specific to its glob rule).
_chars = st.characters(codec="utf-8", exclude_characters="*?")


@given(st.text(_chars, max_size=8))
def test_a_literal_pattern_matches_itself_and_its_case_variants(name: str) -> None:
    if not name:
        return
    assert codex_glob_matches(name, name)
    assert codex_glob_matches(name.upper(), name) is (
        len(name.upper()) == len(name)
        and all(u.lower() == c.lower() for u, c in zip(name.upper(), name, strict=True))
    )
    assert codex_glob_matches("*", name)
    assert codex_glob_matches("?" * len(name), name)
    assert not codex_glob_matches("?" * (len(name) + 1), name)


@given(st.text(_chars, min_size=1, max_size=6), st.text(_chars, max_size=6))
def test_star_suffix_matches_every_extension(prefix: str, rest: str) -> None:
    assert codex_glob_matches(prefix + "*", prefix + rest)


@pytest.mark.parametrize("name", CODEX_NON_INHERITABLE)
def test_non_inheritable_is_ascii_case_insensitive(name: str) -> None:
    assert is_non_inheritable(name)
    assert is_non_inheritable(name.lower())
    assert is_non_inheritable(name.title())
    assert not is_non_inheritable(name + "_X")
    assert not is_non_inheritable(name.replace("K", "\u212a")) or "K" not in name


def test_outcome_explains_each_removal_and_dropped_set() -> None:
    policy = CodexPolicy(
        inherit="all",
        ignore_default_excludes=False,
        exclude=("TMP*",),
        include_only=("A*", "TMP*", "*TOKEN"),
        set=(("TMPX", "1"), ("ZED", "2"), ("NODE_REPL_AUTH_TOKEN", "3"), ("AB", "4")),
    )
    base = {"API_KEY": "k", "TMPDIR": "/t", "B": "b", "ALPHA": "a", "node_repl_auth_token": "x"}
    outcome = apply_codex_policy(base, policy)
    assert dict(outcome.env) == {"ALPHA": "a", "TMPX": "1", "AB": "4"}
    assert outcome.removed == {
        "API_KEY": "default exclude '*KEY*' (ignore_default_excludes = false)",
        "TMPDIR": "exclude 'TMP*'",
        "B": "not matched by include_only",
        "node_repl_auth_token": "default exclude '*TOKEN*' (ignore_default_excludes = false)",
    }
    kept = apply_codex_policy({"node_repl_auth_token": "x"}, CodexPolicy())
    assert kept.removed == {
        "node_repl_auth_token": "Codex never passes it to commands (non-inheritable)"
    }
    assert set(outcome.set_dropped) == {"ZED", "NODE_REPL_AUTH_TOKEN"}
    assert outcome.set_applied == (("TMPX", "1"), ("AB", "4"))


# -- config files -----------------------------------------------------------------------------

#: (TOML body of [shell_environment_policy], key named in the error, words of the message)
BAD_TABLES = [
    ('inherit = "some"', "shell_environment_policy.inherit", '"all", "core" or "none"'),
    ("inherit = 1", "shell_environment_policy.inherit", '"all", "core" or "none"'),
    ('exclude = "X"', "shell_environment_policy.exclude", "array of strings"),
    ("exclude = [1]", "shell_environment_policy.exclude[0]", "must be a string"),
    ('include_only = { a = "b" }', "shell_environment_policy.include_only", "array"),
    ("set = { A = 1 }", "shell_environment_policy.set.A", "must be a string"),
    ('set = "A=1"', "shell_environment_policy.set", "table of strings"),
    (
        'ignore_default_excludes = "no"',
        "shell_environment_policy.ignore_default_excludes",
        "boolean",
    ),
    (
        'exclude = ["A"]\n[shell_environment_policy.filters]\nB = "exclude"',
        "shell_environment_policy.filters",
        "mixed",
    ),
    (
        '[shell_environment_policy.filters]\nB = "maybe"',
        "shell_environment_policy.filters.B",
        '"include" or "exclude"',
    ),
    (
        '[shell_environment_policy.filters]\nAb = "exclude"\naB = "include"',
        "shell_environment_policy.filters.aB",
        "ignoring case",
    ),
    ('set = { "A=B" = "x" }', 'shell_environment_policy.set."A=B"', "no environment can hold"),
    ('set = { "" = "x" }', 'shell_environment_policy.set.""', "no environment can hold"),
    ('set = { A = "a\\u0000b" }', "shell_environment_policy.set.A", "NUL"),
]


@pytest.mark.parametrize(("body", "key", "words"), BAD_TABLES)
def test_bad_policy_tables_name_file_key_and_fix(body: str, key: str, words: str) -> None:
    table = tomllib.loads("[shell_environment_policy]\n" + body)["shell_environment_policy"]
    with pytest.raises(CodexConfigError) as raised:
        CodexPolicy.from_table(table, file="/home/u/.codex/config.toml")
    error = raised.value
    assert error.file == "/home/u/.codex/config.toml"
    assert error.key == key
    assert words in error.problem
    assert error.fix
    assert str(error).startswith(f"/home/u/.codex/config.toml: {key}: ")


def test_policy_that_is_not_a_table() -> None:
    with pytest.raises(CodexConfigError, match=r"shell_environment_policy: must be a table"):
        CodexPolicy.from_table(3, file="config.toml")


def test_unknown_key_is_ignored_or_refused_under_strict() -> None:
    policy = CodexPolicy.from_table({"bogus": 1, "exclude": ["A"]})
    assert policy.ignored_keys == ("bogus",)
    assert policy.exclude == ("A",)
    with pytest.raises(CodexConfigError, match=r"shell_environment_policy\.bogus: .*strict"):
        CodexPolicy.from_table({"bogus": 1}, strict=True)


def test_toml_syntax_error_names_file_line_and_column() -> None:
    with pytest.raises(CodexConfigError) as raised:
        parse_config_text("[shell_environment_policy\n", file="/c/config.toml")
    assert raised.value.file == "/c/config.toml"
    assert raised.value.key == "line 1, column 26"
    assert "not valid TOML" in str(raised.value)


#: (-c argument, dotted key, value) — TOML values, or the raw string when not TOML.
OVERRIDES = [
    ("shell_environment_policy.inherit=core", ("shell_environment_policy", "inherit"), "core"),
    ('shell_environment_policy.inherit="none"', ("shell_environment_policy", "inherit"), "none"),
    ('shell_environment_policy.exclude=["A*"]', ("shell_environment_policy", "exclude"), ["A*"]),
    (
        "shell_environment_policy.ignore_default_excludes=false",
        ("shell_environment_policy", "ignore_default_excludes"),
        False,
    ),
    ("shell_environment_policy.set.A=x y", ("shell_environment_policy", "set", "A"), "x y"),
    ("a=1=2", ("a",), "1=2"),
]


@pytest.mark.parametrize(("text", "path", "value"), OVERRIDES)
def test_override_parsing(text: str, path: tuple[str, ...], value: object) -> None:
    assert parse_override(text) == (path, value)


@pytest.mark.parametrize("text", ["novalue", "=x", "a..b=1"])
def test_bad_override(text: str) -> None:
    with pytest.raises(CodexConfigError, match=r"^-c: "):
        parse_override(text)


def test_layers_merge_tables_and_replace_arrays() -> None:
    base = {"shell_environment_policy": {"exclude": ["X*"], "set": {"A": "1", "C": "base"}}}
    profile = {"shell_environment_policy": {"set": {"B": "2", "C": "prof"}, "exclude": []}}
    merged = merge_config([base, profile])
    assert merged == {
        "shell_environment_policy": {"exclude": [], "set": {"A": "1", "C": "prof", "B": "2"}}
    }
    assert base["shell_environment_policy"]["set"] == {"A": "1", "C": "base"}  # unchanged
    over = with_override(merged, ("shell_environment_policy", "set", "D"), "4")
    assert over["shell_environment_policy"]["set"]["D"] == "4"


# -- hooks.json -------------------------------------------------------------------------------

HOOKS = {
    "hooks": {
        "SessionStart": [
            {"matcher": "startup", "hooks": [{"type": "command", "command": "a", "timeout": 30}]},
            {"hooks": [{"type": "command", "command": "b"}, {"type": "prompt", "prompt": "x"}]},
        ],
        "SubagentStart": [{"matcher": "*", "hooks": [{"type": "command", "command": "c"}]}],
        "Stop": [{"hooks": [{"type": "command", "command": "ignored"}]}],
    }
}


def test_hooks_json_entries() -> None:
    hooks = parse_codex_hooks(HOOKS)
    assert [(h.event, h.matcher, h.command, h.timeout) for h in hooks] == [
        ("SessionStart", "startup", "a", 30),
        ("SessionStart", None, "b", 600),
        ("SubagentStart", "*", "c", 600),
    ]
    assert hooks[0].pointer == "/hooks/SessionStart/0/hooks/0"


#: (matcher, source, selected?)
MATCHERS = [
    (None, "fork", True),
    ("", "resume", True),
    ("*", "startup", True),
    ("startup", "startup", True),
    ("startup", "fork", False),
    ("startup|fork", "fork", True),
    ("start", "startup", False),  # a literal name is compared whole
    ("^(re|st)", "resume", True),  # anything else is a regex search
    ("ar.u", "startup", True),
    ("(", "startup", False),  # an invalid regex matches nothing
]


@pytest.mark.parametrize(("matcher", "source", "selected"), MATCHERS)
def test_matcher_on_source(matcher: str | None, source: str, selected: bool) -> None:
    (hook,) = parse_codex_hooks(
        {
            "hooks": {
                "SessionStart": [
                    {"matcher": matcher, "hooks": [{"type": "command", "command": "x"}]}
                ]
            }
        }
    )
    assert hook.matches(source) is selected


#: (hooks.json document, JSON pointer in the error, words)
BAD_HOOKS = [
    ([], "/", "JSON object"),
    ({"hooks": []}, "/hooks", "object of event name"),
    ({"hooks": {"SessionStart": {}}}, "/hooks/SessionStart", "array of matcher groups"),
    ({"hooks": {"SessionStart": [{"matcher": "x"}]}}, "/hooks/SessionStart/0", '"hooks" array'),
    (
        {"hooks": {"SessionStart": [{"matcher": 1, "hooks": []}]}},
        "/hooks/SessionStart/0/matcher",
        "string",
    ),
    (
        {"hooks": {"SessionStart": [{"hooks": [{"type": "command"}]}]}},
        "/hooks/SessionStart/0/hooks/0/command",
        "missing",
    ),
    (
        {"hooks": {"SubagentStart": [{"hooks": [{"type": "command", "command": " "}]}]}},
        "/hooks/SubagentStart/0/hooks/0/command",
        "missing or empty",
    ),
    (
        {
            "hooks": {
                "SessionStart": [{"hooks": [{"type": "command", "command": "x", "timeout": "5"}]}]
            }
        },
        "/hooks/SessionStart/0/hooks/0/timeout",
        "whole number",
    ),
    ({"hooks": {"SessionStart": [{"hooks": ["x"]}]}}, "/hooks/SessionStart/0/hooks/0", "object"),
]


@pytest.mark.parametrize(("document", "pointer", "words"), BAD_HOOKS)
def test_bad_hooks_json(document: object, pointer: str, words: str) -> None:
    with pytest.raises(CodexConfigError) as raised:
        parse_codex_hooks(document, file="/c/hooks.json")
    assert raised.value.file == "/c/hooks.json"
    assert raised.value.key == pointer
    assert words in raised.value.problem
    assert raised.value.fix


# -- a model command's env (the pure model; tests/peers checks it against the binary) -------

LAUNCHER = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/h",
    "LANG": "en_US.UTF-8",
    "LD_LIBRARY_PATH": "/cuda",
}


DEFAULT_POLICY = CodexPolicy()


def model(
    policy: CodexPolicy = DEFAULT_POLICY, snapshot: dict[str, str] | None = None
) -> CommandEnv:
    return command_env(LAUNCHER, policy, cwd="/repo", codex_path=["/codex-path"], snapshot=snapshot)


#: (policy, login snapshot, variable, expected value (None: absent), stage that decided it)
COMMAND_CASES = [
    (CodexPolicy(), None, "PATH", "/codex-path:/usr/bin:/bin", "codex start-up"),
    (CodexPolicy(), None, "LANG", "C.UTF-8", "codex runtime"),
    (CodexPolicy(), None, "LD_LIBRARY_PATH", "/cuda", "launcher"),
    (CodexPolicy(exclude=("LD_*",)), None, "LD_LIBRARY_PATH", None, "shell_environment_policy"),
    (CodexPolicy(set=(("TERM", "vt100"),)), None, "TERM", "dumb", "codex runtime"),
    (CodexPolicy(set=(("X", "1"),)), None, "X", "1", "shell_environment_policy.set"),
    (CodexPolicy(set=(("CODEX_THREAD_ID", "mine"),)), None, "CODEX_THREAD_ID",
     "<thread id: per run>", "codex runtime"),
    # The login snapshot: its exports win over Codex's fixed table...
    (CodexPolicy(), {"LANG": "de_DE.UTF-8", "SHLVL": "1"}, "LANG", "de_DE.UTF-8",
     "login snapshot"),
    (CodexPolicy(), {"FROM_PROFILE": "1", "SHLVL": "1"}, "FROM_PROFILE", "1", "login snapshot"),
    # ...except what Codex saves and restores: its ids and every set key...
    (CodexPolicy(set=(("X", "1"),)), {"X": "profile", "SHLVL": "1"}, "X", "1",
     "snapshot restore"),
    (CodexPolicy(), {"CODEX_VERSION": "old", "SHLVL": "1"}, "CODEX_VERSION", "0.169.0",
     "snapshot restore"),
    # ...and codex-path goes in front of the profile's PATH again, unless set has PATH.
    (CodexPolicy(), {"PATH": "/opt/bin:/usr/bin", "SHLVL": "1"}, "PATH",
     "/codex-path:/opt/bin:/usr/bin", "snapshot restore"),
    (CodexPolicy(), {"PATH": "/codex-path:/opt/bin", "SHLVL": "1"}, "PATH",
     "/codex-path:/opt/bin", "login snapshot"),
    (CodexPolicy(set=(("PATH", "/mine"),)), {"PATH": "/opt/bin", "SHLVL": "1"}, "PATH", "/mine",
     "snapshot restore"),
    (CodexPolicy(), {"SHLVL": "3"}, "SHLVL", "3", "login snapshot"),
    (CodexPolicy(), {"PWD": "/elsewhere", "SHLVL": "1"}, "PWD", "/repo", "bash"),
]  # fmt: skip


@pytest.mark.parametrize(("policy", "snapshot", "name", "value", "stage"), COMMAND_CASES)
def test_command_env_rules(
    policy: CodexPolicy, snapshot: dict[str, str] | None, name: str, value: str | None, stage: str
) -> None:
    found = model(policy, snapshot)
    assert found.env.get(name) == value
    assert found.steps[name][-1].stage == stage


def test_every_command_gets_codexs_variables() -> None:
    env = model().env
    for name, value in CODEX_FIXED_ENV.items():
        assert env[name] == value
    assert env["CODEX_SANDBOX_NETWORK_DISABLED"] == "1"
    assert env["CODEX_APPLY_PATCH_PRESERVE_LINE_ENDINGS"] == "1"
    assert env["CODEX_VERSION"] == "0.169.0"
    assert env["CODEX_SESSION_ID"] == env["CODEX_THREAD_ID"]
    assert set(PER_RUN) <= set(env)


def test_removed_variables_keep_their_history() -> None:
    found = model(CodexPolicy(exclude=("LD_*",)))
    steps = found.steps["LD_LIBRARY_PATH"]
    assert [(s.stage, s.value) for s in steps] == [
        ("launcher", "/cuda"),
        ("shell_environment_policy", None),
    ]
    assert steps[-1].why == "exclude 'LD_*'"


def test_codex_process_env_path_forms() -> None:
    assert codex_process_env({}, ["/c"]) == {"PATH": "/c"}
    assert codex_process_env({"PATH": ""}, ["/c"]) == {"PATH": "/c:"}
    assert codex_process_env({"PATH": "/c:/b"}, ["/c"]) == {"PATH": "/c:/c:/b"}  # no dedupe
    assert codex_process_env({"PATH": "/b"}, []) == {"PATH": "/b"}


# -- bad input never escapes as anything but CodexConfigError ---------------------------------

_json = json_values()
# The keys of [shell_environment_policy], and one it does not have (specific to Codex).
_policy_keys = st.sampled_from(["inherit", "exclude", "include_only", "set", "filters", "bogus"])


def refusal(call: Any, *args: Any, **kwargs: Any) -> CodexConfigError | None:
    """The CodexConfigError ``call`` raised, or None; any other exception escapes."""
    try:
        call(*args, **kwargs)
    except CodexConfigError as error:
        return error
    return None


@given(st.dictionaries(_policy_keys, _json, max_size=4))
def test_any_policy_table_is_read_or_refused_clearly(table: dict[str, object]) -> None:
    error = refusal(CodexPolicy.from_table, table)
    if error is None:  # a policy read is applied, and accounts for every name
        policy = CodexPolicy.from_table(table)
        base = {"PATH": "/bin", "A": "1"}
        outcome = apply_codex_policy(base, policy)
        assert sorted([*outcome.kept, *outcome.removed]) == sorted(base)
        assert all(outcome.kept[name] == base[name] for name in outcome.kept)
        assert outcome.env == {**outcome.kept, **dict(outcome.set_applied)}
        applied = [name for name, _ in outcome.set_applied]
        assert sorted([*applied, *outcome.set_dropped]) == sorted(name for name, _ in policy.set)
    else:
        assert error.file == "config.toml"
        assert error.key.startswith("shell_environment_policy")
        assert error.fix


# Hook events: the two Codex runs and one it ignores (specific to hooks.json).
_events = st.sampled_from(["SessionStart", "SubagentStart", "Stop"])


@given(st.dictionaries(st.just("hooks"), st.dictionaries(_events, _json, max_size=2), max_size=1))
def test_any_hooks_document_is_read_or_refused_clearly(document: dict[str, object]) -> None:
    error = refusal(parse_codex_hooks, document)
    assert error is None or (error.key.startswith("/") and error.fix)


@given(st.text(max_size=60))
def test_any_config_text_is_parsed_or_refused_clearly(text: str) -> None:
    error = refusal(parse_config_text, text, file="config.toml")
    assert error is None or "not valid TOML" in error.problem
