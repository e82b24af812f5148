"""The login-shell guard, against the real shells (bash, zsh, dash as ``sh``, fish).

Each test gets a temporary HOME holding a login profile that fights the overlay: it prepends
``/profile/bin`` to PATH, exports a variable the overlay unsets, sets one the overlay sets,
overwrites the runtime's ``CODEX_THREAD_ID`` and appends to a list the overlay appends to. A
missing shell skips with what to install, or fails when ``ENVOVERLAY_REQUIRE_TOOLS=1``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import values
from tools import require_tool

import envoverlay as eo
from envoverlay.shell import (
    DEFAULT_REDACT,
    FISH_CTYPE,
    HELPER_PREFIX,
    READONLY_EXIT,
    SHELLS,
    Drift,
    PathEdit,
    Reapply,
    ShellError,
    capture_login_env,
    drift_report,
    login_shell_argv,
    reapply_plan,
)

#: shell name for the guard -> program that provides it
PROGRAMS = {"bash": "bash", "zsh": "zsh", "sh": "dash", "fish": "fish"}

POSIX_PROFILE = """\
PATH="/profile/bin:$PATH"; export PATH
EO_LIST="$EO_LIST;/profile/lib"; export EO_LIST
export EO_GONE=from-profile
export EO_SET=from-profile
export CODEX_THREAD_ID=profile-thread
export EO_PROFILE_ONLY=from-profile
profile_fn() { echo "profile-fn ran"; }
"""

FISH_PROFILE = """\
set -gx PATH /profile/bin $PATH
set -gx EO_LIST "$EO_LIST;/profile/lib"
set -gx EO_GONE from-profile
set -gx EO_SET from-profile
set -gx CODEX_THREAD_ID profile-thread
set -gx EO_PROFILE_ONLY from-profile
function profile_fn
    echo "profile-fn ran"
end
"""

PRINT_ENV = (
    "import json, os, sys\n"
    "json.dump({'argv': [os.fsencode(a).hex() for a in sys.argv[1:]],\n"
    "           'env': {k.hex(): v.hex() for k, v in os.environb.items()}}, sys.stdout)\n"
)


def shell_program(shell: str) -> str:
    return require_tool(PROGRAMS[shell])


def write_profile(
    home: Path, shell: str, posix: str = POSIX_PROFILE, fish: str = FISH_PROFILE
) -> None:
    """The login profile each shell reads: ~/.profile (bash, dash), ~/.zprofile (zsh, with
    ZDOTDIR unset), $XDG_CONFIG_HOME/fish/config.fish."""
    home.mkdir(parents=True, exist_ok=True)
    if shell == "fish":
        config = home / ".config" / "fish"
        config.mkdir(parents=True, exist_ok=True)
        (config / "config.fish").write_text(fish, "utf-8")
    else:
        (home / (".zprofile" if shell == "zsh" else ".profile")).write_text(posix, "utf-8")


def base_env(home: Path, **extra: str) -> dict[str, str]:
    """A small inherited map, independent of the machine's own environment (PATH aside)."""
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "PYTHONCOERCECLOCALE": "0",  # the Python child must not add LC_CTYPE itself
    }
    env.update(extra)
    return env


def fighting_result(home: Path, **extra: str) -> eo.ComposeResult:
    hook = eo.Layer.from_overlay(
        {
            "PATH": {"prepend": ["/hook/bin", "/hook/sbin"]},
            "EO_GONE": None,
            "EO_SET": "overlay value",
            "EO_LIST": {"append": "/hook/lib", "separator": ";"},
        },
        kind="hook",
        id="venv",
    )
    runtime = eo.Layer.from_overlay({"CODEX_THREAD_ID": "thread-1"}, kind="runtime", id="codex")
    base = base_env(home, EO_GONE="inherited", EO_LIST="/base/lib", **extra)
    return eo.compose(base, [hook, runtime], platform="posix")


def run_child(
    argv: Sequence[str], env: Mapping[str, str], cwd: Path | None = None
) -> tuple[list[str], dict[str, str]]:
    """Run a guarded argv whose command is the PRINT_ENV child; its argv and env, decoded."""
    proc = subprocess.run(
        argv, env=dict(env), capture_output=True, timeout=60, cwd=cwd, check=False
    )
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    data = json.loads(proc.stdout)
    args = [os.fsdecode(bytes.fromhex(a)) for a in data["argv"]]
    child_env = {
        os.fsdecode(bytes.fromhex(k)): os.fsdecode(bytes.fromhex(v)) for k, v in data["env"].items()
    }
    return args, child_env


def printer(*args: str) -> list[str]:
    return [sys.executable, "-c", PRINT_ENV, *args]


# -- the guard against a fighting profile, per shell ----------------------------------------


@pytest.mark.parametrize("shell", SHELLS)
def test_profile_really_fights_without_the_guard(shell: str, tmp_path: Path) -> None:
    """Baseline: a plain login shell loses the overlay (so the guard test below means something)."""
    program = shell_program(shell)
    write_profile(tmp_path, shell)
    result = fighting_result(tmp_path)
    seen = capture_login_env(shell, result.env, shell_path=program)
    assert seen["PATH"].startswith("/profile/bin:")
    assert seen["EO_GONE"] == "from-profile"
    assert seen["EO_SET"] == "from-profile"
    assert seen["CODEX_THREAD_ID"] == "profile-thread"


@pytest.mark.parametrize("shell", SHELLS)
def test_guard_reapplies_the_overlay_after_the_profile(shell: str, tmp_path: Path) -> None:
    program = shell_program(shell)
    write_profile(tmp_path, shell)
    result = fighting_result(tmp_path)
    argv = login_shell_argv(shell, result, printer(), shell_path=program)
    _, env = run_child(argv, result.env)

    path = env["PATH"].split(":")
    assert path[:2] == ["/hook/bin", "/hook/sbin"]  # the layer's entries come first
    assert path[2] == "/profile/bin"  # the profile's entry survives right after them
    assert path.count("/hook/bin") == 1
    assert "" not in path
    assert env["EO_LIST"] == "/base/lib;/profile/lib;/hook/lib"  # appended again, ';' kept
    assert "EO_GONE" not in env  # unset again
    assert env["EO_SET"] == "overlay value"
    assert env["CODEX_THREAD_ID"] == "thread-1"  # the runtime value, restored exactly
    assert env["EO_PROFILE_ONLY"] == "from-profile"  # the profile keeps what it owns
    assert not [name for name in env if name.startswith(HELPER_PREFIX)]
    assert "LC_CTYPE" not in env
    assert "LC_ALL" not in env


@pytest.mark.parametrize("shell", SHELLS)
def test_command_argv_reaches_the_command_exactly(shell: str, tmp_path: Path) -> None:
    program = shell_program(shell)
    write_profile(tmp_path, shell)
    result = fighting_result(tmp_path)
    tricky = [
        "", "-x", "--", "-l", "a b", "$HOME", "`id`", "$(id)", "'", '"', "\\", "\\n", "\n",
        "é€ 😀", "%s%n", "*", "~", ";exit 3", "${1}", "$argv", "(echo x)", "{a,b}",
    ]  # fmt: skip
    argv = login_shell_argv(shell, result, printer(*tricky), shell_path=program)
    args, _ = run_child(argv, result.env)
    assert args == tricky


@pytest.mark.parametrize("shell", SHELLS)
def test_string_command_is_code_run_in_the_login_shell(shell: str, tmp_path: Path) -> None:
    program = shell_program(shell)
    write_profile(tmp_path, shell)
    result = fighting_result(tmp_path)
    if shell == "fish":
        code = (
            'profile_fn; echo "args=$(count $argv) set=$EO_SET"\n'
            "set -n | string match -q '__eo*'; and echo leaked-variable\n"
            "functions -q __envoverlay_edit; and echo leaked-function\n"
            "exit 7"
        )
    else:
        code = (
            'profile_fn; echo "args=$# set=$EO_SET"\n'
            "set | grep -q '^__eo_' && echo leaked-variable\n"
            "command -v __envoverlay_edit >/dev/null && echo leaked-function\n"
            "exit 7"
        )
    argv = login_shell_argv(shell, result, code, shell_path=program)
    proc = subprocess.run(argv, env=result.env, capture_output=True, timeout=60, check=False)
    out = proc.stdout.decode()
    assert proc.returncode == 7, proc.stderr.decode()
    assert out.splitlines() == ["profile-fn ran", "args=0 set=overlay value"]


@pytest.mark.parametrize("shell", SHELLS)
def test_exit_status_and_missing_command(shell: str, tmp_path: Path) -> None:
    program = shell_program(shell)
    write_profile(tmp_path, shell)
    result = fighting_result(tmp_path)
    argv = login_shell_argv(
        shell, result, [sys.executable, "-c", "raise SystemExit(5)"], shell_path=program
    )
    assert subprocess.run(argv, env=result.env, capture_output=True, check=False).returncode == 5
    missing = str(tmp_path / "no-such-program")
    argv = login_shell_argv(shell, result, [missing], shell_path=program)
    proc = subprocess.run(argv, env=result.env, capture_output=True, check=False)
    assert proc.returncode != 0


@pytest.mark.parametrize("shell", ["bash", "zsh", "sh"])
def test_strict_profile_options_do_not_break_the_guard(shell: str, tmp_path: Path) -> None:
    """A profile that leaves `set -eu` on (errexit, nounset) and drops PATH entirely."""
    program = shell_program(shell)
    write_profile(tmp_path, shell, posix="set -eu\nunset PATH\nexport EO_SET=from-profile\n")
    result = fighting_result(tmp_path)
    _, env = run_child(login_shell_argv(shell, result, printer(), shell_path=program), result.env)
    assert env["PATH"] == "/hook/bin:/hook/sbin"  # just the entries: no empty entry
    assert env["EO_SET"] == "overlay value"
    assert env["CODEX_THREAD_ID"] == "thread-1"


READONLY_PROFILE = "export EO_SET=from-profile\nreadonly EO_SET\nreadonly EO_PROFILE_ONLY=x\n"


@pytest.mark.parametrize("shell", ["bash", "zsh", "sh"])
def test_a_profile_that_makes_an_owned_variable_readonly_stops_the_command(
    shell: str, tmp_path: Path
) -> None:
    """bash once printed "readonly variable" and ran the command with the profile's value;
    dash and zsh stop at the assignment. No shell may run it."""
    program = shell_program(shell)
    write_profile(tmp_path, shell, posix=READONLY_PROFILE)
    result = fighting_result(tmp_path)
    argv = login_shell_argv(shell, result, printer(), shell_path=program)
    proc = subprocess.run(argv, env=result.env, capture_output=True, timeout=60, check=False)
    assert proc.stdout == b""  # the command never ran
    assert proc.returncode != 0
    assert "EO_SET" in proc.stderr.decode()
    if shell == "bash":
        assert proc.returncode == READONLY_EXIT
        assert proc.stderr.decode() == (
            "envoverlay: the login profile made EO_SET read-only, and the overlay owns it: "
            "the command does not run (fix: do not make variables the overlay owns readonly "
            "in the profile)\n"
        )


def test_bash_runs_the_command_when_only_other_variables_are_readonly(tmp_path: Path) -> None:
    program = shell_program("bash")
    write_profile(tmp_path, "bash", posix="readonly EO_PROFILE_ONLY=x\nreadonly EO_UNRELATED\n")
    result = fighting_result(tmp_path)
    _, env = run_child(login_shell_argv("bash", result, printer(), shell_path=program), result.env)
    assert env["EO_SET"] == "overlay value"
    assert "EO_GONE" not in env


# -- exactness of values: a property, per shell ---------------------------------------------

# Values with what shells treat specially: quotes, expansions, escapes, options, globs.
SPICY = st.sampled_from(
    ["", "'", '"', "$x", "${x}", "`id`", "\\", "\\\\'", "\n", "a\nb\n", "é€😀", "%s%%", "-x",
     "--", "-", " ", "\t", "*", "?", "[a]", "~", "!", "#", ";", "&&", "|", ":", "::", ";;"]
)  # fmt: skip
VALUES = st.lists(st.one_of(SPICY, values), min_size=1, max_size=6)


def _values_result(home: Path, values: list[str], entries: list[str]) -> eo.ComposeResult:
    overlay: dict[str, object] = {f"EO_V{i}": value for i, value in enumerate(values)}
    overlay["EO_TESTPATH"] = ":".join(values)  # a fish "path variable" (name ends in PATH)
    if entries:
        overlay["EO_ENTRIES"] = {"prepend": entries}
    layer = eo.Layer.from_overlay(overlay, kind="hook", id="values")
    runtime = eo.Layer.from_overlay({"CODEX_THREAD_ID": values[0]}, kind="runtime", id="codex")
    base = base_env(home, EO_ENTRIES="/kept:")
    return eo.compose(base, [layer, runtime], platform="posix")


def scripts(argv: Sequence[str]) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "-c"]


def _roundtrip(shell: str, program: str, home: Path, values: list[str]) -> None:
    entries = list(dict.fromkeys(v for v in values if v and ":" not in v))
    result = _values_result(home, values, entries)
    assert result.ok, result.diagnostics
    argv = login_shell_argv(shell, result, printer(*values), shell_path=program)
    # No value is ever part of a script: the scripts are those of any other values.
    other = _values_result(
        home, [f"other{i}" for i in range(len(values))], [f"/e{i}" for i in range(len(entries))]
    )
    other_argv = login_shell_argv(shell, other, printer(*values), shell_path=program)
    assert scripts(argv) == scripts(other_argv)
    args, env = run_child(argv, result.env)
    assert args == values
    for i, value in enumerate(values):
        assert env[f"EO_V{i}"] == value
    assert env["EO_TESTPATH"] == ":".join(values)
    assert env["CODEX_THREAD_ID"] == values[0]
    if entries:
        assert env["EO_ENTRIES"] == result.env["EO_ENTRIES"]
    assert not [name for name in env if name.startswith(HELPER_PREFIX)]


@pytest.mark.parametrize("shell", SHELLS)
def test_values_round_trip_exactly(shell: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    program = shell_program(shell)
    home = tmp_path_factory.mktemp(f"home-{shell}")
    write_profile(home, shell)

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(values=VALUES)
    def check(values: list[str]) -> None:
        _roundtrip(shell, program, home, values)

    check()


# -- shell specifics ------------------------------------------------------------------------


def test_fish_keeps_non_ascii_under_a_c_locale_and_restores_the_locale(tmp_path: Path) -> None:
    program = shell_program("fish")
    write_profile(tmp_path, "fish")
    result = fighting_result(tmp_path, LC_ALL="C", EO_TEXT="é€ 😀 naïve")
    assert login_shell_argv("fish", result, ["x"], shell_path=program)[:3] == [
        "/usr/bin/env", "-u", "LC_ALL"
    ]  # fmt: skip
    _, env = run_child(login_shell_argv("fish", result, printer(), shell_path=program), result.env)
    assert env["EO_TEXT"] == "é€ 😀 naïve"
    assert env["LC_ALL"] == "C"
    assert "LC_CTYPE" not in env


def test_fish_locale_a_profile_sets_is_kept(tmp_path: Path) -> None:
    program = shell_program("fish")
    write_profile(tmp_path, "fish", fish=FISH_PROFILE + "set -gx LC_CTYPE POSIX\n")
    result = fighting_result(tmp_path, LC_CTYPE="C")
    _, env = run_child(login_shell_argv("fish", result, printer(), shell_path=program), result.env)
    assert env["LC_CTYPE"] == "POSIX"  # the profile's own choice, not the guard's forcing


def test_fish_universal_variable_cannot_bring_back_an_unset_one(tmp_path: Path) -> None:
    program = shell_program("fish")
    write_profile(tmp_path, "fish", fish=FISH_PROFILE + "set -Ux EO_UNIVERSAL from-universal\n")
    layer = eo.Layer.from_overlay({"EO_UNIVERSAL": None}, kind="hook", id="h")
    result = eo.compose(base_env(tmp_path), [layer], platform="posix")
    _, env = run_child(login_shell_argv("fish", result, printer(), shell_path=program), result.env)
    assert "EO_UNIVERSAL" not in env
    # the user's universal variable itself is left alone
    check = subprocess.run(
        [program, "-c", "set -S EO_UNIVERSAL"], env=result.env, capture_output=True, check=False
    )
    assert b"universal" in check.stdout


def test_inherit_policy_is_not_undone_by_the_profile(tmp_path: Path) -> None:
    program = shell_program("bash")
    write_profile(tmp_path, "bash", posix=POSIX_PROFILE + "export EO_API_TOKEN=from-profile\n")
    base = base_env(tmp_path, EO_API_TOKEN="launcher")
    policy = eo.InheritPolicy(exclude=["EO_API_*"])
    result = eo.compose(base, [], platform="posix", policy=policy)
    _, env = run_child(login_shell_argv("bash", result, printer(), shell_path=program), result.env)
    assert "EO_API_TOKEN" not in env
    argv = login_shell_argv("bash", result, printer(), shell_path=program, reapply_policy=False)
    _, env = run_child(argv, result.env)
    assert env["EO_API_TOKEN"] == "from-profile"


def test_protect_restores_an_inherited_name(tmp_path: Path) -> None:
    program = shell_program("bash")
    write_profile(tmp_path, "bash", posix=POSIX_PROFILE + "export CODEX_HOME=/profile\n")
    result = eo.compose(base_env(tmp_path, CODEX_HOME="/launcher"), [], platform="posix")
    argv = login_shell_argv("bash", result, printer(), shell_path=program, protect=["CODEX_*"])
    _, env = run_child(argv, result.env)
    assert env["CODEX_HOME"] == "/launcher"


def test_secret_values_never_appear_in_argv(tmp_path: Path) -> None:
    program = shell_program("bash")
    write_profile(tmp_path, "bash", posix=POSIX_PROFILE + "export DB_PASSWORD=profile\n")
    layer = eo.Layer.from_overlay(
        {
            "DB_PASSWORD": {"set": "hunter2-secret", "secret": True},
            "TOKEN_DIRS": {"prepend": "/secret/entry-xyz", "secret": True},
        },
        kind="hook",
        id="vault",
    )
    result = eo.compose(base_env(tmp_path), [layer], platform="posix")
    argv = login_shell_argv("bash", result, printer(), shell_path=program)
    assert not [a for a in argv if "hunter2" in a or "entry-xyz" in a]
    _, env = run_child(argv, result.env)
    assert env["DB_PASSWORD"] == "hunter2-secret"
    assert env["TOKEN_DIRS"] == "/secret/entry-xyz"


# -- capture and drift ----------------------------------------------------------------------


def test_drift_report_names_what_the_profile_changed(tmp_path: Path) -> None:
    program = shell_program("bash")
    write_profile(tmp_path, "bash", posix=POSIX_PROFILE + "export DB_PASSWORD=profile\n")
    layer = eo.Layer.from_overlay(
        {"PATH": {"prepend": "/hook/bin"}, "DB_PASSWORD": {"set": "s3cret", "secret": True}},
        kind="hook",
        id="venv",
    )
    result = eo.compose(base_env(tmp_path, EO_GONE="inherited"), [layer], platform="posix")
    report = {d.name: d for d in drift_report("bash", result, shell_path=program)}
    path = report["PATH"]
    assert path.change == "changed"
    assert path.source == "login-shell:bash"
    assert path.before == result.env["PATH"]
    assert path.after is not None
    assert path.after.startswith("/profile/bin:")
    assert path.reapplied
    added = report["EO_PROFILE_ONLY"]
    assert (added.change, added.before, added.after, added.source, added.reapplied) == (
        "added", None, "from-profile", "login-shell:bash", False
    )  # fmt: skip
    assert report["EO_GONE"].change == "changed"
    secret = report["DB_PASSWORD"]
    assert (secret.before, secret.after) == ("***", "***")
    assert "s3cret" not in repr(report)
    assert "s3cret" not in json.dumps([d.to_json() for d in report.values()])
    assert not {"PWD", "OLDPWD", "SHLVL", "_"} & set(report)
    assert all(isinstance(d, Drift) for d in report.values())


def test_drift_report_redacts_secret_looking_names_and_ignores_bookkeeping(tmp_path: Path) -> None:
    program = shell_program("bash")
    write_profile(
        tmp_path,
        "bash",
        posix="export GH_TOKEN=ghp_abc\nexport DIRENV_DIFF=x\nexport PS1='$ '\nexport EO_X=1\n",
    )
    result = eo.compose(base_env(tmp_path), [], platform="posix")
    report = {d.name: d for d in drift_report("bash", result, shell_path=program)}
    assert report["GH_TOKEN"].after == "***"
    assert report["EO_X"].after == "1"
    assert "DIRENV_DIFF" not in report
    assert "PS1" not in report
    assert "*TOKEN*" in DEFAULT_REDACT
    report = {d.name: d for d in drift_report("bash", result, shell_path=program, redact=())}
    assert report["GH_TOKEN"].after == "ghp_abc"


def test_capture_login_env_is_exact_for_newlines(tmp_path: Path) -> None:
    program = shell_program("bash")
    write_profile(tmp_path, "bash", posix="export EO_NL='a\nb=c\n'\n")
    seen = capture_login_env("bash", base_env(tmp_path, EO_IN="x\ny"), shell_path=program)
    assert seen["EO_NL"] == "a\nb=c\n"
    assert seen["EO_IN"] == "x\ny"


@pytest.mark.parametrize("shell", SHELLS)
def test_capture_login_env_ignores_what_the_profile_prints(shell: str, tmp_path: Path) -> None:
    program = shell_program(shell)
    write_profile(
        tmp_path,
        shell,
        posix=POSIX_PROFILE + "echo 'Welcome=1'; printf 'X=2\\0'\n",
        fish=FISH_PROFILE + "echo 'Welcome=1'; printf 'X=2\\0'\n",
    )
    seen = capture_login_env(shell, base_env(tmp_path, EO_TEXT="é\n"), shell_path=program)
    assert "Welcome" not in seen
    assert "X" not in seen
    assert seen["EO_PROFILE_ONLY"] == "from-profile"
    assert seen["EO_TEXT"] == "é\n"
    assert "LC_CTYPE" not in seen


@pytest.mark.slow  # waits out a timeout or kills processes: seconds, run by .ci/run
def test_capture_login_env_times_out_and_kills_the_shell(tmp_path: Path) -> None:
    program = shell_program("bash")
    marker = tmp_path / "still-running"
    # The child sleeps in the background: only killing the whole process group stops it.
    write_profile(tmp_path, "bash", posix=f"(sleep 1.5; touch '{marker}') &\nsleep 30\n")
    start = time.monotonic()
    with pytest.raises(ShellError, match=r"did not finish within 0\.5s"):
        capture_login_env("bash", base_env(tmp_path), shell_path=program, timeout=0.5)
    assert time.monotonic() - start < 10
    time.sleep(2)
    assert not marker.exists()


def test_capture_login_env_with_a_background_process_holding_stdout(tmp_path: Path) -> None:
    program = shell_program("bash")
    write_profile(tmp_path, "bash", posix="sleep 30 &\nexport EO_X=1\n")
    seen = capture_login_env("bash", base_env(tmp_path), shell_path=program, timeout=1)
    assert seen["EO_X"] == "1"


def test_capture_login_env_reports_failures(tmp_path: Path) -> None:
    program = shell_program("bash")
    write_profile(tmp_path, "bash", posix="echo broken profile >&2; exit 3\n")
    with pytest.raises(ShellError, match=r"status 3: broken profile") as info:
        capture_login_env("bash", base_env(tmp_path), shell_path=program)
    assert isinstance(info.value, eo.EnvOverlayError)
    with pytest.raises(ShellError, match="cannot run bash login shell"):
        capture_login_env("bash", base_env(tmp_path), shell_path=str(tmp_path / "no-bash"))


# -- the plan (pure) and argument checks ----------------------------------------------------


def plan_of(result: eo.ComposeResult, shell: str = "bash", **kwargs: object) -> dict[str, Reapply]:
    return {item.name: item for item in reapply_plan(shell, result, **kwargs)}  # type: ignore[arg-type]


def test_plan_rules() -> None:
    base = {"PATH": "/usr/bin", "KEEP": "k", "OLD": "o", "LIST": "a;b", "DFLT": ""}
    hook = eo.Layer.from_ops(
        [
            eo.Op.prepend("PATH", ["/h", "", "/h"]),
            eo.Op.set("SETV", "v"),
            eo.Op.unset("OLD"),
            eo.Op.unset("NEVER"),
            eo.Op.default("DFLT", "d"),
            eo.Op.default("KEEP", "ignored"),
            eo.Op.append("LIST", "c", separator=";"),
            eo.Op.set("OWNED", "x"),
            eo.Op.prepend("OWNED", "/y"),
            eo.Op.prepend("SPLIT", "a:b"),
            eo.Op.set("A-B", "x"),
            eo.Op.set("SHLVL", "9"),
        ],
        kind="hook",
        id="h",
    )
    runtime = eo.Layer.from_ops([eo.Op.set("CODEX_THREAD_ID", "t")], kind="runtime", id="codex")
    result = eo.compose(base, [hook, runtime], platform="posix")
    plan = plan_of(result)
    assert plan["PATH"] == Reapply(
        "PATH", "edit", "path edits by hook:h", (PathEdit("prepend", ("/h",), ":"),)
    )
    assert plan["LIST"].edits == (PathEdit("append", ("c",), ";"),)
    assert plan["SETV"].rule == "restore"
    assert plan["OLD"].rule == "unset"
    assert plan["NEVER"].rule == "unset"  # unset although it never existed
    assert plan["DFLT"].rule == "restore"  # an applied default owns the value
    assert "KEEP" not in plan  # a skipped default leaves it inherited
    assert plan["OWNED"].rule == "restore"  # set, then prepended: owned whole
    assert plan["SPLIT"].rule == "restore"
    assert plan["CODEX_THREAD_ID"] == Reapply(
        "CODEX_THREAD_ID", "restore", "owned by the runtime layer"
    )
    assert plan["A-B"].rule == "skip"
    assert plan["SHLVL"].rule == "skip"
    assert plan_of(result, "fish")["SHLVL"].rule == "skip"


def test_a_runtime_path_edit_is_folded_again_like_any_other() -> None:
    """Only what the runtime sets or unsets is its own (as compose() protects it): its
    prepend to PATH is re-applied over the profile's PATH, not restored whole."""
    base = {"PATH": "/usr/bin"}
    runtime = eo.Layer.from_ops(
        [eo.Op.prepend("PATH", "/rt/bin"), eo.Op.unset("GONE")], kind="runtime", id="codex"
    )
    hook = eo.Layer.from_ops([eo.Op.prepend("PATH", "/venv/bin")], kind="hook", id="venv")
    result = eo.compose(base, [hook, runtime], platform="posix")
    assert result.ok
    plan = plan_of(result)
    assert plan["PATH"].rule == "edit"
    assert plan["PATH"].edits == (
        PathEdit("prepend", ("/venv/bin",), ":"),
        PathEdit("prepend", ("/rt/bin",), ":"),
    )
    assert plan["GONE"] == Reapply("GONE", "unset", "owned by the runtime layer")


def test_plan_policy_and_protect() -> None:
    base = {"EO_TOKEN": "t", "CODEX_HOME": "/c", "PATH": "/usr/bin"}
    result = eo.compose(base, [], platform="posix", policy=eo.InheritPolicy(exclude=["EO_*"]))
    assert plan_of(result)["EO_TOKEN"].rule == "unset"
    assert "EO_TOKEN" not in plan_of(result, reapply_policy=False)
    plan = plan_of(result, protect=["CODEX_*", "CODEX_NEVER_SET"])
    assert plan["CODEX_HOME"].rule == "restore"
    assert plan["CODEX_NEVER_SET"].rule == "unset"
    assert "PATH" not in plan


def test_arguments_are_checked() -> None:
    result = eo.compose({"PATH": "/usr/bin"}, [], platform="posix")
    with pytest.raises(ValueError, match="unknown shell 'tcsh'; supported: bash, zsh, sh, fish"):
        login_shell_argv("tcsh", result, ["true"])
    with pytest.raises(ValueError, match="empty"):
        login_shell_argv("bash", result, [])
    with pytest.raises(ValueError, match="NUL"):
        login_shell_argv("bash", result, ["a\0b"])
    with pytest.raises(ValueError, match="shell_path"):
        login_shell_argv("bash", result, ["true"], shell_path="-bash")
    windows = eo.compose({"Path": "C:\\x"}, [], platform="windows")
    with pytest.raises(ValueError, match="POSIX"):
        login_shell_argv("bash", windows, ["true"])
    helper = eo.compose(
        {},
        [eo.Layer.from_ops([eo.Op.set(f"{HELPER_PREFIX}0", "x")], kind="hook", id="h")],
        platform="posix",
    )
    with pytest.raises(ValueError, match="reserved"):
        login_shell_argv("bash", helper, ["true"])


def test_argv_shape_without_anything_to_save() -> None:
    result = eo.compose({"PATH": "/usr/bin"}, [], platform="posix")
    argv = login_shell_argv("bash", result, ["true", "x"])
    assert argv[:3] == ["bash", "-l", "-c"]
    assert argv[-2:] == ["true", "x"]
    argv = login_shell_argv("fish", result, ["true"], shell_path="/opt/fish")
    assert argv[:3] == ["/usr/bin/env", f"LC_CTYPE={FISH_CTYPE}", "/opt/fish"]


def test_tools_helper_is_strict_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    monkeypatch.setenv("ENVOVERLAY_REQUIRE_TOOLS", "1")
    with pytest.raises(pytest.fail.Exception, match="apt-get install zsh"):
        require_tool("zsh")
    monkeypatch.delenv("ENVOVERLAY_REQUIRE_TOOLS")
    with pytest.raises(pytest.skip.Exception, match="apt-get install zsh"):
        require_tool("zsh")
