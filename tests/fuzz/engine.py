"""Fuzzing engines and the campaign runner.

Two engines run a target (see ``targets.py``) over many inputs in one process:

* ``atheris`` — coverage-guided (libFuzzer) with envoverlay's modules instrumented; used
  when the ``atheris`` package is installed;
* ``builtin`` — a plain mutational fuzzer (byte flips, inserts, deletes, splices and
  dictionary tokens over the corpus), so the bounded run still executes when atheris is not
  installed (it finds less: no coverage feedback).

:func:`run_campaign` runs several targets, each in its own child process (libFuzzer ends
its process when done), a few at a time, and reports per target the inputs executed, the
time taken and any failing input (saved as a file; the child's log says why it failed).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent
TESTS_DIR = PACKAGE_DIR.parent
REPO_ROOT = TESTS_DIR.parent

#: The targets, in campaign order (``targets.TARGETS`` has their functions; this module
#: does not import envoverlay, so that atheris can instrument it first).
TARGET_NAMES: tuple[str, ...] = ("hook", "overlay", "loads", "check")

#: Inputs per target in the bounded (CI) run: over 100,000 in all. The targets differ in
#: cost (``check`` builds the CLI parser and writes a file per input).
CI_RUNS: dict[str, int] = {"hook": 45_000, "overlay": 30_000, "loads": 20_000, "check": 10_000}

#: The longest input the engines generate (libFuzzer's -max_len). Larger inputs (the
#: 16 MiB output limit, 50 MB outputs) are in tests/bad_inputs, not here.
MAX_LEN = 8192

#: The file (in a target's artifacts directory) where hits of known bugs are recorded.
KNOWN_BUG_FILE = "known-bugs.txt"

#: Tokens the mutators insert: the vocabulary of the formats under test.
DICTIONARY: tuple[bytes, ...] = (
    b"{", b"}", b"[", b"]", b'"', b":", b",", b"null", b"true", b"false", b"NaN", b"1e999",
    b"\\u0000", b"\\ud800", b"\\udcff", b"\\\\", b"\\/", b"\xff", b"\xc0\xaf", b"\xed\xa0\x80",
    b"\xef\xbb\xbf", b'"hookSpecificOutput"', b'"hookEventName"', b'"SessionStart"',
    b'"additionalContext"', b'"env"', b'"set"', b'"default"', b'"unset"', b'"prepend"',
    b'"append"', b'"separator"', b'"secret"', b'"continue"', b'"systemMessage"',
    b'"suppressOutput"', b'"stopReason"', b'"PATH"', b'"Path"', b'"LD_PRELOAD"', b'"A=B"',
    b'"=C:"', b'""', b'"format"', b'"envoverlay.thread"', b'"version"', b'"thread_id"',
    b'"session_id"', b'"parent_thread_id"', b'"runtime"', b'"layers"', b'"kind"', b'"id"',
    b'"lifetime"', b'"inherit"', b'"ops"', b'"name"', b'"op"', b'"value"', b'"entries"',
    b'"redacted"', b'"hook"', b'"config"', b'"provider"', b'"thread"', b'"session"',
)  # fmt: skip


# -- the engines (run inside a worker process) ------------------------------------------------


def have_atheris() -> bool:
    try:
        import atheris  # noqa: F401
    except ImportError:
        return False
    return True


def _mutate(data: bytes, rng: random.Random, pool: Sequence[bytes]) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 3, 5))):
        choice = rng.randrange(8)
        pos = rng.randrange(len(buf) + 1)
        if choice == 0 and buf:  # flip a bit
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif choice == 1:  # insert random bytes
            buf[pos:pos] = rng.randbytes(rng.randrange(1, 5))
        elif choice == 2 and buf:  # delete a span
            end = min(len(buf), pos + rng.randrange(1, 16))
            del buf[pos:end]
        elif choice == 3:  # insert a dictionary token
            buf[pos:pos] = rng.choice(DICTIONARY)
        elif choice == 4 and buf:  # duplicate a span
            start = rng.randrange(len(buf))
            chunk = buf[start : start + rng.randrange(1, 64)]
            buf[pos:pos] = chunk * rng.randrange(1, 4)
        elif choice == 5 and pool:  # splice with another input
            other = rng.choice(pool)
            cut = rng.randrange(len(other) + 1)
            buf = buf[:pos] + bytearray(other[cut:])
        elif choice == 6 and buf:  # set an interesting byte
            buf[rng.randrange(len(buf))] = rng.choice((0, 0x7F, 0x80, 0xFF, 0x22, 0x5C, 0x7B))
        else:  # replace a span with a token
            end = min(len(buf), pos + rng.randrange(0, 8))
            buf[pos:end] = rng.choice(DICTIONARY)
    return bytes(buf[:MAX_LEN])


def builtin_fuzz(
    target: Callable[[bytes], None],
    seeds: Sequence[bytes],
    *,
    runs: int | None,
    seconds: float | None,
    seed: int,
    artifacts: Path,
    grow: Path | None,
) -> int:
    """Run ``target`` until ``runs`` inputs or ``seconds`` pass; 0 when nothing failed, 1
    (after saving the input under ``artifacts``) on the first failure."""
    rng = random.Random(seed)
    pool = [s[:MAX_LEN] for s in seeds] or [b""]
    start = time.monotonic()
    count = 0
    while (runs is None or count < runs) and (
        seconds is None or time.monotonic() - start < seconds
    ):
        data = pool[count] if count < len(seeds) else _mutate(rng.choice(pool), rng, pool)
        try:
            target(data)
        except Exception:
            path = artifacts / f"crash-{count}"
            path.write_bytes(data)
            sys.stderr.write(f"=== failing input saved to {path}\n{traceback.format_exc()}")
            _report(count + 1, time.monotonic() - start, "builtin")
            return 1
        count += 1
        if count >= len(seeds) and rng.random() < 0.02 and len(pool) < 5000:
            pool.append(data)  # keep some mutants to explore from
            if grow is not None:
                (grow / f"builtin-{seed}-{count}").write_bytes(data)
    _report(count, time.monotonic() - start, "builtin")
    return 0


def _report(runs: int, seconds: float, engine: str) -> None:
    sys.stderr.write(f"Done {runs} runs in {seconds:.1f} second(s) [{engine}]\n")


def atheris_fuzz(
    target_name: str,
    seed_dir: Path,
    *,
    runs: int | None,
    seconds: float | None,
    seed: int,
    artifacts: Path,
    grow: Path | None,
) -> int:  # pragma: no cover - libFuzzer ends the process
    """Run one target under atheris (libFuzzer); does not return."""
    import atheris

    with atheris.instrument_imports(include=["envoverlay"]):
        import envoverlay.cli
        import envoverlay.schemas
        import envoverlay.serialize
        import envoverlay.store  # noqa: F401
    from . import targets

    targets.KNOWN_BUG_LOG = artifacts / KNOWN_BUG_FILE
    targets.use_scratch_directory(artifacts)  # libFuzzer exits without cleaning up
    target = targets.TARGETS[target_name]

    def one_input(data: bytes) -> None:
        target(data)

    dictionary = artifacts / "tokens.dict"
    dictionary.write_text(
        "".join(f'kw{i}="{_dict_escape(token)}"\n' for i, token in enumerate(DICTIONARY)),
        encoding="ascii",
    )
    argv = [
        sys.argv[0],
        f"-seed={seed}",
        f"-max_len={MAX_LEN}",
        f"-artifact_prefix={artifacts}{os.sep}",
        f"-dict={dictionary}",
        "-rss_limit_mb=4096",
        "-timeout=60",
        "-print_final_stats=1",
    ]
    if runs is not None:
        argv.append(f"-runs={runs}")
    if seconds is not None:
        argv.append(f"-max_total_time={max(1, int(seconds))}")
    work = grow if grow is not None else artifacts / "new-inputs"
    work.mkdir(exist_ok=True)
    argv += [str(work), str(seed_dir)]
    atheris.Setup(argv, one_input)
    atheris.Fuzz()
    return 0


def _dict_escape(token: bytes) -> str:
    return "".join(
        chr(b) if 0x20 <= b < 0x7F and b not in (0x22, 0x5C) else f"\\x{b:02X}" for b in token
    )


def worker(
    target_name: str,
    *,
    runs: int | None,
    seconds: float | None,
    seed: int,
    engine: str,
    artifacts: Path,
    grow: bool,
) -> int:
    """Fuzz one target in this process (see :func:`run_campaign`)."""
    seed_dir = PACKAGE_DIR / "corpus" / target_name
    grow_dir = seed_dir if grow else None
    if engine == "auto":
        engine = "atheris" if have_atheris() else "builtin"
    if engine == "atheris":
        return atheris_fuzz(
            target_name,
            seed_dir,
            runs=runs,
            seconds=seconds,
            seed=seed,
            artifacts=artifacts,
            grow=grow_dir,
        )
    from . import targets

    targets.KNOWN_BUG_LOG = artifacts / KNOWN_BUG_FILE
    try:
        seeds = [p.read_bytes() for p in targets.corpus_files(target_name)]
        return builtin_fuzz(
            targets.TARGETS[target_name],
            seeds,
            runs=runs,
            seconds=seconds,
            seed=seed,
            artifacts=artifacts,
            grow=grow_dir,
        )
    finally:
        targets.cleanup()


# -- the campaign (runs in the parent) --------------------------------------------------------


@dataclass
class TargetReport:
    """What fuzzing one target did."""

    target: str
    engine: str
    runs: int
    seconds: float
    returncode: int
    failures: list[Path] = field(default_factory=list)
    log_tail: str = ""
    #: Hits of known bugs (``targets.KNOWN_BUGS``), by name: reported, not failures.
    known_bugs: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.failures

    def to_json(self) -> dict[str, object]:
        return {
            "target": self.target,
            "engine": self.engine,
            "runs": self.runs,
            "seconds": round(self.seconds, 1),
            "ok": self.ok,
            "failures": [str(p) for p in self.failures],
            "known_bugs": self.known_bugs,
        }


_DONE = re.compile(r"Done (\d+) runs in ([\d.]+) second")
_PROGRESS = re.compile(r"^#(\d+)\s", re.MULTILINE)


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    parts = [str(TESTS_DIR), str(REPO_ROOT)]
    if env.get("PYTHONPATH"):
        parts.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(parts)
    return env


def run_campaign(
    targets: Sequence[str],
    *,
    runs: dict[str, int] | None = None,
    seconds: float | None = None,
    jobs: int = 2,
    engine: str = "auto",
    seed: int | None = None,
    grow: bool = False,
    artifacts: Path | None = None,
) -> list[TargetReport]:
    """Fuzz each of ``targets`` in a child process, ``jobs`` at a time: ``runs[target]``
    inputs each, or for ``seconds`` each when ``runs`` is None. Failing inputs are saved
    under ``artifacts`` (a new temp directory by default)."""
    if engine == "auto":
        engine = "atheris" if have_atheris() else "builtin"
    base_seed = seed if seed is not None else random.randrange(1, 1 << 31)
    out_dir = artifacts or Path(tempfile.mkdtemp(prefix="envoverlay-fuzz-artifacts-"))
    pending = list(targets)
    running: list[tuple[str, subprocess.Popen[bytes], Path, Path, float]] = []
    reports: list[TargetReport] = []
    while pending or running:
        while pending and len(running) < jobs:
            name = pending.pop(0)
            target_dir = out_dir / name
            target_dir.mkdir(parents=True, exist_ok=True)
            log = target_dir / "log.txt"
            command = [
                sys.executable,
                "-m",
                PACKAGE_DIR.name,
                "--worker",
                name,
                "--engine",
                engine,
                "--seed",
                str(base_seed + len(reports) + len(running)),
                "--artifacts",
                str(target_dir),
            ]
            if runs is not None:
                command += ["--runs", str(runs[name])]
            if seconds is not None:
                command += ["--seconds", str(seconds)]
            if grow:
                command.append("--grow")
            with open(log, "wb") as handle:
                process = subprocess.Popen(
                    command,
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=_child_env(),
                    cwd=str(TESTS_DIR),
                )
            running.append((name, process, target_dir, log, time.monotonic()))
        time.sleep(0.05)
        for item in list(running):
            name, process, target_dir, log, started = item
            if process.poll() is None:
                continue
            running.remove(item)
            reports.append(_collect(name, engine, process.returncode, target_dir, log, started))
    order = {name: i for i, name in enumerate(targets)}
    return sorted(reports, key=lambda r: order[r.target])


def _collect(
    name: str, engine: str, code: int, target_dir: Path, log: Path, started: float
) -> TargetReport:
    text = log.read_text("utf-8", "replace")
    elapsed = time.monotonic() - started
    done = _DONE.search(text)
    if done:
        count = int(done.group(1))
    else:
        progress = _PROGRESS.findall(text)
        count = int(progress[-1]) if progress else 0
    failures = sorted(
        p for p in target_dir.iterdir() if p.name.startswith(("crash-", "timeout-", "oom-"))
    )
    known: dict[str, int] = {}
    known_log = target_dir / KNOWN_BUG_FILE
    if known_log.exists():
        for line in known_log.read_text("utf-8").split():
            known[line] = known.get(line, 0) + 1
    return TargetReport(name, engine, count, elapsed, code, failures, text[-4000:], known)


def summary(reports: Sequence[TargetReport]) -> str:
    lines = [f"{'target':<10}{'engine':<10}{'inputs':>10}{'seconds':>10}  result"]
    for r in reports:
        result = "ok" if r.ok else f"FAILED ({len(r.failures)} input(s), exit {r.returncode})"
        if r.known_bugs:
            result += "; known bugs hit: " + ", ".join(f"{k} x{v}" for k, v in r.known_bugs.items())
        lines.append(f"{r.target:<10}{r.engine:<10}{r.runs:>10}{r.seconds:>10.1f}  {result}")
    total = sum(r.runs for r in reports)
    lines.append(f"{'total':<20}{total:>10}")
    return "\n".join(lines)


def save_failures(reports: Sequence[TargetReport]) -> list[Path]:
    """Copy failing inputs into ``corpus/<target>/`` (named ``crash-…``) so that
    ``tests/test_fuzz.py`` replays them from then on."""
    from . import targets

    saved = []
    for report in reports:
        for failure in report.failures:
            destination = targets.CORPUS / report.target / failure.name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(failure, destination)
            saved.append(destination)
    return saved


def reports_json(reports: Sequence[TargetReport]) -> str:
    return json.dumps([r.to_json() for r in reports], indent=2)


def minimize(targets: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Shrink ``corpus/<target>/`` to the inputs that reach code no smaller input reaches.

    Each input runs under a line tracer limited to envoverlay's modules; inputs are taken
    smallest first and kept when they add a (line, next line) arc. Files named ``seed-*``,
    ``bug-*`` or ``regression-*`` are always kept. Works without atheris. Returns, per
    target, the file counts before and after."""
    from . import targets as target_module

    package = str(REPO_ROOT / "envoverlay")
    counts: dict[str, tuple[int, int]] = {}
    for name in targets:
        target = target_module.TARGETS[name]
        files = target_module.corpus_files(name)
        pinned = [p for p in files if p.name.startswith(("seed-", "bug-", "regression-"))]
        others = sorted((p for p in files if p not in pinned), key=lambda p: p.stat().st_size)
        seen: set[tuple[str, int, int]] = set()
        contents: set[bytes] = set()
        for path in [*pinned, *others]:
            data = path.read_bytes()
            if data in contents and path not in pinned:
                path.unlink()
                continue
            contents.add(data)
            arcs = _arcs(target, data, package)
            if path in pinned or not arcs <= seen:
                seen |= arcs
            else:
                path.unlink()
        target_module.cleanup()
        counts[name] = (len(files), len(target_module.corpus_files(name)))
    return counts


def _arcs(target: Callable[[bytes], None], data: bytes, package: str) -> set[tuple[str, int, int]]:
    arcs: set[tuple[str, int, int]] = set()

    def local(frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            code = frame.f_code.co_filename
            arcs.add((code, local.last.get(id(frame), 0), frame.f_lineno))  # type: ignore[attr-defined]
            local.last[id(frame)] = frame.f_lineno  # type: ignore[attr-defined]
        return local

    local.last = {}  # type: ignore[attr-defined]

    def global_trace(frame: Any, event: str, arg: Any) -> Any:
        if event == "call" and frame.f_code.co_filename.startswith(package):
            return local
        return None

    sys.settrace(global_trace)
    try:
        target(data)
    except Exception:  # a failing input is kept only if it adds arcs, like any other
        pass
    finally:
        sys.settrace(None)
    return arcs
