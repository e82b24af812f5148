"""The static env-file reader (envoverlay.envfile): the fixture corpus, the bash
equivalence property, hook env files joined to hook layers, and the overlay of a hook."""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path
from typing import Any

import attrs
import pytest
from catalogue import load_named
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import PLATFORMS, directories, env_file_statements

import envoverlay as eo
from envoverlay.envfile import (
    FIX,
    attach_env_files,
    overlay_of,
    read_env_file,
    read_github_env,
    read_shell_env_file,
)
from envoverlay.ops import Op
from envoverlay.sources import Origin

CORPUS = Path(__file__).parent.parent / "envfiles"
MANIFEST = load_named("env-files")
#: The files of the catalogue itself; every other file here is a fixture.
CATALOGUE_FILES = {"manifest.json", "case.schema.json", "README.md"}


def _op_row(line: int, op: Op) -> list[Any]:
    argument = op.argument(redact=False)
    row: list[Any] = [line, op.name, op.action]
    if argument is not None:
        row.append(argument)
    if op.secret:
        row.append(True)
    return row


@pytest.mark.parametrize("case", MANIFEST.params())
def test_corpus(case: dict[str, Any]) -> None:
    expect = case["expect"]
    text = MANIFEST.fixture(case).read_bytes().decode("utf-8")
    result = read_env_file(
        text,
        MANIFEST.header["env"][case["platform"]],
        format=case["format"],
        platform=case["platform"],
        label=case["fixture"],
    )
    assert [_op_row(line, op) for line, op in zip(result.lines, result.ops, strict=True)] == (
        expect["ops"]
    )
    errors = [[int(d.pointer.rsplit(":", 1)[1]), d.code] for d in result.errors]  # type: ignore[union-attr]
    assert errors == [error[:2] for error in expect.get("errors", [])]
    for diagnostic, (line, _, text_held) in zip(
        result.errors, expect.get("errors", []), strict=True
    ):
        assert text_held in diagnostic.message
        assert diagnostic.message.startswith(f"line {line}: ")
        assert diagnostic.pointer == f"{case['fixture']}:{line}"
        assert diagnostic.hint  # every error says how to fix it
    warnings = [[int(d.pointer.rsplit(":", 1)[1]), d.code] for d in result.warnings]  # type: ignore[union-attr]
    assert warnings == expect.get("warnings", [])
    if result.errors:  # atomic
        assert result.ops == ()
        assert result.layer() is None


def test_the_corpus_covers_every_construct() -> None:
    cases = MANIFEST.cases
    assert len(cases) >= 60
    assert {case["format"] for case in cases} == {"shell", "github-env", "github-path"}
    assert {case["platform"] for case in cases} == {"posix", "windows"}
    files = {path.name for path in CORPUS.iterdir() if path.is_file()} - CATALOGUE_FILES
    assert files == MANIFEST.fixtures()  # no file without its expectation


def test_unsupported_errors_name_the_fix() -> None:
    result = read_shell_env_file('eval "$(mise activate bash)"\n', {}, platform="posix")
    (error,) = result.errors
    assert error.hint == FIX
    assert "--evaluate-env-files" in error.hint
    assert "hookSpecificOutput.env" in error.hint


def test_secret_values_never_reach_messages() -> None:
    result = read_shell_env_file(
        "export AUTH=$GITHUB_TOKEN\nexport MY_TOKEN=hunter2\n",
        {"GITHUB_TOKEN": "ghp_real"},
        platform="posix",
    )
    text = repr(result) + "".join(d.describe() for d in result.diagnostics)
    assert "ghp_real" not in text
    assert "hunter2" not in text
    assert all(op.secret for op in result.ops)


def test_custom_secret_patterns() -> None:
    result = read_shell_env_file(
        "export MY_TOKEN=1\nexport PIN=2\n", {}, platform="posix", secrets=eo.SecretNames(("PIN",))
    )
    assert [op.secret for op in result.ops] == [False, True]


def test_references_name_their_source() -> None:
    result = read_shell_env_file(
        "export BIN=$ROOT/bin\n", {"ROOT": "/r"}, platform="posix", origins={"ROOT": "hook:setup"}
    )
    (warning,) = result.warnings
    assert "hook:setup" in warning.message
    assert "'/r'" in warning.message


def test_github_env_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="format must be one of"):
        read_env_file("", format="yaml")  # type: ignore[arg-type]


def test_github_env_nul_in_name() -> None:
    result = read_github_env("A\0B=1\n", platform="posix")
    assert result.errors
    assert result.errors[0].pointer == "GITHUB_ENV:1"


# -- every op names its file and line -----------------------------------------------------

_ORIGIN_CASES = [
    # (format, text, [(name, line) of each op])
    ("shell", "export A=1\nexport B='2'\n", [("A", 1), ("B", 2)]),
    ("shell", "# hook\n\nexport PATH=\"/x/bin:$PATH\"\n", [("PATH", 3)]),
    ("shell", "export A=1; export B=2\nexport C=3\n", [("A", 1), ("B", 1), ("C", 2)]),
    ("shell", "export A=1 B=2\n", [("A", 1), ("B", 1)]),
    ("shell", "export A=one\\\ntwo\nexport B=3\n", [("A", 1), ("B", 3)]),
    ("shell", "export A='multi\nline'\nexport B=$'x\\ty'\n", [("A", 1), ("B", 3)]),
    ("shell", "A=1\nexport A\n", [("A", 2)]),
    ("shell", "export EDITOR=${EDITOR:-vim}\nunset LANG\n", [("EDITOR", 1), ("LANG", 2)]),
    ("shell", 'case ":$PATH:" in *":/x:"*) ;;\n*) export PATH="/x:$PATH";; esac\n',
     [("PATH", 2)]),
    ("github-env", "A=1\nB<<EOF\nline one\nline two\nEOF\nC=3\n",
     [("A", 1), ("B", 2), ("C", 6)]),
    ("github-env", "\nA=1\n", [("A", 2)]),
    ("github-path", "/a/bin\n\n/b/bin\n", [("PATH", 1), ("PATH", 3)]),
]  # fmt: skip


@pytest.mark.parametrize(("format", "text", "expected"), _ORIGIN_CASES)
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "lexer"])
def test_every_reader_sets_each_ops_file_and_line(
    format: Any, text: str, expected: list[tuple[str, int]], fast: bool, monkeypatch: Any
) -> None:
    from envoverlay import envfile

    monkeypatch.setattr(envfile, "_FAST_PATH", fast)
    result = read_env_file(
        text, {"PATH": "/bin", "LANG": "C"}, format=format, platform="posix", label="hook.env"
    )
    assert result.ok, result.errors
    assert [(op.name, op.origin) for op in result.ops] == [
        (name, Origin("hook.env", line)) for name, line in expected
    ]
    assert list(result.lines) == [line for _, line in expected]


def test_origins_reach_the_layer_and_the_provenance() -> None:
    result = read_shell_env_file(
        '# setup\nexport PATH="/opt/x/bin:$PATH"\n', {}, label="CLAUDE_ENV_FILE"
    )
    layer = result.layer(id="setup")
    assert layer is not None
    composed = eo.compose({"PATH": "/bin"}, [layer], platform="posix")
    provenance = composed.provenance("PATH")
    assert provenance.origin == Origin("CLAUDE_ENV_FILE", 2)
    assert [step.origin for step in provenance.history] == [None, Origin("CLAUDE_ENV_FILE", 2)]


def test_an_origin_is_part_of_what_an_op_is() -> None:
    # Two ops alike but for their line are different facts: a Composer never answers one
    # stack with the provenance of the other.
    one = Op.set("A", "1", origin=Origin("F", 1))
    assert one != Op.set("A", "1", origin=Origin("F", 2))
    assert one != Op.set("A", "1")
    assert one == Op.set("A", "1", origin=Origin("F", 1))
    assert hash(one) == hash(Op.set("A", "1", origin=Origin("F", 1)))


@pytest.mark.parametrize(
    ("file", "line", "problem"),
    [("", 1, "non-empty string"), ("F", 0, "at least 1"), ("F", True, "an int"),
     (None, 1, "non-empty string"), ("F", "3", "an int")],
)  # fmt: skip
def test_a_bad_origin_is_refused(file: Any, line: Any, problem: str) -> None:
    with pytest.raises(eo.EnvOverlayError, match=problem):
        Origin(file, line)


def test_a_reader_refuses_an_empty_label() -> None:
    for reader in (read_shell_env_file, read_github_env, eo.read_github_path):
        with pytest.raises(eo.EnvOverlayError, match="non-empty string"):
            reader("A=1\n", label="")


def test_unchecked_ops_are_the_ops_the_constructor_builds() -> None:
    from envoverlay.ops import unchecked_op
    from envoverlay.sources import unchecked_origin

    origin = unchecked_origin("F", 3)
    assert origin == Origin("F", 3)
    for args in [("A", "set", "v", (), False), ("P", "prepend", None, ("/a", "/b"), True)]:
        name, action, value, entries, secret = args
        built = Op(name, action, value, entries, secret=secret, origin=Origin("F", 3))  # type: ignore[arg-type]
        fast = unchecked_op(name, action, value, entries, secret, origin)  # type: ignore[arg-type]
        assert fast == built
        assert hash(fast) == hash(built)
        assert attrs.asdict(fast, recurse=False) == attrs.asdict(built, recurse=False)


# -- the static reader agrees with bash ---------------------------------------------------


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    statements=st.lists(env_file_statements(), max_size=8),
    base_path=st.lists(directories, min_size=1, max_size=3, unique=True),
    tool_home=st.one_of(st.none(), directories),
)
def test_static_reading_equals_what_bash_gets(
    statements: list[str], base_path: list[str], tool_home: str | None, tmp_path_factory: Any
) -> None:
    """For files in the static subset, composing the reader's ops over a base gives what
    bash gets when it sources the file over that base (compared with `env -0`)."""
    from tools import require_tool

    bash = require_tool("bash")
    base = {"PATH": ":".join(base_path), "HOME": "/home/dev", "USER": "dev", "LC_ALL": "C"}
    if tool_home is not None:
        base["TOOL_HOME"] = tool_home
    text = "\n".join(statements) + "\n"
    result = read_shell_env_file(text, base, platform="posix")
    assert result.ok, result.errors
    # Paths added twice would be deduplicated by prepend/append (bash keeps both copies):
    # the property holds for files that add each directory once.
    entries = [e for op in result.ops for e in op.entries]
    assume(len(entries) == len(set(entries)))
    assume(not set(entries) & set(":".join(base.values()).split(":")))
    # ... nor one a set or default of the same file already holds.
    assume(not set(entries) & {e for op in result.ops if op.value for e in op.value.split(":")})
    composed = eo.compose(base, [result.layer(kind="hook", id="f")], platform="posix").env
    folder = tmp_path_factory.mktemp("prop")
    script = folder / "env.sh"
    script.write_text(text, "utf-8")
    out = subprocess.run(
        [bash, "--noprofile", "--norc", "-c", '. "$0" && exec /usr/bin/env -0', str(script)],
        env=base, capture_output=True, check=True,
    ).stdout  # fmt: skip
    got = dict(item.split("=", 1) for item in out.decode("utf-8").split("\0") if item)
    for bookkeeping in ("PWD", "SHLVL", "_", "OLDPWD"):
        got.pop(bookkeeping, None)
    # prepend/append on an empty variable never leave an empty entry (bash's "dir:" does):
    # empty entries are compared away on both sides
    assert _strip_empty_entries(got) == _strip_empty_entries(composed)


def _strip_empty_entries(env: dict[str, str]) -> dict[str, str]:
    return {name: ":".join(e for e in value.split(":") if e) for name, value in env.items()}


# -- hooks that publish through env files -------------------------------------------------


def _hook(stdout: str = "", exit_code: int = 0) -> eo.HookResult:
    return eo.parse_hook_output(stdout, hook_id="setup", exit_code=exit_code, platform="posix")


def test_env_file_ops_join_the_hook_layer_after_stdout() -> None:
    stdout = json.dumps(
        {"hookSpecificOutput": {"hookEventName": "SessionStart", "env": {"A": "stdout", "B": "b"}}}
    )
    file = read_shell_env_file("export A=file\n", {}, platform="posix")
    joined = attach_env_files(_hook(stdout), [file], platform="posix")
    assert joined.ok
    assert joined.layer is not None
    assert joined.layer.source == eo.Source("hook", "setup")
    assert eo.compose({}, [joined.layer], platform="posix").env == {"A": "file", "B": "b"}
    assert overlay_of(joined.layer.ops, platform="posix") == {"A": "file", "B": "b"}


def test_a_failed_hook_contributes_nothing_env_files_included() -> None:
    file = read_shell_env_file("export A=1\n", {}, platform="posix")
    joined = attach_env_files(_hook(exit_code=1), [file], platform="posix")
    assert joined.layer is None
    assert [d.code for d in joined.errors] == ["hook-failed"]


def test_a_bad_env_file_makes_the_whole_hook_invalid() -> None:
    stdout = json.dumps(
        {"hookSpecificOutput": {"hookEventName": "SessionStart", "env": {"A": "1"}}}
    )
    file = read_shell_env_file("export B=$(id)\n", {}, platform="posix")
    joined = attach_env_files(_hook(stdout), [file], platform="posix")
    assert joined.layer is None
    assert not joined.ok
    assert joined.errors[0].pointer == "CLAUDE_ENV_FILE:1"


@pytest.mark.parametrize(
    ("text", "protected", "sensitive", "code", "severity"),
    [
        ("export CODEX_THREAD_ID=x\n", ["CODEX_THREAD_ID"], "warn", "protected", "error"),
        ("export LD_PRELOAD=/x.so\n", [], "warn", "sensitive", "warning"),
        ("export LD_PRELOAD=/x.so\n", [], "deny", "sensitive", "error"),
    ],
)
def test_env_file_ops_get_the_hook_policy_checks(
    text: str, protected: list[str], sensitive: Any, code: str, severity: str
) -> None:
    file = read_shell_env_file(text, {}, platform="posix")
    joined = attach_env_files(
        _hook(), [file], platform="posix", protected=protected, sensitive=sensitive
    )
    found = [d for d in joined.diagnostics if d.code == code]
    assert found
    assert found[0].severity == severity
    assert found[0].pointer == "CLAUDE_ENV_FILE:1"


OVERLAY_CASES = [
    # ops applied in order → the one overlay with their effect
    ([Op.prepend("P", ["/a"]), Op.prepend("P", ["/b"])], {"P": {"prepend": ["/b", "/a"]}}),
    ([Op.prepend("P", ["/a"]), Op.append("P", ["/z"])],
     {"P": {"prepend": ["/a"], "append": ["/z"]}}),
    ([Op.prepend("P", ["/a"]), Op.append("P", ["/b"]), Op.prepend("P", ["/b"])],
     {"P": {"prepend": ["/b", "/a"]}}),
    ([Op.set("P", "/x"), Op.prepend("P", ["/a"])], {"P": "/a:/x"}),
    ([Op.unset("P"), Op.append("P", ["/a"])], {"P": "/a"}),
    ([Op.prepend("P", ["/a"]), Op.set("P", "v")], {"P": "v"}),
    ([Op.set("E", "vi"), Op.default("E", "vim")], {"E": "vi"}),
    ([Op.set("E", ""), Op.default("E", "vim")], {"E": "vim"}),
    ([Op.set("T", "x", secret=True)], {"T": {"set": "***", "secret": True}}),
]  # fmt: skip


@pytest.mark.parametrize(("ops", "overlay"), OVERLAY_CASES)
def test_overlay_of_ops(ops: list[Op], overlay: dict[str, object]) -> None:
    assert overlay_of(ops, platform="posix") == overlay
    base = {"P": "/usr/bin:/b", "E": ""}
    layer = eo.Layer.from_ops(ops, kind="hook", id="h")
    merged = eo.Layer.from_overlay(
        overlay_of(ops, platform="posix", redact=False), kind="hook", id="h", platform="posix"
    )
    assert (
        eo.compose(base, [merged], platform="posix").env
        == eo.compose(base, [layer], platform="posix").env
    )


def test_overlay_of_refuses_what_one_op_cannot_say() -> None:
    with pytest.raises(ValueError, match="not one op object"):
        overlay_of([Op.default("P", "/a"), Op.prepend("P", ["/b"])], platform="posix")


# -- docs/env-files.md prints what check really prints ---------------------------------------

DOCS = Path(__file__).parent.parent.parent / "docs" / "env-files.md"


def _documented_errors() -> list[tuple[str, str]]:
    import re

    section = DOCS.read_text("utf-8").split("## Every error", 1)[1].split("\n## ", 1)[0]
    fences = re.findall(r"^```(\w+)\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    pairs = []
    for (lang, body), (next_lang, next_body) in itertools.pairwise(fences):
        if lang == "bash" and next_lang == "text":
            pairs.append((body, next_body))
    return pairs


def test_docs_show_every_error_code() -> None:
    shown = "".join(text for _, text in _documented_errors())
    for code in ("env-file-unsupported", "env-file-syntax", "env-file-not-exported"):
        assert f"[{code}]" in shown
    assert len(_documented_errors()) >= 10


@pytest.mark.parametrize(("file", "printed"), _documented_errors())
def test_docs_error_messages_are_what_check_prints(
    file: str, printed: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from envoverlay.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "hook-env.sh").write_text(file, "utf-8")
    main(["check", "--platform", "posix", "--env-file", "hook-env.sh"])
    assert capsys.readouterr().out == printed


# -- fuzzing: no text makes a reader raise ----------------------------------------------------

_TOKENS = [
    "export ", "declare -x ", "unset ", "case ", " esac", " in ", ")", "(", ";;", ";", "&", "|",
    "<", "<<", ">", "$", "${", "}", ":", "=", ":-", ":+", "'", '"', "`", "\\", "\n", "\t", " ",
    "#", "~", "*", "$'", "A", "PATH", "_1", "\r", "EOF", "$(", "{", "()", "\\x", "\\101",
    "if ", "fi", "function ", "done", "=(", "+=", "-x ", ": ", "${A:=", "${PATH:+:$PATH}",
    '":$PATH:"', '*":/x:"*', "<<-", "'EOF'", "$1", "${#", "${A%", "[[", "\u00e9",
]  # fmt: skip
# Shell-like text: the tokens the reader has a rule for, in any order (specific to it).
_SHELLISH = st.lists(st.sampled_from(_TOKENS), max_size=30).map("".join)


_TEXTS = st.one_of(st.text(max_size=80), _SHELLISH)


@settings(max_examples=300, deadline=None)
@given(text=_TEXTS, platform=PLATFORMS)
def test_no_text_makes_a_reader_raise(text: str, platform: Any) -> None:
    _check_reader_invariants(text, platform)


@pytest.mark.slow
@settings(max_examples=20000, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=_TEXTS, platform=PLATFORMS)
def test_no_text_makes_a_reader_raise_campaign(text: str, platform: Any) -> None:
    _check_reader_invariants(text, platform)


def _check_reader_invariants(text: str, platform: Any) -> None:
    lines = text.count("\n") + 1
    for format in ("shell", "github-env", "github-path"):
        result = read_env_file(
            text, {"PATH": "/bin", "HOME": "/h"}, format=format, platform=platform
        )
        assert result == read_env_file(
            text, {"PATH": "/bin", "HOME": "/h"}, format=format, platform=platform
        )  # deterministic
        assert len(result.lines) == len(result.ops)
        # every op names its file and line, the line its `lines` entry gives
        assert [op.origin for op in result.ops] == [
            Origin(result.label, line) for line in result.lines
        ]
        if result.errors:
            assert result.ops == ()
        for diagnostic in result.diagnostics:
            line = int(diagnostic.pointer.rsplit(":", 1)[1])  # type: ignore[union-attr]
            assert 1 <= line <= lines
            assert diagnostic.message.startswith(f"line {line}: ")


# -- the fast path for common lines reads every text as the lexer does ------------------------


def _both_ways(text: str, platform: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from envoverlay import envfile

    env = {"PATH": "/usr/bin:/bin", "HOME": "/home/dev", "GITHUB_TOKEN": "t"}
    fast = read_shell_env_file(text, env, platform=platform)
    monkeypatch.setattr(envfile, "_FAST_PATH", False)
    slow = read_shell_env_file(text, env, platform=platform)
    monkeypatch.setattr(envfile, "_FAST_PATH", True)
    assert fast == slow  # ops with their origins, lines, findings
    # A diagnostic's pointer is not part of its equality: compare the places too.
    assert [d.pointer for d in fast.diagnostics] == [d.pointer for d in slow.diagnostics]
    assert [op.origin for op in fast.ops] == [op.origin for op in slow.ops]


@pytest.mark.parametrize("case", MANIFEST.params(lambda case: case["format"] == "shell"))
def test_fast_path_agrees_on_the_corpus(
    case: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = MANIFEST.fixture(case).read_text("utf-8")
    _both_ways(text, case["platform"], monkeypatch)


#: Lines at the edges of the fast path's grammar: every piece it takes, and the nearest
#: pieces it must hand to the lexer (escapes, `~`, `;`, NUL, surrogates, a trailing comment).
_VALUE_PIECES = st.sampled_from(
    ["/opt/x/bin", ":", ";", "$PATH", "${PATH}", "$Path", "$HOME", "${HOME}", "$UNSET", "$",
     "$1", "${X:-d}", "\\", "\\t", "'", '"', "~", "=", "é", "\t", " ", "\x00", "\ud800",
     "#", "}", "${", "$'", "a b"]
)  # fmt: skip
_FAST_LINES = st.lists(
    st.tuples(
        st.sampled_from(["", "export ", "export\t", "  export ", "declare -x ", "  "]),
        st.sampled_from(["PATH", "Path", "A", "TOOL_HOME", "API_TOKEN", "LD_LIBRARY_PATH", "1X"]),
        st.sampled_from(["=", "+="]),
        st.sampled_from(["", "'", '"', "$'"]),
        st.lists(_VALUE_PIECES, max_size=5).map("".join),
        st.sampled_from(["", " ", " # note", "; export B=1", "\\"]),
    ).map(lambda p: f"{p[0]}{p[1]}{p[2]}{p[3]}{p[4]}{p[3][-1:]}{p[5]}")
    | st.sampled_from(["", "# c", "  # c", "# envoverlay op: {}", "export A", "unset A"]),
    max_size=6,
).map("\n".join)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.one_of(
        _SHELLISH,
        st.lists(env_file_statements(), max_size=6).map("\n".join),
        st.text(max_size=40),
        _FAST_LINES,
    ),
    platform=PLATFORMS,
)
def test_fast_path_agrees_on_any_text(
    text: str, platform: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _both_ways(text, platform, monkeypatch)


@pytest.mark.slow
@settings(max_examples=5000, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=_FAST_LINES, platform=PLATFORMS)
def test_fast_path_agrees_campaign(
    text: str, platform: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _both_ways(text, platform, monkeypatch)


@pytest.mark.parametrize(
    "text", ["PATH=\0", "export A=\0", 'export A="x\0y"', "A=\0", 'export P="/x\0:$P"',
             "export A=$'\0'", "export A=$'a\\x00'"],
)  # fmt: skip
def test_a_nul_in_a_value_is_an_error_not_an_exception(text: str) -> None:
    # Found by the fast-path campaign: the lexer's path raised OverlayError for these.
    result = read_shell_env_file(text, {"PATH": "/bin"}, platform="posix")
    [error] = result.errors
    assert (error.code, error.pointer, error.hint) == (
        "nul",
        "CLAUDE_ENV_FILE:1",
        "remove the NUL character",
    )
    assert "NUL" in error.message
    assert result.ops == ()
