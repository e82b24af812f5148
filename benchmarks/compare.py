"""Before and after: one benchmark row measured in this tree and in another checkout.

``python -m benchmarks --compare OTHER_TREE NAME...`` measures each named row (a
measurement, or a ratio: both its sides) in both source trees, two ways that hold up on a
loaded machine, where the suite's wall-clock medians do not:

- **instructions**: the row's workload under valgrind's callgrind, which counts the
  instructions the CPU executes, not seconds: the same count for the same code and inputs
  whatever else the machine is doing. An in-process row runs its call ``n`` and ``n + k``
  times in two processes and reports the difference over ``k`` (the set-up cancels out); a
  process row counts its whole process (interpreter start-up included).
- **time**: each tree in a worker process of its own (so both import their own
  envoverlay), rounds alternating between the two, and the 10th percentile of the per-call
  times over the rounds: the rounds the machine left alone.

Both trees' rows come from their own ``benchmarks`` package (the workloads are built from
the same seed), run by this interpreter with the tree first on ``PYTHONPATH``. Counts miss
what instructions do not show (cache misses of large maps); times miss nothing but move
with the load: read them together.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, TextIO

from .suite import INFO, RATIOS, ROOT

#: The child that builds one in-process row of the tree first on sys.path. ``count`` mode
#: calls it ``argv[3]`` times and exits (under callgrind); ``worker`` mode answers each line
#: on stdin with the per-call seconds of one round.
_CHILD = r"""
import gc, json, pathlib, sys, tempfile, time
tree, name, mode, number = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
sys.path.insert(0, tree)
from benchmarks.harness import calibrate
from benchmarks.suite import Files, groups
with tempfile.TemporaryDirectory() as folder:
    cases = {case.name: case for _, group in groups(Files(pathlib.Path(folder))) for case in group}
    call = cases[name].setup()
    call()
    call()
    if mode == "count":
        for _ in range(int(number)):
            call()
        sys.exit(0)
    calls = calibrate(call, number)
    print(json.dumps({"calls": calls}), flush=True)
    for line in sys.stdin:
        gc.collect()
        start = time.perf_counter()
        for _ in range(calls):
            call()
        print(json.dumps((time.perf_counter() - start) / calls), flush=True)
"""

#: Process rows: the command each runs (the same for both trees; PYTHONPATH picks the tree).
_PROCESSES: dict[str, list[str]] = {
    "cli.envoverlay_check": ["-m", "envoverlay", "check", "{hook_output}"],
    "cli.check_jsonschema": ["-m", "check_jsonschema", "--schemafile", "{schema}", "{hook_output}"],
    "python.import_envoverlay": ["-c", "import envoverlay"],
    "python.import_compose": ["-c", "from envoverlay import compose"],
    "python.pass": ["-c", "pass"],
}


def _env(tree: Path, pycache: Path) -> dict[str, str]:
    """This process's environment with ``tree`` first on PYTHONPATH, a bytecode cache of its
    own, and a fixed hash seed (string hashes decide dict and set layouts: with a random seed
    the instruction count of one workload differs from run to run)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tree), env.get("PYTHONPATH")]))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    env["PYTHONHASHSEED"] = "0"
    return env


def _instructions(argv: Sequence[str], env: dict[str, str]) -> int:
    """Instructions executed by one process under callgrind (children not followed)."""
    completed = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    found = re.search(r"Collected\s*:\s*([\d,]+)", completed.stderr)
    if completed.returncode != 0 or found is None:
        raise RuntimeError(f"callgrind run failed: {completed.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


class Side:
    """One source tree, with the files its process rows read."""

    def __init__(self, tree: Path, folder: Path, files: dict[str, str]) -> None:
        self.tree = tree
        self.env = _env(tree, folder / "pycache")
        self.files = files

    def command(self, name: str) -> list[str]:
        return [sys.executable, *(part.format(**self.files) for part in _PROCESSES[name])]

    def child(self, name: str, mode: str, number: float) -> list[str]:
        return [sys.executable, "-c", _CHILD, str(self.tree), name, mode, repr(number)]

    def has(self, name: str) -> bool:
        """Whether this tree's suite has the row."""
        if name in _PROCESSES:
            return True
        code = (
            "import pathlib, sys, tempfile\n"
            f"sys.path.insert(0, {str(self.tree)!r})\n"
            "from benchmarks.suite import Files, groups\n"
            "with tempfile.TemporaryDirectory() as folder:\n"
            "    names = [c.name for _, g in groups(Files(pathlib.Path(folder))) for c in g]\n"
            f"sys.exit(0 if {name!r} in names else 1)\n"
        )
        found = subprocess.run([sys.executable, "-c", code], env=self.env, check=False)
        return found.returncode == 0

    def count(self, name: str, calls: int) -> float:
        """Instructions per call of one row."""
        if name in _PROCESSES:
            subprocess.run(self.command(name), env=self.env, capture_output=True, check=False)
            return float(_instructions(self.command(name), self.env))
        few = _instructions(self.child(name, "count", 0), self.env)
        many = _instructions(self.child(name, "count", calls), self.env)
        return (many - few) / calls


def _calls_for(side: Side, name: str, seconds: float) -> int:
    """Calls of one row that last about ``seconds`` natively (callgrind runs them ~50x
    slower)."""
    if name in _PROCESSES:
        return 1
    worker = subprocess.Popen(
        side.child(name, "worker", seconds),
        env=side.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    assert worker.stdin is not None
    calls = int(json.loads(worker.stdout.readline())["calls"])
    worker.stdin.close()
    worker.wait()
    return calls


def _time(sides: Sequence[Side], name: str, rounds: int) -> list[float]:
    """10th percentiles of per-call seconds, one per side, over alternating rounds."""
    samples: list[list[float]] = [[] for _ in sides]
    if name in _PROCESSES:
        for side in sides:  # warm the bytecode caches
            subprocess.run(side.command(name), env=side.env, capture_output=True, check=False)
        for round_ in range(rounds):
            for index in _order(len(sides), round_):
                start = time.perf_counter()
                subprocess.run(sides[index].command(name), env=sides[index].env,
                               capture_output=True, check=False)  # fmt: skip
                samples[index].append(time.perf_counter() - start)
        return [_p10(values) for values in samples]
    workers = [
        subprocess.Popen(side.child(name, "worker", 0.02), env=side.env,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for side in sides
    ]  # fmt: skip
    pipes: list[tuple[IO[str], IO[str]]] = []
    for worker in workers:
        assert worker.stdin is not None
        assert worker.stdout is not None
        worker.stdout.readline()
        pipes.append((worker.stdin, worker.stdout))
    for round_ in range(rounds):
        for index in _order(len(sides), round_):
            stdin, stdout = pipes[index]
            stdin.write("\n")
            stdin.flush()
            samples[index].append(float(json.loads(stdout.readline())))
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.close()
        worker.wait()
    return [_p10(values) for values in samples]


def _order(count: int, round_: int) -> list[int]:
    indexes = list(range(count))
    return indexes[round_ % count :] + indexes[: round_ % count]


def _p10(values: Sequence[float]) -> float:
    return statistics.quantiles(values, n=10)[0] if len(values) > 1 else values[0]


def _rows(names: Sequence[str]) -> list[str]:
    """Measurement names: ratios become their two sides."""
    ratios = {r.name: r for r in (*RATIOS, *INFO)}
    rows: list[str] = []
    for name in names:
        ratio = ratios.get(name)
        for row in (ratio.numerator, ratio.denominator) if ratio else (name,):
            if row not in rows:
                rows.append(row)
    return rows


def compare(
    other: Path, names: Sequence[str], out: TextIO, *, rounds: int = 60, counts: bool = True
) -> dict[str, Any]:
    """Measure ``names`` in the other tree and in this one; print a table, return it."""
    if counts and shutil.which("valgrind") is None:
        out.write("valgrind is not installed: instruction counts skipped\n")
        counts = False
    report: dict[str, Any] = {"rows": [], "ratios": []}
    with tempfile.TemporaryDirectory(prefix="envoverlay-compare-") as folder_name:
        folder = Path(folder_name)
        from envoverlay.schemas import bundled_schema

        from .workloads import hook_output_text

        hook_output = folder / "hook-output.json"
        hook_output.write_text(hook_output_text(), encoding="utf-8")
        schema = folder / "session-start.output.bundled.schema.json"
        schema.write_text(json.dumps(bundled_schema(), indent=2), encoding="utf-8")
        files = {"hook_output": str(hook_output), "schema": str(schema)}
        sides = [Side(other.resolve(), folder, files), Side(ROOT, folder, files)]
        out.write(f"{'row':<38}{'time other':>12}{'time this':>12}{'change':>8}"
                  f"{'instr other':>14}{'instr this':>14}{'change':>8}\n")  # fmt: skip
        figures: dict[str, dict[str, float]] = {}
        for row in _rows(names):
            if not sides[0].has(row):
                out.write(f"{row:<38}(no such row in the other tree)\n")
                continue
            before, after = _time(sides, row, rounds if row not in _PROCESSES else rounds // 2)
            line = (
                f"{row:<38}{before * 1e6:>10.1f}us{after * 1e6:>10.1f}us{after / before - 1:>+8.1%}"
            )
            entry = {"time_other_s": before, "time_this_s": after}
            if counts:
                calls = _calls_for(sides[1], row, 0.004)
                instr = [side.count(row, calls) for side in sides]
                entry |= {"instructions_other": instr[0], "instructions_this": instr[1]}
                line += f"{instr[0]:>14,.0f}{instr[1]:>14,.0f}{instr[1] / instr[0] - 1:>+8.1%}"
            figures[row] = entry
            report["rows"].append({"name": row, **entry})
            out.write(line + "\n")
            out.flush()
        ratios = {r.name: r for r in (*RATIOS, *INFO)}
        for name in names:
            ratio = ratios.get(name)
            if ratio is None or not {ratio.numerator, ratio.denominator} <= figures.keys():
                continue
            top, bottom = figures[ratio.numerator], figures[ratio.denominator]
            ratio_entry: dict[str, Any] = {"name": name}
            for key in ("time_other_s", "time_this_s", "instructions_other", "instructions_this"):
                if key in top:
                    ratio_entry[key] = top[key] / bottom[key]
            report["ratios"].append(ratio_entry)
            out.write(
                f"ratio {name}: time {ratio_entry['time_other_s']:.4g} -> "
                f"{ratio_entry['time_this_s']:.4g}"
                + (
                    f"; instructions {ratio_entry['instructions_other']:.4g} -> "
                    f"{ratio_entry['instructions_this']:.4g}"
                    if "instructions_this" in ratio_entry
                    else ""
                )
                + "\n"
            )
    return report


def main(other: str, names: Sequence[str], *, rounds: int, counts: bool) -> int:
    tree = Path(other)
    if not (tree / "benchmarks" / "suite.py").is_file() or not (tree / "envoverlay").is_dir():
        sys.stderr.write(f"--compare: {other} is not an envoverlay source tree with benchmarks\n")
        return 2
    compare(tree, names, sys.stdout, rounds=rounds, counts=counts)
    return 0
