"""The benchmark suite: what is measured, against what, and the targets.

Run it with ``python -m benchmarks`` (``--help`` for options). See README.md for what each
row means. Every target is a ratio of two measurements taken in the same run, in alternating
rounds; absolute times are printed for orientation only.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import io
import json
import os
import platform as platform_module
import pstats
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from .harness import Call, Case, Measurement, Ratio, calibrate, format_seconds, measure_group
from .workloads import Platform, Size

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mode:
    name: str
    rounds: int  # in-process groups
    round_seconds: float
    cli_rounds: int  # envoverlay check vs check-jsonschema
    startup_rounds: int  # python -c "import envoverlay" vs python -c pass


FULL = Mode("full", rounds=15, round_seconds=0.05, cli_rounds=11, startup_rounds=21)
QUICK = Mode("quick", rounds=5, round_seconds=0.01, cli_rounds=3, startup_rounds=5)


# -- the environment of child processes ----------------------------------------------------


def child_env(pycache: Path | None = None) -> dict[str, str]:
    """The env of child processes: this process's, with the source tree first on PYTHONPATH
    so that children import the envoverlay being measured. The same for both sides of every
    process comparison.

    With ``pycache``, children keep their bytecode caches there (PYTHONPYCACHEPREFIX) and
    may write them even if PYTHONDONTWRITEBYTECODE is set: otherwise a source checkout
    recompiles envoverlay in every process while installed packages load their ``.pyc``
    files, which would measure the compiler, not the code. The warm-up run fills the cache
    for both sides; nothing is written into the source tree or site-packages.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def console_script(name: str) -> str | None:
    """The console script ``name`` of this interpreter's environment, if installed (never a
    shell shim found on PATH: those add their own start-up time)."""
    scripts = sysconfig.get_path("scripts")
    for candidate in (name, f"{name}.exe"):
        path = Path(scripts) / candidate
        if path.is_file():
            return str(path)
    return None


def envoverlay_command() -> list[str]:
    script = console_script("envoverlay")
    return [script] if script else [sys.executable, "-m", "envoverlay"]


def check_jsonschema_command() -> list[str] | None:
    script = console_script("check-jsonschema")
    if script:
        return [script]
    if importlib.util.find_spec("check_jsonschema") is not None:
        return [sys.executable, "-m", "check_jsonschema"]
    return None


def true_command() -> list[str]:
    found = "/bin/true" if Path("/bin/true").is_file() else shutil.which("true")
    if found is None:  # pragma: no cover - not a POSIX machine
        return [sys.executable, "-S", "-c", "pass"]
    return [found]


# -- files the process cases read -----------------------------------------------------------


class Files:
    """The hook output and the bundled schema on disk, in a temporary folder, and the env
    of child processes (their bytecode cache in the same folder)."""

    def __init__(self, folder: Path) -> None:
        from envoverlay.schemas import bundled_schema

        from .workloads import hook_output_text

        self.hook_output = folder / "hook-output.json"
        self.hook_output.write_text(hook_output_text(), encoding="utf-8")
        self.schema = folder / "session-start.output.bundled.schema.json"
        self.schema.write_text(json.dumps(bundled_schema(), indent=2), encoding="utf-8")
        self.env = child_env(folder / "pycache")
        from .workloads import env_file_text

        self.env_file = folder / "claude-env-file.sh"
        self.env_file.write_text(env_file_text(1000), encoding="utf-8")


def _process_call(argv: Sequence[str], env: dict[str, str], what: str) -> Call:
    command = list(argv)

    def call() -> None:
        completed = subprocess.run(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
        )
        if completed.returncode != 0:
            raise RuntimeError(
                f"{what} exited {completed.returncode}: "
                f"{completed.stderr.decode(errors='replace')[-2000:]}"
            )

    return call


# -- the cases ------------------------------------------------------------------------------


def compose_case(
    size: Size, plat: Platform, *, cold: bool = False, short_path: bool = False
) -> Case:
    """A thread's stack composed by the :class:`~envoverlay.Composer` a runtime holds for
    it: called again as before each spawn (the remembered result of the equal call
    before), or ``cold``: each call sees a base that changed since the last one (one
    inherited value differs), so it folds again — with the per-layer analyses the composer
    keeps. ``short_path`` gives the thread the typical thread's PATH (a control: everything
    else grows tenfold)."""

    def setup() -> Call:
        import itertools

        from envoverlay import Composer

        from .workloads import build_thread

        thread = build_thread(size, plat)
        base, layers = thread.base, thread.layers
        if short_path:
            typical = build_thread("typical", plat).base
            for name in base.keys() & typical.keys():
                if name.upper() == "PATH":
                    base[name] = typical[name]
        composer = Composer(platform=thread.platform, protected=thread.protected)
        result = composer.compose(base, layers)
        if result.diagnostics:
            raise RuntimeError(f"workload {size}/{plat} composes with {result.diagnostics}")
        if not cold:
            return lambda: composer.compose(base, layers)

        changing = next(iter(base))
        original = base[changing]
        ticks = itertools.count()

        def from_scratch() -> object:
            base[changing] = f"{original}{next(ticks)}"
            return composer.compose(base, layers)

        return from_scratch

    sizes = "300 vars, 30-entry PATH, 8 layers" if size == "typical" else (
        f"3,000 vars, {'30' if short_path else '2,000'}-entry PATH, 71 layers"
    )  # fmt: skip
    how = "base changed: folded" if cold else "called again"
    return Case(
        f"compose.{size}{'_short_path' if short_path else ''}.{plat}{'.cold' if cold else ''}",
        f"Composer.compose() {size} thread ({sizes}), {plat}, {how}",
        setup,
    )


def worst_case_cases() -> list[Case]:
    """The worst cases of 0.1.0, each at two sizes ten times apart: compose() (pure, so
    each call folds from scratch) of rejected path ops over an over-limit PATH, and of
    many non-ASCII (and, as a control, ASCII) path entries past a quarter of the limit."""

    def rejected(scale: int) -> Callable[[], Call]:
        def setup() -> Call:
            from envoverlay import compose

            from .workloads import over_limit_path_thread

            base, layers = over_limit_path_thread(scale)
            result = compose(base, layers, platform="posix")
            if result.env["PATH"] != base["PATH"]:
                raise RuntimeError("an op over the over-limit PATH was applied")
            return lambda: compose(base, layers, platform="posix")

        return setup

    def entries(count: int, ascii: bool) -> Callable[[], Call]:
        def setup() -> Call:
            from envoverlay import compose

            from .workloads import path_entries_thread

            base, layers = path_entries_thread(count, ascii=ascii)
            compose(base, layers, platform="posix")
            return lambda: compose(base, layers, platform="posix")

        return setup

    return [
        Case("compose.rejected_path_ops.x1",
             "compose(): 286 prepends, all rejected, over a 150 KB PATH (2,400 entries): "
             "over the limit", rejected(1)),
        Case("compose.rejected_path_ops.x10",
             "compose(): 2,860 prepends, all rejected, over a 1.5 MB PATH (24,000 entries)",
             rejected(10)),
        Case("compose.non_ascii_path.x1",
             "compose(): 1,000 prepends of a 40-byte non-ASCII entry (42 KB PATH)",
             entries(1_000, ascii=False)),
        Case("compose.non_ascii_path.x10",
             "compose(): 10,000 prepends of a 40-byte non-ASCII entry (limit reached at 3,200)",
             entries(10_000, ascii=False)),
        Case("compose.ascii_path.x10",
             "compose(): 10,000 prepends of a 40-byte ASCII entry (the control)",
             entries(10_000, ascii=True)),
    ]  # fmt: skip


def large_hook_cases() -> list[Case]:
    def parse_setup() -> Call:
        from envoverlay import parse_hook_output

        from .workloads import large_hook_output_text

        text = large_hook_output_text()
        result = parse_hook_output(text, hook_id="bench", platform="posix")
        if not result.ok:
            raise RuntimeError(f"the 5 MB hook output does not parse: {result.errors[:3]}")
        return lambda: parse_hook_output(text, hook_id="bench", platform="posix")

    def loads_setup() -> Call:
        from .workloads import large_hook_output_text

        text = large_hook_output_text()
        return lambda: json.loads(text)

    return [
        Case("hook.parse_hook_output_5mb",
             "parse_hook_output() of a 5 MB SessionStart output (an env of 40,000 ops)",
             parse_setup),
        Case("hook.json_loads_5mb", "json.loads of the same 5 MB text", loads_setup),
    ]  # fmt: skip


def dict_merge_case(plat: Platform) -> Case:
    def setup() -> Call:
        from .workloads import build_thread

        thread = build_thread("typical", plat)
        base, overlay = thread.base, thread.flat_overlay
        return lambda: dict(base) | overlay

    return Case(
        f"dict_merge.typical.{plat}",
        f"dict(base) | overlay on the typical {plat} thread (no rules at all)",
        setup,
    )


def spawn_case() -> Case:
    command = true_command()

    def setup() -> Call:
        return lambda: subprocess.run(command, check=False)

    return Case("spawn.true", f"subprocess.run([{command[0]!r}])", setup)


def hook_cases() -> list[Case]:
    def parse_setup() -> Call:
        from envoverlay import parse_hook_output

        from .workloads import hook_output_text

        text = hook_output_text()
        result = parse_hook_output(text, hook_id="bench", platform="posix")
        if not result.ok or result.layer is None:
            raise RuntimeError(f"the typical hook output does not parse: {result.errors}")
        return lambda: parse_hook_output(text, hook_id="bench", platform="posix")

    def validate_setup() -> Call:
        import jsonschema

        from envoverlay.schemas import bundled_schema

        from .workloads import hook_output_document

        schema = bundled_schema("session-start.output")
        document = hook_output_document()
        return lambda: jsonschema.validate(document, schema)

    def prebuilt_setup() -> Call:
        from envoverlay.schemas import validator

        from .workloads import hook_output_text

        text = hook_output_text()
        prebuilt = validator("session-start.output")
        return lambda: prebuilt.validate(json.loads(text))

    return [
        Case(
            "hook.parse_hook_output",
            "parse_hook_output() of a SessionStart output with a 10-op env (text in)",
            parse_setup,
        ),
        Case(
            "hook.jsonschema_validate",
            "jsonschema.validate(doc, bundled output schema): checks the schema, builds a "
            "validator, validates",
            validate_setup,
        ),
        Case(
            "hook.json_loads_prebuilt_validate",
            "json.loads + validate with the prebuilt validator('session-start.output')",
            prebuilt_setup,
        ),
    ]


#: The env a benchmark env file is read over (and sourced over).
ENV_FILE_BASE = {"PATH": "/usr/bin:/bin", "HOME": "/home/dev", "LANG": "C.UTF-8"}


def env_file_cases(files: Files) -> list[Case]:
    """Reading a CLAUDE_ENV_FILE statically, sourcing it in bash, evaluating it (one bash
    run plus the diff), and one spawn for scale."""
    bash = shutil.which("bash") or "bash"
    env = {**files.env, **ENV_FILE_BASE}

    def static_setup(lines: int) -> Callable[[], Call]:
        def setup() -> Call:
            from envoverlay.envfile import read_shell_env_file

            from .workloads import env_file_text

            text = env_file_text(lines)
            if not read_shell_env_file(text, ENV_FILE_BASE, platform="posix").ok:
                raise RuntimeError("the benchmark env file is not in the static subset")
            return lambda: read_shell_env_file(text, ENV_FILE_BASE, platform="posix")

        return setup

    def evaluate_setup() -> Call:
        from envoverlay.envfile_eval import evaluate_env_file

        def call() -> None:
            if not evaluate_env_file(files.env_file, ENV_FILE_BASE, platform="posix").ok:
                raise RuntimeError("evaluating the benchmark env file failed")

        return call

    source = [bash, "--noprofile", "--norc", "-c", 'source "$0"', str(files.env_file)]
    command = true_command()
    return [
        Case("envfile.static_1000", "read_shell_env_file() of a 1,000-line env file",
             static_setup(1000)),
        Case("envfile.static_5", "read_shell_env_file() of a 5-line env file", static_setup(5)),
        Case("envfile.bash_source_1000", "bash -c 'source F' of the same 1,000-line file",
             lambda: _process_call(source, env, "bash source"), process=True),
        Case("envfile.evaluate_1000", "evaluate_env_file() of it (one bash run, then the diff)",
             evaluate_setup, process=True),
        Case("envfile.spawn_true", f"subprocess.run([{command[0]!r}])",
             lambda: _process_call(command, env, "true"), process=True),
    ]  # fmt: skip


def state_cases() -> list[Case]:
    def envoverlay_setup() -> Call:
        from envoverlay import dumps, loads

        from .workloads import thread_state

        state = thread_state(50)
        if loads(dumps(state)) != state:
            raise RuntimeError("the 50-layer state does not round-trip")
        return lambda: loads(dumps(state))

    def json_setup() -> Call:
        from envoverlay import dumps

        from .workloads import thread_state

        document = json.loads(dumps(thread_state(50)))
        return lambda: json.loads(json.dumps(document))

    return [
        Case("state.loads_dumps_50", "envoverlay loads(dumps(state)), 50 layers x 10 ops",
             envoverlay_setup),
        Case("state.json_roundtrip_50", "json.loads(json.dumps(d)) of the same document",
             json_setup),
    ]  # fmt: skip


def cli_cases(files: Files) -> list[Case]:
    env = files.env
    ours = [*envoverlay_command(), "check", str(files.hook_output)]
    cases = [
        Case(
            "cli.envoverlay_check",
            f"process: {_shown(ours)}",
            lambda: _process_call(ours, env, "envoverlay check"),
            process=True,
        )
    ]
    checker = check_jsonschema_command()
    if checker is not None:
        command = [*checker, "--schemafile", str(files.schema), str(files.hook_output)]
        cases.append(
            Case(
                "cli.check_jsonschema",
                f"process: {_shown(command)}",
                lambda: _process_call(command, env, "check-jsonschema"),
                process=True,
            )
        )
    return cases


def startup_cases(files: Files) -> list[Case]:
    env = files.env
    ours = [sys.executable, "-c", "import envoverlay"]
    used = [sys.executable, "-c", "from envoverlay import compose"]
    bare = [sys.executable, "-c", "pass"]
    return [
        Case("python.import_envoverlay", 'process: python -c "import envoverlay"',
             lambda: _process_call(ours, env, "import envoverlay"), process=True),
        Case("python.import_compose", 'process: python -c "from envoverlay import compose"',
             lambda: _process_call(used, env, "from envoverlay import compose"), process=True),
        Case("python.pass", 'process: python -c "pass"',
             lambda: _process_call(bare, env, "python"), process=True),
    ]  # fmt: skip


def _shown(argv: Sequence[str]) -> str:
    """A command line for the report, without machine paths."""
    shown = [Path(part).name if os.sep in part else part for part in argv]
    if argv and argv[0] == sys.executable:
        shown[0] = "python"
    return " ".join(shown)


# -- the targets ----------------------------------------------------------------------------

RATIOS: tuple[Ratio, ...] = (
    Ratio("compose_vs_spawn.posix", "typical compose() / spawning /bin/true",
          "compose.typical.posix", "spawn.true", 0.02),
    Ratio("compose_vs_spawn.windows", "typical compose() with windows rules / spawning /bin/true",
          "compose.typical.windows", "spawn.true", 0.02),
    Ratio("compose_scaling.posix", "large / typical compose(), base changed: linear growth",
          "compose.large.posix.cold", "compose.typical.posix.cold", 13),
    Ratio("compose_scaling.windows", "large / typical compose(), base changed: linear growth",
          "compose.large.windows.cold", "compose.typical.windows.cold", 13),
    Ratio("hook_parse_speedup_vs_jsonschema", "jsonschema.validate / parse_hook_output (speed-up)",
          "hook.jsonschema_validate", "hook.parse_hook_output", 5, ">="),
    Ratio("hook_parse_vs_prebuilt_validator",
          "parse_hook_output / (json.loads + prebuilt validator)",
          "hook.parse_hook_output", "hook.json_loads_prebuilt_validate", 1.5),
    Ratio("check_cli_vs_check_jsonschema", "envoverlay check / check-jsonschema (processes)",
          "cli.envoverlay_check", "cli.check_jsonschema", 0.5),
    Ratio("import_vs_bare_python", 'python -c "import envoverlay" / python -c "pass"',
          "python.import_envoverlay", "python.pass", 1.35),
    Ratio("state_roundtrip_vs_json", "loads(dumps(state)) / json.loads(json.dumps(d)), 50 layers",
          "state.loads_dumps_50", "state.json_roundtrip_50", 4),
    Ratio("rejected_path_ops_scaling", "10x rejected path ops over a 10x over-limit PATH: linear",
          "compose.rejected_path_ops.x10", "compose.rejected_path_ops.x1", 13),
    Ratio("non_ascii_path_scaling", "10x non-ASCII path entries past a quarter of the limit",
          "compose.non_ascii_path.x10", "compose.non_ascii_path.x1", 13),
    Ratio("hook_parse_5mb_vs_json_loads", "parse_hook_output / json.loads of a 5 MB hook output",
          "hook.parse_hook_output_5mb", "hook.json_loads_5mb", 20),
    Ratio("envfile_static_vs_bash_source", "static reading / bash -c 'source F', 1,000 lines",
          "envfile.static_1000", "envfile.bash_source_1000", 0.25),
    Ratio("envfile_static_5_vs_spawn", "static reading of 5 lines / spawning /bin/true",
          "envfile.static_5", "envfile.spawn_true", 0.02),
)  # fmt: skip

INFO: tuple[Ratio, ...] = (
    Ratio("compose_scaling_short_path.posix",
          "large / typical compose(), base changed, both with the typical PATH (control)",
          "compose.large_short_path.posix.cold", "compose.typical.posix.cold"),
    Ratio("compose_scaling_short_path.windows",
          "large / typical compose() windows, base changed, both with the typical PATH",
          "compose.large_short_path.windows.cold", "compose.typical.windows.cold"),
    Ratio("import_compose_vs_bare_python",
          'python -c "from envoverlay import compose" / python -c "pass"',
          "python.import_compose", "python.pass"),
    Ratio("compose_cold_vs_spawn.posix", "typical compose(), base changed / spawning /bin/true",
          "compose.typical.posix.cold", "spawn.true"),
    Ratio("compose_cold_vs_spawn.windows",
          "typical compose() windows, base changed / spawning /bin/true",
          "compose.typical.windows.cold", "spawn.true"),
    Ratio("envfile_static_1000_vs_spawn", "static reading of 1,000 lines / spawning /bin/true",
          "envfile.static_1000", "envfile.spawn_true"),
    Ratio("envfile_evaluate_vs_spawn", "evaluating 1,000 lines in bash / spawning /bin/true",
          "envfile.evaluate_1000", "envfile.spawn_true"),
    Ratio("compose_vs_dict_merge.posix", "typical compose() / dict(base) | overlay",
          "compose.typical.posix", "dict_merge.typical.posix"),
    Ratio("compose_vs_dict_merge.windows", "typical compose() windows / dict(base) | overlay",
          "compose.typical.windows", "dict_merge.typical.windows"),
    Ratio("non_ascii_vs_ascii_path", "10,000 non-ASCII / ASCII path entries (sizes in bytes)",
          "compose.non_ascii_path.x10", "compose.ascii_path.x10"),
)  # fmt: skip


#: In-process groups whose calls are long: as many rounds as the command-line group.
LONG_GROUPS = frozenset({"worst cases", "large hook output"})


def groups(files: Files) -> list[tuple[str, list[Case]]]:
    """The cases, in groups measured against each other, in the order they run."""
    return [
        (
            "compose",
            [
                compose_case("typical", "posix"),
                compose_case("typical", "windows"),
                compose_case("typical", "posix", cold=True),
                compose_case("large", "posix", cold=True),
                compose_case("typical", "windows", cold=True),
                compose_case("large", "windows", cold=True),
                compose_case("large", "posix", cold=True, short_path=True),
                compose_case("large", "windows", cold=True, short_path=True),
                spawn_case(),
                dict_merge_case("posix"),
                dict_merge_case("windows"),
            ],
        ),
        ("worst cases", worst_case_cases()),
        ("hook output", hook_cases()),
        ("large hook output", large_hook_cases()),
        ("thread state", state_cases()),
        ("env files", env_file_cases(files)),
        ("command line", cli_cases(files)),
        ("start-up", startup_cases(files)),
    ]


# -- checks (not timings) -------------------------------------------------------------------

LAZY_IMPORT_PROBE = """
import json, sys
import envoverlay as eo
layer = eo.Layer.from_overlay({"PATH": {"prepend": ["/x/bin"]}, "A": "1", "B": None},
                              kind="hook", id="probe")
runtime = eo.Layer.from_ops([eo.Op.set("CODEX_THREAD_ID", "t1")], kind="runtime", id="rt")
for platform in ("posix", "windows"):
    result = eo.compose({"PATH": "/bin", "HOME": "/h"}, [layer, runtime], platform=platform)
    assert result.ok, result.diagnostics
    result.env
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("jsonschema", "cattrs"))))
"""


def lazy_import_check() -> dict[str, Any]:
    """Whether ``import envoverlay`` and compose() leave jsonschema and cattrs unloaded."""
    completed = subprocess.run(
        [sys.executable, "-c", LAZY_IMPORT_PROBE],
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        return {
            "name": "lazy_imports",
            "description": "import envoverlay + compose() loads neither jsonschema nor cattrs",
            "passed": False,
            "detail": f"probe failed: {completed.stderr.strip()[-500:]}",
        }
    loaded: list[str] = json.loads(completed.stdout)
    return {
        "name": "lazy_imports",
        "description": "import envoverlay + compose() loads neither jsonschema nor cattrs",
        "passed": not loaded,
        "detail": "loaded: " + (", ".join(loaded) if loaded else "neither"),
    }


# -- running and reporting ------------------------------------------------------------------


def run(mode: Mode, progress: Callable[[str], None] | None) -> dict[str, Any]:
    started = time.perf_counter()
    results: dict[str, Measurement] = {}
    skipped: list[dict[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="envoverlay-bench-") as folder:
        files = Files(Path(folder))
        for title, cases in groups(files):
            if progress is not None:
                progress(f"group: {title}")
            process = any(case.process for case in cases)
            rounds = mode.rounds
            if process:
                rounds = mode.startup_rounds if title == "start-up" else mode.cli_rounds
            elif title in LONG_GROUPS:  # calls of a tenth of a second and more
                rounds = mode.cli_rounds
            for measurement in measure_group(
                cases, rounds=rounds, round_seconds=mode.round_seconds, progress=progress
            ):
                results[measurement.name] = measurement
    if "cli.check_jsonschema" not in results:
        skipped.append({"name": "cli.check_jsonschema", "reason": "check-jsonschema not installed"})
    checks = [lazy_import_check()]
    return {
        "mode": mode.name,
        "python": platform_module.python_version(),
        "os": sys.platform,
        "measurements": [_measurement_json(m) for m in results.values()],
        "ratios": [_ratio_json(r, results) for r in RATIOS],
        "info": [_ratio_json(r, results) for r in INFO],
        "checks": checks,
        "skipped": skipped,
        "elapsed_s": round(time.perf_counter() - started, 2),
    }


def _measurement_json(m: Measurement) -> dict[str, Any]:
    return {
        "name": m.name,
        "description": m.description,
        "median_s": m.median,
        "rounds": m.rounds,
        "calls_per_round": m.calls_per_round,
        "spread": round(m.spread, 4),
        "samples_s": list(m.samples),
    }


def _ratio_json(ratio: Ratio, results: dict[str, Measurement]) -> dict[str, Any]:
    present = ratio.numerator in results and ratio.denominator in results
    out: dict[str, Any] = {
        "name": ratio.name,
        "description": ratio.description,
        "numerator": ratio.numerator,
        "denominator": ratio.denominator,
        "value": ratio.value(results) if present else None,
    }
    if ratio.target is not None:
        out["target"] = ratio.target
        out["comparison"] = ratio.comparison
        out["passed"] = ratio.passed(results) if present else None
    return out


def print_table(report: dict[str, Any], out: TextIO) -> None:
    mode = FULL if report["mode"] == "full" else QUICK
    out.write(
        f"envoverlay benchmarks ({report['mode']}): Python {report['python']} on {report['os']}; "
        f"in-process rows: median of {mode.rounds} rounds of ~{mode.round_seconds * 1000:.0f} ms; "
        f"process rows: median of {mode.cli_rounds} (cli) / {mode.startup_rounds} (start-up) "
        "runs; rounds alternate within each group\n\n"
    )
    rows: list[tuple[str, ...]] = [
        ("measurement", "median/call", "rounds", "calls/round", "spread", "what")
    ]
    for m in report["measurements"]:
        rows.append(
            (
                m["name"],
                format_seconds(m["median_s"]),
                str(m["rounds"]),
                str(m["calls_per_round"]),
                f"{m['spread'] * 100:.0f}%",
                m["description"],
            )
        )
    _write_rows(rows, out)

    out.write("\n")
    rows = [("ratio", "value", "target", "verdict", "what")]
    for r in report["ratios"]:
        value = "n/a" if r["value"] is None else f"{r['value']:.4g}"
        verdict = {True: "PASS", False: "FAIL", None: "SKIP"}[r["passed"]]
        rows.append(
            (r["name"], value, f"{r['comparison']} {r['target']:g}", verdict, r["description"])
        )
    for r in report["info"]:
        value = "n/a" if r["value"] is None else f"{r['value']:.4g}"
        rows.append((r["name"], value, "(none)", "info", r["description"]))
    _write_rows(rows, out)

    out.write("\n")
    for check in report["checks"]:
        verdict = "PASS" if check["passed"] else "FAIL"
        out.write(f"check {check['name']}: {verdict} ({check['detail']}): {check['description']}\n")
    for item in report["skipped"]:
        out.write(f"skipped {item['name']}: {item['reason']}\n")
    failed = [r["name"] for r in report["ratios"] if r["passed"] is False]
    failed += [c["name"] for c in report["checks"] if not c["passed"]]
    out.write(
        f"\n{len(report['ratios']) - len([r for r in report['ratios'] if r['passed'] is False])}"
        f"/{len(report['ratios'])} targets met"
        + (f"; missed: {', '.join(failed)}" if failed else "")
        + f"; {report['elapsed_s']:.1f} s. Benchmarks never fail the build: exit status is 0.\n"
    )


def _write_rows(rows: list[tuple[str, ...]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        out.write("  ".join([*cells, row[-1]]).rstrip() + "\n")


# -- profiling ------------------------------------------------------------------------------

PROCESS_PROFILES: dict[str, str] = {
    "cli.envoverlay_check": (
        "import runpy, sys\n"
        "sys.argv = ['envoverlay', 'check', {hook_output!r}]\n"
        "runpy.run_module('envoverlay', run_name='__main__', alter_sys=True)\n"
    ),
    "cli.check_jsonschema": (
        "import runpy, sys\n"
        "sys.argv = ['check-jsonschema', '--schemafile', {schema!r}, {hook_output!r}]\n"
        "runpy.run_module('check_jsonschema', run_name='__main__', alter_sys=True)\n"
    ),
    "python.import_envoverlay": "import envoverlay\n",
    "python.pass": "pass\n",
}

_PROFILE_WRAPPER = """
import cProfile, pstats, sys
code = compile({code!r}, "<profiled>", "exec")
profiler = cProfile.Profile()
profiler.enable()
try:
    exec(code, {{"__name__": "__profiled__"}})
except SystemExit:
    pass
profiler.disable()
with open({out!r}, "w") as stream:
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("cumulative").print_stats({top})
    stats.sort_stats("tottime").print_stats(15)
"""


def profile(name: str, out: TextIO, top: int = 25) -> int:
    """Run one case's workload under cProfile and print the top functions."""
    ratio = {r.name: r for r in (*RATIOS, *INFO)}.get(name)
    if ratio is not None:
        out.write(f"{name} = {ratio.numerator} / {ratio.denominator}: profiling the numerator\n")
        name = ratio.numerator
    with tempfile.TemporaryDirectory(prefix="envoverlay-bench-") as folder:
        files = Files(Path(folder))
        cases = {case.name: case for _, group in groups(files) for case in group}
        if name not in cases:
            if name != "list":
                out.write(f"unknown measurement {name!r}; one of:\n")
            for known in [*cases, *(r.name for r in (*RATIOS, *INFO))]:
                out.write(f"  {known}\n")
            return 0 if name == "list" else 2
        case = cases[name]
        out.write(f"profile of {name}: {case.description}\n")
        if case.process:
            _profile_process(name, files, Path(folder), out, top)
        else:
            call = case.setup()
            call()
            calls = calibrate(call, 1.0)
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(calls):
                call()
            profiler.disable()
            out.write(f"{calls} calls; times below are totals over all calls\n")
            buffer = io.StringIO()
            stats = pstats.Stats(profiler, stream=buffer)
            stats.sort_stats("cumulative").print_stats(top)
            stats.sort_stats("tottime").print_stats(15)
            out.write(buffer.getvalue())
    return 0


def _profile_process(name: str, files: Files, folder: Path, out: TextIO, top: int) -> None:
    code = PROCESS_PROFILES[name].format(
        hook_output=str(files.hook_output), schema=str(files.schema)
    )
    stats_file = folder / "profile.txt"
    wrapper = _PROFILE_WRAPPER.format(code=code, out=str(stats_file), top=top)
    env = files.env
    # Fill the bytecode cache first, as the measurement's warm-up does.
    subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=False)
    subprocess.run([sys.executable, "-c", wrapper], env=env, stdout=subprocess.DEVNULL, check=False)
    out.write("one process; cProfile of the code after interpreter start-up\n")
    out.write(stats_file.read_text(encoding="utf-8"))
    # Import times: the usual cost of a short-lived Python process.
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    imports = []
    for line in completed.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[0].strip().isdigit():
            imports.append((int(parts[1]), int(parts[0]), parts[2].rstrip()))
    out.write("\n-X importtime, top 25 modules by cumulative import time:\n")
    out.write(f"{'cumulative us':>14}  {'self us':>9}  module\n")
    for cumulative, self_time, module in sorted(imports, reverse=True)[:25]:
        out.write(f"{cumulative:>14}  {self_time:>9}  {module}\n")
    total_self = sum(self_time for _, self_time, _ in imports)
    out.write(f"all imports: {total_self} us of self time in {len(imports)} modules\n")


# -- command line ---------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="envoverlay's benchmark suite: ratios of alternating, median-of-rounds "
        "timings within one run. Always exits 0 when it ran, whatever the verdicts.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="few rounds, short rounds (well under 20 s)"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--profile",
        metavar="NAME",
        help="run cProfile on one measurement's (or ratio's numerator's) workload and print "
        "the top functions by cumulative time; 'list' lists the names",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="progress messages on stderr")
    parser.add_argument(
        "--compare",
        metavar="OTHER_TREE",
        help="measure the named rows (measurements or ratios) in another envoverlay source "
        "tree and in this one: alternating rounds (10th percentiles) and callgrind "
        "instruction counts (see benchmarks/compare.py)",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="rows for --compare")
    parser.add_argument(
        "--rounds", type=int, default=60, help="alternating rounds per row for --compare"
    )
    parser.add_argument(
        "--no-instructions", action="store_true", help="--compare without callgrind counts"
    )
    args = parser.parse_args(argv)

    if args.profile is not None:
        return profile(args.profile, sys.stdout)
    if args.compare is not None or args.names:
        if args.compare is None or not args.names:
            parser.error("--compare OTHER_TREE takes the names of the rows to compare")
        from .compare import main as compare_main

        return compare_main(
            args.compare, args.names, rounds=args.rounds, counts=not args.no_instructions
        )

    def progress(message: str) -> None:
        sys.stderr.write(f"[bench] {message}\n")
        sys.stderr.flush()

    report = run(QUICK if args.quick else FULL, progress if args.verbose else None)
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_table(report, sys.stdout)
    return 0
