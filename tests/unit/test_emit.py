"""envoverlay.emit and ``envoverlay emit``: overlays written as CLAUDE_ENV_FILE scripts,
GITHUB_ENV/GITHUB_PATH records and Codex set tables.

The shell property sources emitted scripts in the real bash, zsh, dash and sh and compares
``env -0`` with compose()'s result; a marker file proves that no value ran.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import directories, emit_values, json_values, separators, value_chars, values
from tools import require_npm_tool, require_tool

import envoverlay as eo
from envoverlay.cli import main
from envoverlay.emit import (
    BLOCK_MARK,
    CODEX_OWN,
    CODEX_SCRUBBED,
    SCRATCH_PREFIX,
    SHELL_BEHAVIOUR_NAMES,
    SHELL_UNSTORED,
    emit_overlay,
    emitted_block,
    heredoc_delimiter,
    read_document,
    shell_quote,
    toml_string,
)
from envoverlay.ops import new_entries
from envoverlay.schemas import validator

SHELLS = ("bash", "zsh", "dash", "sh")
# Variables a shell adds to the env of what it runs, whatever the script does.
SHELL_BOOKKEEPING = frozenset({"PWD", "OLDPWD", "SHLVL", "_"})
MARKER_DIR = Path(__file__).resolve().parent  # replaced per session by the fixture below


def layer_of(overlay: dict[str, object], platform: str = "posix") -> eo.Layer:
    return eo.Layer.from_overlay(overlay, kind="hook", id="test", platform=platform)


# -- the shell property ------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emit")


# A base and an overlay over a few names, values spliced with text that runs a command if
# quoted wrongly (specific to the sourcing property).
@st.composite
def cases(draw: st.DrawFn, marker: Path) -> tuple[dict[str, str], dict[str, object]]:
    value = emit_values(marker)
    # zsh puts its own default in an empty PATH, so the base PATH is never empty.
    base = {"PATH": draw(value) or "/bin", "HOME": "/home/test", "LOGNAME": "test"}
    base["LC_ALL"] = draw(st.sampled_from(["C", "C.UTF-8"]))  # bytes, or characters
    for name in draw(st.lists(st.sampled_from(["EO_A", "EO_B", "EO_LIST"]), unique=True)):
        base[name] = draw(value)
    overlay: dict[str, object] = {}
    for name in draw(st.lists(st.sampled_from(["EO_A", "EO_B", "EO_C", "EO_LIST", "PATH"]))):
        kind = draw(st.sampled_from(["set", "unset", "default", "prepend", "append", "both"]))
        if kind == "set":
            overlay[name] = draw(value)
        elif kind == "unset":
            overlay[name] = None
        elif kind == "default":
            overlay[name] = {"default": draw(value)}
        else:
            spec: dict[str, object] = {}
            entries = st.lists(value, min_size=1, max_size=3)
            if kind in ("prepend", "both"):
                spec["prepend"] = draw(entries)
            if kind in ("append", "both"):
                spec["append"] = draw(entries)
            separator = draw(st.none() | separators)
            if separator is not None:
                spec["separator"] = separator
            overlay[name] = spec
    return base, overlay


def source_in(shell: str, script: Path, base: dict[str, str]) -> dict[str, str]:
    """The env a command sees after ``shell`` sources ``script`` over ``base``."""
    env_program = shutil.which("env")
    assert env_program is not None
    proc = subprocess.run(
        [require_tool(shell), "-c", 'set -eu; . "$1"; exec "$2" -0', "emit", str(script),
         env_program],
        env=base, capture_output=True, check=False, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 0, (shell, proc.stderr)
    assert proc.stderr == b"", (shell, proc.stderr)
    pairs = (item.split(b"=", 1) for item in proc.stdout.split(b"\0") if item)
    seen = {name.decode(): value.decode() for name, value in pairs}
    return {k: v for k, v in seen.items() if k not in SHELL_BOOKKEEPING}


def check_sourcing(sandbox: Path, base: dict[str, str], overlay: dict[str, object]) -> None:
    layer = layer_of(overlay)
    emitted = emit_overlay(layer, "claude-env-file")
    assert emitted.ok, emitted.errors
    script = sandbox / "env.sh"
    script.write_text(emitted.text, encoding="utf-8")
    expected = eo.compose(base, [layer], platform="posix").env
    for shell in SHELLS:
        assert source_in(shell, script, base) == expected, shell
        assert not (sandbox / "marker").exists(), f"{shell} ran something"


@settings(max_examples=20)
@given(data=st.data())
def test_sourcing_sets_exactly_the_composed_env(sandbox: Path, data: st.DataObject) -> None:
    base, overlay = data.draw(cases(sandbox / "marker"))
    check_sourcing(sandbox, base, overlay)


@pytest.mark.slow
@settings(max_examples=600)
@given(data=st.data())
def test_sourcing_campaign(sandbox: Path, data: st.DataObject) -> None:
    base, overlay = data.draw(cases(sandbox / "marker"))
    check_sourcing(sandbox, base, overlay)


@pytest.mark.parametrize(
    ("base", "overlay"),
    [
        ({"PATH": "/a:/b:/c"}, {"PATH": {"prepend": ["/c", "/new"]}}),
        ({"PATH": "/a::/b:"}, {"PATH": {"append": "/a"}}),
        ({"PATH": "/only"}, {"PATH": {"prepend": "/only"}}),
        ({"PATH": "/p"}, {"L": {"prepend": ["/x", "", "/x"]}}),
        ({"PATH": "/p", "L": ""}, {"L": {"append": "/x"}}),
        ({"PATH": "/p"}, {"L": {"prepend": ["a;b", "c"], "separator": ";"}}),
        ({"PATH": "/p", "D": "kept"}, {"D": {"default": "no"}, "E": {"default": "yes"}}),
        ({"PATH": "/p", "GONE": "x"}, {"GONE": None, "NEVER": None}),
        ({"PATH": "/p"}, {"V": "line1\nline2\r\n'\\''$(x)`y`\"z\" ü 𝄞"}),
        ({"PATH": "/p", "L": "/c:/d e"}, {"IFS": ":/ ", "L": {"prepend": ["/a b", "/c"]}}),
    ],
    ids=["prepend moves", "append keeps empties", "all removed", "absent entries",
         "empty value", "own separator", "default", "unset", "any bytes", "IFS set first"],
)  # fmt: skip
def test_sourcing_table(sandbox: Path, base: dict[str, str], overlay: dict[str, object]) -> None:
    check_sourcing(sandbox, {"HOME": "/h", "LOGNAME": "t", **base}, overlay)


def test_scratch_variables_are_gone_after_sourcing(sandbox: Path) -> None:
    script = sandbox / "scratch.sh"
    script.write_text(emit_overlay(layer_of({"PATH": {"prepend": "/x"}}), "claude-env-file").text)
    for shell in SHELLS:
        proc = subprocess.run(
            [require_tool(shell), "-c", '. "$1"; set', "emit", str(script)],
            env={"PATH": "/usr/bin:/bin"}, capture_output=True, check=True,
        )  # fmt: skip
        assert SCRATCH_PREFIX.encode() not in proc.stdout, shell


@pytest.mark.parametrize(("name", "shells"), sorted(SHELL_UNSTORED.items()))
def test_unstored_names_are_what_the_shells_do(sandbox: Path, name: str, shells: str) -> None:
    """The table is measured: exactly the shells it names do not take ``export NAME='eo-x'``
    silently."""
    script = sandbox / f"unstored-{name}.sh"
    emitted = emit_overlay(layer_of({name: "eo-x"}), "claude-env-file")
    assert [w.code for w in emitted.warnings] == ["shell-special-name"]
    script.write_text(emitted.text)
    env_program = shutil.which("env") or "env"
    for shell in ("bash", "zsh", "dash"):
        proc = subprocess.run(
            [require_tool(shell), "-c", '. "$1"; exec "$2"', "emit", str(script), env_program],
            env={"PATH": "/usr/bin:/bin", "HOME": "/h", "LOGNAME": "l"}, capture_output=True,
            check=False,
        )  # fmt: skip
        clean = proc.returncode == 0 and not proc.stderr  # bash complains about some
        stored = clean and f"\n{name}=eo-x\n" in "\n" + proc.stdout.decode()
        assert stored == (shell not in shells), shell


# -- reading the script back without running it ---------------------------------------------

PLAIN_LINE = re.compile(r"(?:|#[^\n]*|unset [A-Za-z_]\w*|export [A-Za-z_]\w*='.*)\Z", re.S)


@given(data=st.data())
def test_every_block_reads_back_as_its_op(sandbox: Path, data: st.DataObject) -> None:
    _, overlay = data.draw(cases(sandbox / "marker"))
    layer = layer_of(overlay)
    lines = emit_overlay(layer, "claude-env-file").text.split("\n")
    read: list[eo.Op] = []
    index = 0
    while index < len(lines):
        block = emitted_block(lines, index)
        if block is None:
            assert not lines[index].startswith(BLOCK_MARK)
            index += 1
            continue
        read.append(block[0])
        index = block[1]
    expected = [op for op in layer.ops if op.action not in ("set", "unset")]
    assert [op.to_overlay(redact=False) for op in read] == [
        op.to_overlay(redact=False)
        for op in expected
        if op.action == "default" or new_entries(op, str)
    ]


def test_a_changed_block_is_not_read_as_its_op():
    text = emit_overlay(layer_of({"PATH": {"prepend": "/x"}}), "claude-env-file").text
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(BLOCK_MARK))
    assert emitted_block(lines, start) is not None
    for index in range(start, start + 4):
        changed = [*lines]
        changed[index] += " "
        assert emitted_block(changed, start) is None
    forged = [*lines]
    forged[start] = forged[start].replace("/x", "/y")  # the op no longer matches the code
    assert emitted_block(forged, start) is None
    assert emitted_block(lines[: start + 3], start) is None  # cut short


# -- Claude Code's PowerShell parser ----------------------------------------------------------

# The acceptance rule of Claude Code 2.1.328's PowerShell env-file parser, as the reference
# facts describe it: every line blank, a comment, or `[export |declare -x ]NAME=` followed by
# bare safe characters, '...' without a quote, or "..." without $ or a backtick.
PS_LINE = re.compile(
    r"""(?:\s*(?:\#.*)?|(?:export +|declare -x +)?([A-Za-z_][A-Za-z0-9_]*)="""
    r"""((?:[A-Za-z0-9_@%+=:,./-]|'[^'\0]*'|"(?:[^"\\$`\0]|\\[^\0])*")*))\Z"""
)
PS_PART = re.compile(r"""'([^']*)'|"((?:[^"\\]|\\.)*)\"""")


def powershell_reads(text: str) -> dict[str, str] | None:
    """What that parser makes of a file: its assignments, or None (it drops the file)."""
    out = {}
    for line in text.strip().split("\n"):
        match = PS_LINE.match(line.rstrip())
        if match is None:
            return None
        if match.group(1) is not None:
            out[match.group(1)] = PS_PART.sub(
                lambda m: m.group(1) if m.group(1) is not None
                else re.sub(r"\\([$`\"\\])", r"\1", m.group(2)),
                match.group(2),
            )  # fmt: skip
    return out


@given(
    st.dictionaries(
        st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True).filter(
            lambda n: n not in SHELL_UNSTORED and n not in SHELL_BEHAVIOUR_NAMES
        ),
        st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\0\n")),
        max_size=5,
    )
)
def test_sets_are_plain_assignments_powershell_accepts(overlay: dict[str, str]) -> None:
    emitted = emit_overlay(layer_of(overlay), "claude-env-file")
    assert emitted.ok
    assert not [w for w in emitted.warnings if w.code.startswith("powershell")]
    assert powershell_reads(emitted.text) == overlay


@pytest.mark.parametrize(
    ("overlay", "platform", "code"),
    [
        ({"PATH": {"prepend": "/x"}}, "posix", "powershell-incompatible"),
        ({"PATH": {"append": "/x"}}, "posix", "powershell-incompatible"),
        ({"E": {"default": "x"}}, "posix", "powershell-incompatible"),
        ({"E": None}, "posix", "powershell-incompatible"),
        ({"E": "a\nb"}, "posix", "powershell-incompatible"),
        ({"E": "C:\\x"}, "windows", "powershell-drops-value"),
    ],
    ids=["prepend", "append", "default", "unset", "newline", "windows slash"],
)
def test_powershell_limits_are_warnings(overlay, platform, code):
    emitted = emit_overlay(layer_of(overlay, platform), "claude-env-file", platform=platform)
    assert emitted.ok
    assert [w.code for w in emitted.warnings] == [code]
    assert emitted.warnings[0].name == next(iter(overlay))
    assert "PowerShell" in emitted.warnings[0].message
    if code == "powershell-incompatible":
        assert powershell_reads(emitted.text) is None


# -- GitHub -------------------------------------------------------------------------------


def github_reads(env_text: str, path_text: str, path: str) -> tuple[dict[str, str], str]:
    """GitHub's runner, as the reference facts describe it: NAME=value (split at the first
    '='), NAME<<DELIM heredocs when '<<' comes before any '=', GITHUB_PATH lines prepended
    with the one added last first."""
    env: dict[str, str] = {}
    lines = env_text.split("\n")
    assert lines.pop() == ""  # every record ends with a newline
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        heredoc = line.find("<<")
        equals = line.find("=")
        if heredoc != -1 and (equals == -1 or heredoc < equals):
            name, delimiter = line[:heredoc], line[heredoc + 2 :]
            end = lines.index(delimiter, index)
            env[name] = "\n".join(lines[index:end])
            index = end + 1
        else:
            name, _, value = line.partition("=")
            env[name] = value
    added: list[str] = []
    for entry in path_text.split("\n")[:-1]:
        if entry in added:
            added.remove(entry)
        added.append(entry)
    return env, ":".join([*reversed(added), path])


@given(
    st.dictionaries(
        st.from_regex(r"[A-Z_][A-Z0-9_]{0,6}", fullmatch=True).filter(lambda n: n != "PATH"),
        st.lists(st.one_of(values, st.sampled_from(["ENVOVERLAY_EOF", "\n", "=", "<<"]))).map(
            "".join
        ),
        max_size=5,
    ),
    st.lists(st.from_regex(r"/[a-z]{1,3}", fullmatch=True), max_size=4),
)
def test_github_env_round_trips(overlay: dict[str, object], path: list[str]) -> None:
    document = dict(overlay)
    if path:
        document["PATH"] = {"prepend": path}
    emitted = emit_overlay(layer_of(document), "github-env")
    assert emitted.ok, emitted.errors
    env, final_path = github_reads(emitted.text, emitted.github_path, "/usr/bin")
    assert env == overlay
    expected = eo.compose({"PATH": "/usr/bin"}, [layer_of(document)], platform="posix").env
    assert final_path == expected["PATH"] or not path


@given(st.lists(st.sampled_from(["ENVOVERLAY_EOF", "_1", "\n", "x"])).map("".join))
def test_heredoc_delimiter_never_occurs_in_the_value(value: str) -> None:
    assert heredoc_delimiter(value) not in value


# -- Codex --------------------------------------------------------------------------------


@given(
    st.dictionaries(
        st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\0="), min_size=1),
        st.text(value_chars),
        max_size=5,
    )
)
def test_codex_set_is_toml_holding_the_values(overlay: dict[str, object]) -> None:
    emitted = emit_overlay(layer_of(overlay), "codex-set")
    assert emitted.ok
    assert tomllib.loads(emitted.text) == {"shell_environment_policy": {"set": overlay}}


# Names Codex passes through to a command (specific to the codex-set format).
CODEX_NAMES = st.text(
    st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="="), min_size=1
).filter(lambda n: n.upper() not in CODEX_SCRUBBED | CODEX_OWN | {"PATH", "HOME", "CODEX_HOME"})


@settings(max_examples=15)
@given(
    st.dictionaries(
        CODEX_NAMES,
        st.text(value_chars),
        max_size=4,
    )
)
def test_real_codex_gives_commands_the_emitted_set(sandbox: Path, overlay: dict[str, str]) -> None:
    codex = require_npm_tool("codex")
    home = sandbox / "codex-home"
    home.mkdir(exist_ok=True)
    emitted = emit_overlay(layer_of(dict(overlay)), "codex-set")
    assert emitted.ok
    (home / "config.toml").write_text(emitted.text, encoding="utf-8")
    base = {"CODEX_HOME": str(home), "PATH": "/usr/bin:/bin", "HOME": str(sandbox)}
    proc = subprocess.run(
        [codex, "sandbox", "--", shutil.which("env") or "env", "-0"],
        env=base, cwd=sandbox, capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    pairs = (item.split(b"=", 1) for item in proc.stdout.split(b"\0") if item)
    seen = {name.decode(): value.decode() for name, value in pairs}
    assert {name: seen.get(name) for name in overlay} == overlay


@pytest.mark.parametrize("name", ["PWD", "node_repl_auth_token"])
def test_names_codex_overrides_are_warnings(name):
    emitted = emit_overlay(layer_of({name: "x"}), "codex-set")
    assert emitted.ok
    assert [w.code for w in emitted.warnings] == ["codex-overrides"]


def test_toml_string_escapes_controls():
    assert toml_string('a"\\\x01\x7f\n') == '"a\\"\\\\\\u0001\\u007F\\n"'


# -- what a format cannot express -----------------------------------------------------------

UNSUPPORTED = [
    ("claude-env-file", {"BAD-NAME": "x"}, "BAD-NAME", "rename"),
    ("claude-env-file", {f"{SCRATCH_PREFIX}x": "x"}, f"{SCRATCH_PREFIX}x", "rename"),
    ("github-env", {"GONE": None}, "GONE", "empty string"),
    ("github-env", {"E": {"default": "x"}}, "E", "use a set"),
    ("github-env", {"L": {"prepend": "/x"}}, "L", "whole value"),
    ("github-env", {"PATH": {"append": "/x"}}, "PATH", "only prepends"),
    ("github-env", {"PATH": {"prepend": "/x", "separator": ";"}}, "PATH", "drop the separator"),
    ("github-env", {"PATH": {"prepend": "/x\n/y"}}, "PATH", "line break"),
    ("github-env", {"A<<B": "x"}, "A<<B", "rename"),
    ("codex-set", {"PATH": {"prepend": "/x"}}, "PATH", "whole value"),
    ("codex-set", {"E": {"default": "x"}}, "E", "whole value"),
    ("codex-set", {"GONE": None}, "GONE", "exclude"),
]


@pytest.mark.parametrize(("target", "overlay", "name", "fix"), UNSUPPORTED)
def test_unsupported_ops_are_errors_and_nothing_is_written(target, overlay, name, fix):
    emitted = emit_overlay(layer_of({"KEEP": "1", **overlay}), target)
    assert not emitted.ok
    assert emitted.text == emitted.github_path == ""
    (error,) = emitted.errors
    assert (error.code, error.name) == ("emit-unsupported", name)
    assert fix in error.hint


@pytest.mark.parametrize(
    ("target", "overlay", "code"),
    [
        ("claude-env-file", {"IFS": "x"}, "shell-special-name"),
        ("claude-env-file", {"UID": "0"}, "shell-special-name"),
        ("github-env", {"NODE_OPTIONS": "--x"}, "github-blocked"),
        ("codex-set", {"T": {"set": "s", "secret": True}}, "secret-in-output"),
    ],
    ids=["IFS", "UID", "NODE_OPTIONS", "secret"],
)
def test_format_warnings(target, overlay, code):
    emitted = emit_overlay(layer_of(overlay), target)
    assert emitted.ok
    assert code in [w.code for w in emitted.warnings]


def test_a_redacted_secret_cannot_be_emitted():
    op = eo.Op("T", "set", secret=True, redacted=True)
    emitted = emit_overlay([op], "claude-env-file")
    assert [e.code for e in emitted.errors] == ["missing-secret"]
    assert emitted.text == ""


def test_windows_prepend_compares_entries_ignoring_case(sandbox: Path) -> None:
    emitted = emit_overlay(
        layer_of({"P": {"prepend": "C:\\Bin"}}, "windows"), "claude-env-file", platform="windows"
    )
    script = sandbox / "win.sh"
    script.write_text(emitted.text)
    seen = source_in("bash", script, {"PATH": "/usr/bin:/bin", "P": "c:\\bin;D:\\x"})
    assert seen["P"] == "C:\\Bin;D:\\x"


@pytest.mark.parametrize("text", ["", "a", "'", "'\\''", "\n", "é𝄞"])
def test_shell_quote_reads_back_in_sh(text):
    out = subprocess.run(
        [require_tool("dash"), "-c", f"printf %s {shell_quote(text)}"],
        capture_output=True, check=True,
    )  # fmt: skip
    assert out.stdout.decode() == text


# -- inputs ---------------------------------------------------------------------------------


def test_read_document_takes_an_overlay_or_a_hook_output():
    overlay, _ = read_document('{"A": "1"}', label="o.json", platform="posix")
    hook, _ = read_document(
        json.dumps({"hookSpecificOutput": {"hookEventName": "SessionStart", "env": {"A": "1"}}}),
        label="h.json",
        platform="posix",
    )
    assert overlay is not None
    assert hook is not None
    assert overlay.ops == hook.ops == (eo.Op.set("A", "1"),)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('{"A": 1}', "invalid-op"),
        ('{"A": "1", "A": "2"}', "duplicate-key"),
        ('{"hookSpecificOutput": {"hookEventName": "SessionStart", "env": []}}', "invalid-overlay"),
        ("[1]", "invalid-overlay"),
    ],
    ids=["number", "duplicate", "hook env array", "array"],
)
def test_read_document_reports_bad_input(text, code):
    layer, found = read_document(text, label="in.json", platform="posix")
    assert layer is None
    assert code in [d.code for d in found]


def test_hook_output_without_env_warns():
    layer, found = read_document(
        '{"hookSpecificOutput": {"hookEventName": "SessionStart"}}', label="h", platform="posix"
    )
    assert layer is None
    assert [d.code for d in found] == ["no-env"]


# -- the CLI --------------------------------------------------------------------------------


def test_cli_writes_the_script(tmp_path, capsys):
    path = tmp_path / "overlay.json"
    path.write_text('{"A": "x y", "PATH": {"prepend": "/opt/bin"}}')
    assert main(["emit", "--format", "claude-env-file", "--platform", "posix", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "export A='x y'\n" in out
    assert "warning[powershell-incompatible] PATH" in err


def test_cli_reads_stdin(monkeypatch, capsys):
    import io

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b'{"A": "1"}')))
    assert main(["emit", "--format", "codex-set"]) == 0
    assert capsys.readouterr().out == '[shell_environment_policy.set]\nA = "1"\n'


def test_cli_github_path_file(tmp_path, capsys):
    path = tmp_path / "hook.json"
    path.write_text(
        json.dumps(
            {
                "hookSpecificOutput": {
                    "hookEventName": "SessionStart",
                    "env": {"PATH": {"prepend": ["/a", "/b"]}, "M": "1\n2"},
                }
            }
        )
    )
    github_path = tmp_path / "github_path"
    github_path.write_text("/earlier\n")
    argv = ["emit", "--format", "github-env", "--platform", "posix", str(path)]
    assert main([*argv, "--github-path", str(github_path)]) == 0
    assert capsys.readouterr().out == "M<<ENVOVERLAY_EOF\n1\n2\nENVOVERLAY_EOF\n"
    assert github_path.read_text() == "/earlier\n/b\n/a\n"
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "--github-path" in err


def test_cli_json_report(tmp_path, capsys):
    path = tmp_path / "overlay.json"
    path.write_text('{"GONE": null}')
    assert main(["emit", "--format", "codex-set", "--report", "json", str(path)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["format"], report["version"], report["ok"]) == ("envoverlay.emit", 1, False)
    assert report["errors"][0]["name"] == "GONE"
    assert report["text"] == ""
    assert list(validator("emit-report").iter_errors(report)) == []
    path.write_text('{"T": {"set": "s", "secret": true}, "PATH": {"prepend": "/x"}}')
    assert main(["emit", "--format", "claude-env-file", "--report", "json", str(path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"]
    assert "export T='s'" in report["text"]
    assert list(validator("emit-report").iter_errors(report)) == []


def test_cli_github_path_needs_github_env(tmp_path, capsys):
    path = tmp_path / "overlay.json"
    path.write_text('{"A": "1"}')
    argv = ["emit", "--format", "codex-set", "--github-path", str(tmp_path / "p"), str(path)]
    assert main(argv) == 2
    assert "--format github-env" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize(
    ("content", "status"),
    [(None, 2), (b"\xff", 2), (b"{", 1), (b'{"A": 1}', 1)],
    ids=["missing file", "not utf-8", "bad json", "bad op"],
)
def test_cli_bad_input(tmp_path, capsys, content, status):
    path = tmp_path / "in.json"
    if content is not None:
        path.write_bytes(content)
    assert main(["emit", "--format", "claude-env-file", str(path)]) == status
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    assert err.startswith("envoverlay: ")


JSONISH = json_values()


@given(st.one_of(st.text(), JSONISH.map(json.dumps)))
def test_read_document_never_raises(text: str) -> None:
    layer, found = read_document(text, label="fuzz", platform="posix")
    assert layer is not None or found  # no layer: always a reason
    if layer is not None:
        emitted = emit_overlay(layer, "claude-env-file")
        assert emitted.ok or all(e.code == "emit-unsupported" for e in emitted.errors)


# -- the hook-authors.md recipe, end to end ---------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def recipe() -> str:
    """The bash block of hook-authors.md's "Serving runtimes that source env files"."""
    page = (ROOT / "docs" / "hook-authors.md").read_text("utf-8")
    section = page.split("## Serving runtimes that source env files", 1)[1]
    return section.split("```bash\n", 1)[1].split("```", 1)[0]


def test_the_documented_hook_line_serves_claude_code(tmp_path: Path) -> None:
    bash = require_tool("bash")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "envoverlay"  # the installed command, for any install layout
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m envoverlay "$@"\n')
    wrapper.chmod(0o755)
    overlay = {"NODE_ENV": "dev $(touch marker)", "PATH": {"prepend": "/repo/bin"}}
    document = {"hookSpecificOutput": {"hookEventName": "SessionStart", "env": overlay}}
    hook = tmp_path / "hook.sh"
    hook.write_text(
        "build_my_overlay_json() { cat <<'JSON'\n" + json.dumps(document) + "\nJSON\n}\n" + recipe()
    )
    env_file = tmp_path / "sessionstart-hook-0.sh"
    env_file.write_text("export EARLIER=1")  # another hook's line, without its newline
    base = {"PATH": f"{bin_dir}:/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    run = subprocess.run(
        [bash, str(hook)], env={**base, "CLAUDE_ENV_FILE": str(env_file)}, cwd=tmp_path,
        capture_output=True, check=True,
    )  # fmt: skip
    parsed = eo.parse_hook_output(run.stdout, hook_id="hook", platform="posix")
    assert parsed.ok
    assert parsed.layer is not None
    expected = {**eo.compose(base, [parsed.layer], platform="posix").env, "EARLIER": "1"}
    # Claude Code splices the file before each command; twice shows re-sourcing is harmless.
    twice = tmp_path / "twice.sh"
    twice.write_text(env_file.read_text() * 2)
    assert source_in("bash", twice, base) == expected
    assert not (tmp_path / "marker").exists()


# -- the real Claude Code ---------------------------------------------------------------------

# A mock of the Messages API (127.0.0.1 only): the model's one turn runs COMMAND in the Bash
# tool, the next answers "done". Started by the test and stopped by its pid.
MOCK_MESSAGES_API = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMMAND, PORT_FILE = sys.argv[1], sys.argv[2]


def events(blocks, stop):
    out = [{"type": "message_start", "message": {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [], "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1}}}]
    for index, (start, delta) in enumerate(blocks):
        out += [{"type": "content_block_start", "index": index, "content_block": start},
                {"type": "content_block_delta", "index": index, "delta": delta},
                {"type": "content_block_stop", "index": index}]
    return out + [{"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                   "usage": {"output_tokens": 1}}, {"type": "message_stop"}]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, kind, data):
        self.send_response(200)
        self.send_header("content-type", kind)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        if not self.path.startswith("/v1/messages") or "count_tokens" in self.path:
            return self.reply("application/json", b'{"input_tokens": 1}')
        # One Bash call per prompt: Claude Code merges a resumed prompt into the message that
        # holds the last tool result, so count them over the whole conversation.
        blocks = [m.get("content") for m in body.get("messages", [])]
        blocks = [b for c in blocks if isinstance(c, list) for b in c if isinstance(b, dict)]
        prompts = sum(b.get("text") == "dump the env" for b in blocks)
        answered = sum(b.get("type") == "tool_result" for b in blocks) >= prompts
        if answered or "Bash" not in [t.get("name") for t in body.get("tools", [])]:
            stream = events([({"type": "text", "text": ""},
                              {"type": "text_delta", "text": "done"})], "end_turn")
        else:
            tool_id = f"toolu_{prompts}"
            stream = events([({"type": "tool_use", "id": tool_id, "name": "Bash", "input": {}},
                              {"type": "input_json_delta",
                               "partial_json": json.dumps({"command": COMMAND})})], "tool_use")
        if body.get("stream"):
            text = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in stream)
            return self.reply("text/event-stream", text.encode())
        message = {"id": "msg_1", "type": "message", "role": "assistant",
                   "model": "claude-sonnet-4-5", "content": [{"type": "text", "text": "done"}],
                   "stop_reason": "end_turn", "stop_sequence": None,
                   "usage": {"input_tokens": 1, "output_tokens": 1}}
        return self.reply("application/json", json.dumps(message).encode())


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORT_FILE + ".tmp", "w") as handle:
    handle.write(str(server.server_address[1]))
__import__("os").replace(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
"""


@pytest.mark.slow
def test_real_claude_code_sources_the_emitted_file_and_resumes_add_nothing(tmp_path: Path) -> None:
    claude = require_npm_tool("claude")
    require_tool("bash")
    bin_dir, config, project, home = (tmp_path / d for d in ("bin", "config", "proj", "home"))
    for folder in (bin_dir, config, project, home):
        folder.mkdir()
    wrapper = bin_dir / "envoverlay"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m envoverlay "$@"\n')
    wrapper.chmod(0o755)
    overlay = {"PATH": {"prepend": "/repo/bin"}, "GREETING": f"it's $(touch {tmp_path}/marker)"}
    document = {"hookSpecificOutput": {"hookEventName": "SessionStart", "env": overlay}}
    hook = project / "hook.sh"
    hook.write_text(
        "build_my_overlay_json() { cat <<'JSON'\n" + json.dumps(document) + "\nJSON\n}\n" + recipe()
    )
    hooks = [{"hooks": [{"type": "command", "command": f"bash {hook}"}]}]
    (config / "settings.json").write_text(json.dumps({"hooks": {"SessionStart": hooks}}))
    dump = tmp_path / "env.out"
    mock = tmp_path / "mock.py"
    mock.write_text(MOCK_MESSAGES_API)
    port_file = tmp_path / "port"
    server = subprocess.Popen([sys.executable, str(mock), f"env -0 > {dump}", str(port_file)])
    try:
        for _ in range(200):
            if port_file.exists():
                break
            subprocess.run(["sleep", "0.05"], check=True)
        path = f"{bin_dir}:/usr/bin:/bin"
        env = {
            "HOME": str(home), "CLAUDE_CONFIG_DIR": str(config), "PATH": path,
            "SHELL": shutil.which("bash") or "bash", "PYTHONPATH": str(ROOT),
            "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port_file.read_text()}",
            "ANTHROPIC_API_KEY": "dummy",
        }  # fmt: skip
        args = [claude, "-p", "dump the env", "--output-format", "stream-json", "--verbose",
                "--allowedTools", "Bash"]  # fmt: skip
        session = None
        for run in range(3):  # a fresh session, then two resumes: the hook appends each time
            resume = ["--resume", session] if session else []
            done = subprocess.run([*args, *resume], env=env, cwd=project, capture_output=True,
                                  stdin=subprocess.DEVNULL, check=True, timeout=60)  # fmt: skip
            session = json.loads(done.stdout.splitlines()[-1])["session_id"]
            pairs = (item.split(b"=", 1) for item in dump.read_bytes().split(b"\0") if item)
            seen = {name.decode(): value.decode() for name, value in pairs}
            assert seen["PATH"] == f"/repo/bin:{path}", run
            assert seen["GREETING"] == overlay["GREETING"]
            assert not (tmp_path / "marker").exists()
            dump.unlink()
        files = list((config / "session-env" / session).iterdir())
        assert "".join(f.read_text() for f in files).count(BLOCK_MARK) == 3  # appended 3 times
    finally:
        server.kill()
        server.wait()


# -- envoverlay's own static env-file reader -----------------------------------------------


@given(
    st.dictionaries(
        st.from_regex(r"EO_[A-Z0-9_]{0,6}", fullmatch=True),
        st.one_of(st.none(), st.text(value_chars)),
        max_size=5,
    )
)
def test_the_static_reader_reads_emitted_sets_and_unsets_exactly(overlay):
    from envoverlay.envfile import read_shell_env_file

    layer = layer_of(dict(overlay))
    text = emit_overlay(layer, "claude-env-file").text
    read = read_shell_env_file(text, {"PATH": "/usr/bin"}, platform="posix")
    assert read.ok, read.errors
    assert [(op.name, op.action, op.value) for op in read.ops] == [
        (op.name, op.action, op.value) for op in layer.ops
    ]


# Edits an emitted block can express for the static reader (specific to the round trip).
_EDIT = st.one_of(
    st.builds(lambda e: {"prepend": e}, st.lists(directories, min_size=1, max_size=3)),
    st.builds(lambda e: {"append": e}, st.lists(directories, min_size=1, max_size=3)),
    st.builds(
        lambda v: {"default": v},
        st.text(value_chars),
    ),
)


@given(st.dictionaries(st.sampled_from(["PATH", "EO_LIB", "EO_OPT", "EO_SECRET_KEY"]), _EDIT))
def test_the_static_reader_takes_emitted_blocks_as_their_ops(overlay):
    """A hook that writes `envoverlay emit` output to CLAUDE_ENV_FILE passes `check --run`:
    each default or path-edit block reads back as the op its mark names (never run)."""
    from envoverlay.envfile import read_shell_env_file

    layer = layer_of(dict(overlay))
    text = emit_overlay(layer, "claude-env-file").text
    read = read_shell_env_file(text, {"PATH": "/usr/bin"}, platform="posix")
    assert read.ok, read.errors
    shape = [(op.name, op.action, op.value, op.entries) for op in read.ops]
    assert shape == [(op.name, op.action, op.value, op.entries) for op in layer.ops]
    assert all(op.secret for op in read.ops if op.name == "EO_SECRET_KEY")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("'/repo/bin') ;;", "'/repo/bin') touch /tmp/x ;;"),  # code inside the block
        ('"prepend":["/repo/bin"]', '"prepend":["/other"]'),  # a mark that lies about it
        ("export PATH;", "export PATH; echo hi;"),  # code after the block's last line
    ],
    ids=["code-inside", "mark-differs", "code-after"],
)
def test_a_changed_emitted_block_is_not_read_as_its_op(old, new):
    from envoverlay.envfile import read_shell_env_file

    text = emit_overlay(layer_of({"PATH": {"prepend": ["/repo/bin"]}}), "claude-env-file").text
    assert old in text
    read = read_shell_env_file(text.replace(old, new), {"PATH": "/usr/bin"}, platform="posix")
    assert not read.ok
    assert read.errors[0].code == "env-file-unsupported"
