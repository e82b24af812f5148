"""The mise provider: the real ``mise env --json`` in a project directory (with mise's trust
rules, errors, timeout), and saved ``mise env --json`` documents.

Every run points mise's data, config, cache and state directories and HOME into tmp_path and
stops its search for config files there (MISE_CEILING_PATHS), so no user config is read; the
configs hold only ``[env]`` entries, so mise never downloads anything.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tools import CLI_SIGNALS, process_gone, require_npm_tool, require_tool, signal_the_cli

import envoverlay as eo
from envoverlay.cli import main
from envoverlay.providers import from_spec, mise
from envoverlay.providers.mise import mise_ops, unset_names


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, dict[str, str], str]:
    """A project directory, a base env confined to tmp_path, and the mise program."""
    program = require_npm_tool("mise")
    home = tmp_path / "home"
    home.mkdir()
    directory = tmp_path / "proj"
    directory.mkdir()
    base = {
        "PATH": os.pathsep.join([str(Path(program).parent), "/usr/bin", "/bin"]),
        "HOME": str(home),
        "MISE_DATA_DIR": str(home / "data"),
        "MISE_CONFIG_DIR": str(home / "config"),
        "MISE_CACHE_DIR": str(home / "cache"),
        "MISE_STATE_DIR": str(home / "state"),
        "MISE_CEILING_PATHS": str(tmp_path),
        "KEEP": "kept",
    }
    return directory, base, program


def trust(directory: Path, base: dict[str, str], program: str) -> None:
    subprocess.run(
        [program, "trust"], cwd=directory, env=base, check=True, capture_output=True, timeout=60
    )


def run_mise(
    config: str, project: tuple[Path, dict[str, str], str], *, trusted: bool = True, **extra: str
) -> eo.providers.ProviderResult:
    directory, base, program = project
    (directory / "mise.toml").write_text(config)
    if trusted:
        trust(directory, base, program)
    return mise(str(directory), {**base, **extra}, platform="posix", program=program)


def test_env_entries_become_ops_that_compose(project):
    directory, base, _ = project
    provided = run_mise('[env]\nNODE_ENV = "development"\n_.path = ["./bin"]\n', project)
    assert provided.ok, provided.errors
    assert provided.layer is not None
    assert provided.layer.id == f"mise:{directory}"
    result = eo.compose({**base, "PATH": "/other:/usr/bin"}, [provided.layer], platform="posix")
    assert result.env["NODE_ENV"] == "development"
    assert result.env["PATH"] == f"{directory}/bin:/other:/usr/bin"
    assert result.env["KEEP"] == "kept"


@pytest.mark.parametrize(
    ("config", "extra", "expected"),
    [
        ("[env]\nKEEP = false\n", {}, [eo.Op.unset("KEEP")]),
        ("[env]\nV = \"a\\nunset KEEP\\n'q'\"\n", {}, [eo.Op.set("V", "a\nunset KEEP\n'q'")]),
        (
            "[env]\nW = \"it's\\ta\\nunset KEEP\\n'\"\n",
            {},
            [eo.Op.set("W", "it's\ta\nunset KEEP\n'")],
        ),
        ('[env]\nE = { default = "d" }\n', {"E": "had"}, []),
        ('[env]\nE = { default = "d" }\n', {}, [eo.Op.set("E", "d")]),
        ('[env]\nKEEP = "new"\n', {}, [eo.Op.set("KEEP", "new")]),
    ],
    ids=[
        "false unsets",
        "unset line inside a value",
        "quotes around it",
        "default kept",
        "default set",
        "override",
    ],
)
def test_env_table(project, config, extra, expected):
    provided = run_mise(config, project, **extra)
    assert provided.ok, provided.errors
    assert provided.layer is not None
    assert [op for op in provided.layer.ops if op.name != "PATH"] == expected


def test_what_mise_redacts_is_secret(project):
    _, base, _ = project
    provided = run_mise(
        'redactions = ["API_*"]\n[env]\nA = "1"\nTOK = { value = "s3", redact = true }\n'
        'API_KEY = "k"\n',
        project,
    )
    assert provided.layer is not None
    secret = {op.name: op.secret for op in provided.layer.ops}
    assert secret == {"A": False, "TOK": True, "API_KEY": True}
    result = eo.compose(base, [provided.layer], platform="posix")
    assert result.env["TOK"] == "s3"
    assert "s3" not in repr(result.redacted_env())


@pytest.mark.parametrize(
    ("config", "trusted", "message", "hint"),
    [
        ('[env]\nA = "1"\n', False, "not trusted", "mise trust"),
        ("[env]\nREQ = { required = true }\n", True, "REQ", "fix the mise config"),
        ("[env\n", True, "mise.toml", "fix the mise config"),
    ],
    ids=["untrusted", "required missing", "bad toml"],
)
def test_mise_errors_carry_its_message(project, config, trusted, message, hint):
    provided = run_mise(config, project, trusted=trusted)
    assert not provided.ok
    assert provided.layer is None
    (error,) = provided.errors
    assert error.code == "provider-failed"
    assert message in error.message
    assert hint in error.hint
    assert "Traceback" not in error.message


@pytest.mark.slow  # waits out a timeout or kills processes: seconds, run by .ci/run
def test_a_hanging_mise_is_killed_with_its_process_group(project, tmp_path):
    require_tool("bash")
    directory, base, program = project
    pid_file = tmp_path / "pid"
    (directory / "mise.toml").write_text('[env]\nA = "1"\n')
    trust(directory, base, program)  # trust is bound to the path (not paranoid mode)
    # a child that sleeps and a grandchild that loops forever, each question's
    (directory / "slow.sh").write_text(
        f"sleep 60 & echo $! >> {pid_file}\n"
        f"( sh -c 'echo $$ >> {pid_file}; while :; do sleep 0.1; done' ) &\nwait\n"
    )
    (directory / "mise.toml").write_text('[env]\n_.source = "./slow.sh"\n')
    provided = mise(str(directory), base, platform="posix", program=program, timeout=4)
    assert not provided.ok
    assert provided.layer is None  # nothing of a killed run applies
    assert "did not finish within 4 s" in provided.errors[0].message
    pids = [int(pid) for pid in pid_file.read_text().split()]  # the script ran
    assert len(pids) >= 2
    assert all(process_gone(pid, patience=10.0) for pid in pids)  # and all it started is gone


@pytest.mark.parametrize(("signum", "status"), CLI_SIGNALS, ids=[s.name for s, _ in CLI_SIGNALS])
def test_a_signal_kills_every_mise_process_group(project, tmp_path, signum, status):
    require_tool("bash")
    directory, base, program = project
    pid_file = tmp_path / "pids"
    (directory / "mise.toml").write_text('[env]\n_.source = "./slow.sh"\n')
    trust(directory, base, program)
    (directory / "slow.sh").write_text(f"sleep 300 & echo $! >> {pid_file}; wait\n")
    base_file = tmp_path / "base.json"
    base_file.write_text(json.dumps(base))
    args = ["explain", "--base", str(base_file), "--provider", f"mise={directory}"]
    code, err, children = signal_the_cli(args, pid_file, signum)
    assert code == status, err
    assert b"Traceback" not in err
    assert all(process_gone(child, patience=10.0) for child in children)


def test_a_missing_program_is_reported(project):
    directory, base, _ = project
    provided = mise(str(directory), base, program=str(directory / "no-such-mise"))
    assert not provided.ok
    assert "was not found" in provided.errors[0].message
    assert "mise=FILE.json" in provided.errors[0].hint


def test_cli_runs_mise_found_on_the_base_path(project, tmp_path, capsys):
    directory, base, program = project
    (directory / "mise.toml").write_text('[env]\nFROM_MISE = "yes"\n')
    trust(directory, base, program)
    base_file = tmp_path / "base.json"
    base_file.write_text(json.dumps(base))
    argv = ["explain", "--base", str(base_file), "--provider", f"mise={directory}"]
    assert main([*argv, "--platform", "posix", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["env"]["FROM_MISE"] == "yes"
    assert report["variables"]["FROM_MISE"]["source"] == {
        "kind": "provider", "id": f"mise:{directory}"
    }  # fmt: skip


def test_from_spec_passes_the_timeout(project):
    directory, base, _ = project
    (directory / "mise.toml").write_text('[env]\nA = "1"\n')
    provided = from_spec(f"mise={directory}", base, platform="posix", timeout=30)
    assert not provided.ok  # untrusted: mise ran (found on the base PATH) and refused
    assert "mise trust" in provided.errors[0].hint


# -- saved documents ------------------------------------------------------------------------


def test_saved_document_goes_through_the_diff(tmp_path):
    path = tmp_path / "mise.json"
    path.write_text(
        json.dumps(
            {
                "PATH": "/home/me/.local/share/mise/installs/node/22/bin:/usr/bin",
                "NODE_ENV": "development",
            }
        )
    )
    provided = mise(str(path), {"PATH": "/usr/bin"})
    assert provided.layer is not None
    ops = {op.name: op for op in provided.layer.ops}
    assert ops["PATH"].action == "prepend"
    assert ops["NODE_ENV"] == eo.Op.set("NODE_ENV", "development")


def test_saved_extended_document(tmp_path):
    path = tmp_path / "mise.json"
    path.write_text(json.dumps({"A": {"value": "1", "source": "/repo/mise.toml"}}))
    provided = mise(str(path), {})
    assert provided.layer is not None
    assert provided.layer.ops == (eo.Op.set("A", "1"),)


@pytest.mark.parametrize(
    ("content", "message"),
    [("[]", "flat JSON object"), ('{"A": 1}', "flat JSON object"), ("{", "")],
    ids=["array", "number", "bad json"],
)
def test_bad_saved_documents(tmp_path, content, message):
    path = tmp_path / "mise.json"
    path.write_text(content)
    provided = mise(str(path), {})
    assert not provided.ok
    assert message in provided.errors[0].message


def test_a_missing_path_is_an_error(tmp_path):
    provided = from_spec(f"mise={tmp_path / 'nope.json'}", {})
    assert "does not exist" in provided.errors[0].message


# -- reading mise's shell answer ------------------------------------------------------------


def mise_quote(value: str) -> str:
    """mise's bash quoting: '...' with a quote written as '\\''."""
    return "'" + value.replace("'", "'\\''") + "'"


@given(
    st.dictionaries(st.from_regex(r"[A-Z]{1,4}", fullmatch=True), st.text(), max_size=4),
    st.lists(st.from_regex(r"U_[A-Z]{1,3}", fullmatch=True), unique=True, max_size=3),
)
def test_unset_names_ignores_lines_inside_values(values, unsets):
    lines = [f"unset {name}" for name in unsets]
    lines += [f"export {name}={mise_quote(value)}" for name, value in values.items()]
    assert unset_names("\n".join(lines) + "\n") == unsets


def test_mise_ops_skips_bookkeeping():
    ops = mise_ops({"__MISE_DIFF": "x", "A": "1"}, {}, platform="posix")
    assert ops == [eo.Op.set("A", "1")]


def test_the_untrusted_message_shown_in_the_docs_is_what_mise_gives(project):
    directory, _, _ = project
    provided = run_mise('[env]\nA = "1"\n', project, trusted=False)
    shown = provided.errors[0].describe().replace(str(directory), "/repo")
    page = Path(__file__).resolve().parents[2] / "docs" / "providers.md"
    assert shown in page.read_text("utf-8")
