"""Windows spawn maps against a real Windows API.

Every case composes an environment with ``compose(..., platform="windows")``, renders it with
:func:`envoverlay.winblock.environment_block`, and hands the bytes to ``CreateProcessW`` in a
small C program (``tests/winprobe/probe.c``) run under Wine. The child reports its whole block
(``GetEnvironmentStringsW``) and ``GetEnvironmentVariableW`` for every composed name in every
casing. For each case the test asserts that

* the child's block holds no two names that are equal under :func:`envoverlay.windows_fold`;
* the child's block is exactly the composed map, in order, plus the names Wine adds;
* the child sees every composed value under every casing of its name, and every name the
  composition removed is absent.

What Wine adds (Wine 8.0, Debian bookworm): it appends ``WINEDATADIR``, ``WINEHOMEDIR``,
``WINECONFIGDIR``, ``WINEDLLDIR0``, ``WINELOADER``, ``WINEUSERNAME``, ``WINEUSERLOCALE``, any
other ``WINE*`` variable of the Unix environment Wine runs in (here ``WINEDLLOVERRIDES``), and
``SystemDrive`` and ``SystemRoot`` to every child's block, after the entries it was given, and
it replaces an entry of the block with any of those names (in any casing) by its own. Real
Windows adds none of them, so the cases compose none of them (:func:`verify` checks).

Needs ``x86_64-w64-mingw32-gcc`` and ``wine`` (Debian packages ``gcc-mingw-w64-x86-64``,
``wine`` and ``wine64``); without them the Wine tests skip, or fail under
``ENVOVERLAY_REQUIRE_TOOLS=1``. The pure tests at the end run everywhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest
from compose_cases import compose_windows as compose
from compose_cases import raw_block, windows_lower
from compose_cases import windows_hook as hook
from tools import require_tool

import envoverlay as eo
from envoverlay import windows_fold
from envoverlay._names import windows_sorted
from envoverlay.winblock import environment_block, parse_environment_block

# Wine boots a Windows prefix and runs the probe: the slow pass of .ci/run runs them.
pytestmark = pytest.mark.slow


PROBE_SOURCE = Path(__file__).resolve().parent / "winprobe" / "probe.c"
COMPILE_TIMEOUT = 60
BOOT_TIMEOUT = 60
PROBE_TIMEOUT = 30
# Names Wine puts into every child's block (see the module docs), compared folded.
WINE_OWNED = frozenset({"SYSTEMDRIVE", "SYSTEMROOT"})
MAX_UNITS = 32767  # Windows' documented limit for one variable, in UTF-16 code units


def is_wine_name(name: str) -> bool:
    folded = windows_fold(name)
    return folded.startswith("WINE") or folded in WINE_OWNED


# -- the probe ---------------------------------------------------------------------------------


class ProbeError(AssertionError):
    """The probe exited non-zero (its message names the failing API)."""

    def __init__(self, returncode: int, stderr: str) -> None:
        super().__init__(f"probe exited with {returncode}: {stderr.strip()}")
        self.returncode = returncode
        self.stderr = stderr


class Report:
    """What the child saw: its block (parsed, in block order) and its lookups
    (``None`` = ERROR_ENVVAR_NOT_FOUND)."""

    def __init__(self, text: str) -> None:
        self.block: list[tuple[str, str]] = []
        self.lookups: dict[str, str | None] = {}
        lines = text.splitlines()
        assert lines, "the probe's report is empty"
        assert lines[-1] == "end", "the probe's report is incomplete"
        for line in lines[:-1]:
            fields = line.split(" ")
            if fields[0] == "block":
                self.block = parse_environment_block(_units(fields[1]))
            elif fields[0] == "get" and fields[2] == "absent":
                self.lookups[_text(fields[1])] = None
            elif fields[0] == "get" and fields[2] == "value":
                self.lookups[_text(fields[1])] = _text(fields[3]) if len(fields) > 3 else ""
            else:
                raise AssertionError(f"unexpected report line {line[:80]!r}")

    @property
    def ours(self) -> list[tuple[str, str]]:
        """The child's block without the names Wine adds."""
        return [(name, value) for name, value in self.block if not is_wine_name(name)]

    @property
    def wine_names(self) -> list[str]:
        return [name for name, _ in self.block if is_wine_name(name)]


def _units(hex_units: str) -> bytes:
    """The report's hex (4 digits per UTF-16 code unit, big-endian) as UTF-16-LE bytes."""
    big_endian = bytes.fromhex(hex_units)
    swapped = bytearray(len(big_endian))
    swapped[0::2] = big_endian[1::2]
    swapped[1::2] = big_endian[0::2]
    return bytes(swapped)


def _text(hex_units: str) -> str:
    return _units(hex_units).decode("utf-16-le", "surrogatepass")


class Probe:
    """probe.exe under Wine, in one prefix for the whole module."""

    def __init__(self, wine: str, exe: Path, workdir: Path, env: Mapping[str, str]) -> None:
        self.wine = wine
        self.exe = exe
        self.workdir = workdir
        self.env = dict(env)
        self.runs = 0

    def run(self, block: bytes, names: Iterable[str] = ()) -> Report:
        """Start the child with ``block`` and look up ``names`` in it."""
        self.runs += 1
        run_dir = self.workdir / f"run{self.runs}"
        run_dir.mkdir()
        (run_dir / "block.bin").write_bytes(block)
        queries = "".join(f"{name}\0" for name in names)
        (run_dir / "queries.bin").write_bytes(queries.encode("utf-16-le", "surrogatepass"))
        # Files, not pipes: Wine's background processes keep the handles of whoever started
        # them, and a pipe they hold never reaches end-of-file.
        with (
            open(run_dir / "stdout", "wb") as stdout,
            open(run_dir / "stderr", "wb") as stderr,
        ):
            proc = subprocess.run(
                [self.wine, str(self.exe), "parent", "block.bin", "queries.bin", "report.txt"],
                cwd=run_dir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                timeout=PROBE_TIMEOUT,
                check=False,
            )
        if proc.returncode != 0:
            raise ProbeError(proc.returncode, (run_dir / "stderr").read_text("utf-8", "replace"))
        return Report((run_dir / "stdout").read_text("ascii"))


@pytest.fixture(scope="module")
def probe() -> Iterator[Probe]:
    gcc = require_tool("x86_64-w64-mingw32-gcc")
    wine = require_tool("wine")
    wineboot = require_tool("wineboot")
    wineserver = require_tool("wineserver")
    workdir = Path(tempfile.mkdtemp(prefix="envoverlay-winprobe-"))
    prefix = workdir / "prefix"
    prefix.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(
        WINEPREFIX=str(prefix),  # a fresh prefix per session, removed at the end
        WINEDEBUG="-all",
        WINEDLLOVERRIDES="mscoree,mshtml=",  # no Mono/Gecko installers at boot
    )
    server_started = False
    try:
        exe = workdir / "probe.exe"
        built = subprocess.run(
            [gcc, "-O2", "-Wall", "-Wextra", "-municode", "-o", str(exe), str(PROBE_SOURCE)],
            check=False,
            timeout=COMPILE_TIMEOUT,
            capture_output=True,
        )
        assert built.returncode == 0, f"probe.c does not compile:\n{built.stderr.decode()}"
        # A persistent server: one Wine start-up for the module, not one per probe run.
        subprocess.run(
            [wineserver, "-p"],
            env=env,
            check=True,
            timeout=BOOT_TIMEOUT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        server_started = True
        with open(workdir / "wineboot.log", "wb") as log:
            booted = subprocess.run(
                [wineboot, "--init"],
                env=env,
                check=False,
                timeout=BOOT_TIMEOUT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        boot_log = (workdir / "wineboot.log").read_text("utf-8", "replace")
        assert booted.returncode == 0, f"wineboot --init failed:\n{boot_log}"
        yield Probe(wine, exe, workdir, env)
    finally:
        if server_started:
            subprocess.run(
                [wineserver, "-k"],
                env=env,
                timeout=BOOT_TIMEOUT,
                check=False,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        shutil.rmtree(workdir, ignore_errors=True)


# -- assertions ----------------------------------------------------------------------------------


def casings(name: str) -> list[str]:
    """``name`` as given, upper and lower: the spellings Windows treats as ``name``."""
    found = []
    for spelled in (name, windows_fold(name), windows_lower(name)):
        if spelled not in found and windows_fold(spelled) == windows_fold(name):
            found.append(spelled)
    return found


def assert_no_fold_duplicates(entries: Sequence[tuple[str, str]]) -> None:
    seen: dict[str, str] = {}
    for name, _ in entries:
        key = windows_fold(name)
        assert key not in seen, f"the child's block holds both {seen[key]!r} and {name!r}"
        seen[key] = name


def verify(probe: Probe, result: eo.ComposeResult, absent: Iterable[str] = ()) -> Report:
    """Send ``result.env`` through CreateProcessW and check what the child sees."""
    env = result.env
    owned = [name for name in env if is_wine_name(name)]
    assert not owned, f"Wine replaces {owned}; a case must not compose them"
    gone = [*result.removed, *absent]
    for name in gone:
        assert windows_fold(name) not in {windows_fold(n) for n in env}
    block = environment_block(env)
    report = probe.run(block, [c for name in [*env, *gone] for c in casings(name)])

    assert_no_fold_duplicates(report.block)
    assert report.ours == parse_environment_block(block) == list(env.items())
    for name, value in env.items():
        for spelled in casings(name):
            assert report.lookups[spelled] == value, f"{spelled!r} (composed as {name!r})"
    for name in gone:
        for spelled in casings(name):
            assert report.lookups[spelled] is None, f"{spelled!r} should be absent"
    return report


WINDOWS_BASE = {
    "Path": r"C:\Windows\system32;C:\Windows;C:\Program Files\Git\cmd",
    "PATHEXT": ".COM;.EXE;.BAT;.CMD",
    "ComSpec": r"C:\Windows\system32\cmd.exe",
    "ProgramFiles(x86)": r"C:\Program Files (x86)",
    "USERPROFILE": r"C:\Users\dev",
    "TEMP": r"C:\Users\dev\AppData\Local\Temp",
}


# -- the catalogue -------------------------------------------------------------------------------


def test_inherited_path_and_hook_prepend(probe: Probe) -> None:
    result = compose(
        WINDOWS_BASE, hook({"PATH": {"prepend": [r"C:\repo\.venv\Scripts", r"c:\windows"]}})
    )
    assert result.ok
    env = result.env
    assert "PATH" not in env
    assert env["Path"] == (
        r"C:\repo\.venv\Scripts;c:\windows;C:\Windows\system32;C:\Program Files\Git\cmd"
    )
    verify(probe, result)


@pytest.mark.parametrize(
    "base",
    [
        {"PATH": r"C:\first", "Path": r"C:\second"},
        {"Path": r"C:\second", "PATH": r"C:\first"},
    ],
    ids=["PATH-first", "Path-first"],
)
def test_case_duplicates_in_the_base(probe: Probe, base: dict[str, str]) -> None:
    first_name, first_value = next(iter(base.items()))
    result = compose(base)
    assert result.env == {first_name: first_value}
    assert [d.code for d in result.diagnostics] == ["duplicate-name"]
    verify(probe, result)
    # compose keeps what a child of the raw, duplicated block sees: the first entry. Wine
    # leaves both entries in the child's block (Windows rewrites the second to the first's
    # value); every lookup returns the first.
    report = probe.run(raw_block(list(base.items())), ["PATH", "Path", "path"])
    assert report.ours == list(base.items())
    assert set(report.lookups.values()) == {first_value}


def test_duplicates_in_the_base_with_a_hook_prepend(probe: Probe) -> None:
    result = compose(
        {"PATH": r"C:\first", "Path": r"C:\second"}, hook({"Path": {"prepend": r"C:\venv"}})
    )
    assert result.env == {"PATH": r"C:\venv;C:\first"}
    verify(probe, result)


def test_non_ascii_names(probe: Probe) -> None:
    result = compose({"STRAßE": "eszett", "STRASSE": "double s", "π": "small pi"}, hook({"Π": "P"}))
    # 'ß' has no one-unit upper case: STRAßE and STRASSE are two variables. π and Π are one,
    # spelled as inherited, valued by the hook.
    assert result.env == {"STRASSE": "double s", "STRAßE": "eszett", "π": "P"}
    report = verify(probe, result)
    assert report.lookups["straße"] == "eszett"
    assert report.lookups["Π"] == "P"


def test_unset_across_casings(probe: Probe) -> None:
    result = compose({"Foo": "1", "foobar": "2"}, hook({"FOO": None}))
    assert result.env == {"foobar": "2"}
    assert list(result.removed) == ["Foo"]
    verify(probe, result)


def test_unset_of_a_name_that_never_existed(probe: Probe) -> None:
    result = compose({"A": "1"}, hook({"Missing": None}))
    assert result.env == {"A": "1"}
    verify(probe, result, absent=["Missing"])


def test_drive_variables_in_the_base(probe: Probe) -> None:
    base = {"=C:": r"C:\repo", "=D:": "D:\\", "=ExitCode": "00000000", **WINDOWS_BASE}
    result = compose(base, hook({"CARGO_HOME": r"C:\Users\dev\.cargo"}))
    assert result.ok
    env = result.env
    assert list(env)[:3] == ["=C:", "=D:", "=ExitCode"]  # '=' sorts before letters
    report = verify(probe, result)
    assert report.lookups["=c:"] == r"C:\repo"


def test_drive_variables_cannot_be_created_by_ops() -> None:
    with pytest.raises(eo.OverlayError, match="invalid-name"):
        hook({"=C:": r"C:\elsewhere"})


def test_a_variable_at_the_size_limit(probe: Probe) -> None:
    ascii_value = "x" * (MAX_UNITS - len("BIG="))
    wide_value = "\U0001f600" * ((MAX_UNITS - len("WIDE=")) // 2)  # two units each
    result = compose({"A": "1"}, hook({"BIG": ascii_value, "WIDE": wide_value}))
    assert result.ok
    for name, value in [("BIG", ascii_value), ("WIDE", wide_value)]:
        entry = f"{name}={value}".encode("utf-16-le", "surrogatepass")
        assert len(entry) // 2 == MAX_UNITS
    verify(probe, result)


def test_one_unit_over_the_limit_is_rejected_by_compose(probe: Probe) -> None:
    over = eo.Layer.from_ops([eo.Op.set("BIG", "x" * (MAX_UNITS - 3))], kind="thread", id="t")
    result = compose({"A": "1"}, over)
    assert [(d.code, d.name) for d in result.errors] == [("too-large", "BIG")]
    assert "BIG" not in result.env
    verify(probe, result, absent=["BIG"])


def test_size_facts_beyond_the_documented_limit(probe: Probe) -> None:
    """Facts, not rules: what CreateProcessW and GetEnvironmentVariableW do past 32767."""
    # An inherited NAME=value of 32768 units: compose reports it (and keeps it: nothing is
    # truncated) ...
    value = "x" * (MAX_UNITS + 1 - len("BIG="))
    result = compose({"BIG": value})
    assert [(d.code, d.name) for d in result.errors] == [("too-large", "BIG")]
    assert result.env == {"BIG": value}
    # ... but CreateProcessW accepts it, and the child reads it whole.
    report = verify(probe, result)
    assert report.lookups["BIG"] == value

    # A 40000-unit value also reaches the child's block whole. Wine's
    # GetEnvironmentVariableW returns (length mod 32768) units of it: the length travels
    # as a 16-bit byte count. Windows 10/11 return the whole value.
    huge = "y" * 40000
    report = probe.run(raw_block([("HUGE", huge)]), ["HUGE"])
    assert report.ours == [("HUGE", huge)]
    assert report.lookups["HUGE"] in (huge, huge[: len(huge) % 32768])


def test_empty_values(probe: Probe) -> None:
    result = compose(
        {"EMPTY": "", "DEFAULTED": "", "Path": r"C:\Windows"},
        hook({"ALSO_EMPTY": "", "DEFAULTED": {"default": "filled"}}),
    )
    assert result.env == {
        "ALSO_EMPTY": "",
        "DEFAULTED": "filled",
        "EMPTY": "",
        "Path": r"C:\Windows",
    }
    report = verify(probe, result)
    # An empty variable exists: GetEnvironmentVariableW returns 0 without
    # ERROR_ENVVAR_NOT_FOUND.
    assert report.lookups["empty"] == ""


def test_values_with_equals_signs_and_non_bmp_characters(probe: Probe) -> None:
    result = compose(
        {"EQ": "a=b==c=", "LEADING": "=x"},
        hook(
            {
                "EMOJI": "\u2600\U0001f600\U0001d11e",
                "LONE": "x\udc00y\ud83d",  # unpaired surrogates are legal in a UTF-16 block
                "\U0001f31e": "sun name",
                "JSON": '{"a": "b=c"}',
            }
        ),
    )
    assert result.ok
    verify(probe, result)


def test_many_variables_in_windows_order(probe: Probe) -> None:
    names = [f"VAR_{i:03d}" for i in range(150)]
    names += [f"var_{i:03d}x" for i in range(100)]
    names += ["_under", "Zulu", "zz", "ÄRGER", "ärger2", "Ωmega", "\uff01bang", "\U0001f31esun"]
    names += ["ProgramFiles(x86)", "A.B", "with space", "1digit"]
    overlay: dict[str, object] = {name: f"value of {name}" for name in names}
    result = compose(WINDOWS_BASE, hook(overlay))
    env = result.env
    assert list(env) == windows_sorted(env)
    # 'Z' (0x5A) < '_' (0x5F) after upper-casing; U+1F31E (surrogates D83C DF1E) sorts
    # before U+FF01 because the order is by UTF-16 code unit.
    order = list(env)
    assert order.index("Zulu") < order.index("_under")
    assert order.index("\U0001f31esun") < order.index("\uff01bang")
    report = verify(probe, result)
    # Order is a SHOULD: a reversed block gives the child the same values.
    reversed_report = probe.run(raw_block(list(env.items())[::-1]), list(env))
    assert reversed_report.lookups == {name: report.lookups[name] for name in env}


def test_empty_map(probe: Probe) -> None:
    result = compose({})
    assert environment_block(result.env) == b"\0\0\0\0"
    verify(probe, result, absent=["PATH"])


def test_names_wine_injects(probe: Probe) -> None:
    """What Wine adds to a block (documented in the module docs and docs/windows.md)."""
    report = probe.run(environment_block({}))
    assert report.ours == []
    names = report.wine_names
    assert {"SystemDrive", "SystemRoot"} <= set(names)
    others = set(names) - {"SystemDrive", "SystemRoot"}
    assert all(name.startswith("WINE") for name in others), others
    # Wine replaces a given entry with one of its names (any casing) by its own: the child
    # still holds each name once, with Wine's value.
    report = probe.run(environment_block({"systemroot": "D:\\elsewhere", "Z": "1"}))
    assert_no_fold_duplicates(report.block)
    assert report.ours == [("Z", "1")]
    assert ("systemroot", "D:\\elsewhere") not in report.block


# Cased BMP characters where windows_fold() may disagree with Wine's GetEnvironmentVariableW
# (Wine 8.0): none. (Before windows_fold followed the round-trip rule, 54 did: the micro sign,
# dotless i, long s, final sigma, title-case digraphs, Greek symbol forms, U+0345, U+1E9B,
# U+1FBE, U+1C80..U+1C88, and the Greek letters with ypogegrammeni.)
KNOWN_FOLD_DISAGREEMENTS: frozenset[int] = frozenset()


def test_windows_fold_against_wine_for_every_cased_bmp_character(probe: Probe) -> None:
    """For every BMP character with a case mapping, look its name up in a block holding one
    variable per windows_fold class, and compare the variable Wine finds with windows_fold's.

    Characters assigned after Unicode 3.2 may disagree freely: their mappings depend on the
    Unicode versions of Python and of Wine's table (Windows' own table is older still).
    """
    chars = [
        chr(c)
        for c in range(1, 0x10000)
        if not 0xD800 <= c <= 0xDFFF
        and c != ord("=")
        and (chr(c).upper() != chr(c) or chr(c).lower() != chr(c))
    ]
    env = {windows_fold(f"V{char}"): f"{ord(windows_fold(char)):04X}" for char in chars}
    report = probe.run(environment_block(env), [f"V{char}" for char in chars])
    disagreements = {
        ord(char): report.lookups[f"V{char}"]
        for char in chars
        if report.lookups[f"V{char}"] != env[windows_fold(f"V{char}")]
    }
    new = {
        f"U+{c:04X} {unicodedata.name(chr(c), '?')}": got
        for c, got in disagreements.items()
        if c not in KNOWN_FOLD_DISAGREEMENTS and unicodedata.ucd_3_2_0.category(chr(c)) != "Cn"
    }
    assert not new, f"windows_fold disagrees with Wine on {new}"
    # Every ASCII letter, 'ß'/'ẞ' and π/Π agree.
    for c in [*range(ord("a"), ord("z") + 1), *range(ord("A"), ord("Z") + 1), 0xDF, 0x1E9E]:
        assert c not in disagreements
    assert 0x3C0 not in disagreements
    assert 0x3A0 not in disagreements
