"""The measuring instrument: calibrated, alternating, median-of-rounds timing.

A *group* is a list of cases measured against each other. After a warm-up, each round runs
every case of the group once (a fixed number of calls, calibrated per case so that a round
lasts about ``round_seconds``), rotating the order every round, so that whatever the
machine does meanwhile hits all of them alike. A case's result is the median over rounds of
the per-call time. Only ratios between cases of one run mean anything; absolute times
depend on the machine and on what else it does.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

Call = Callable[[], object]
Comparison = Literal["<=", ">="]


@dataclass(frozen=True)
class Case:
    """One thing to time. ``setup`` builds the workload and returns the zero-argument
    callable that is timed (setup itself is never timed). ``process`` cases spawn a process
    per call: they run one call per round and are never calibrated."""

    name: str
    description: str
    setup: Callable[[], Call]
    process: bool = False


@dataclass(frozen=True)
class Measurement:
    name: str
    description: str
    median: float  # seconds per call
    rounds: int
    calls_per_round: int
    samples: tuple[float, ...] = field(repr=False)

    @property
    def spread(self) -> float:
        """(max - min) / median of the per-round samples: how noisy this row was."""
        return (max(self.samples) - min(self.samples)) / self.median if self.median else 0.0


@dataclass(frozen=True)
class Ratio:
    """``numerator / denominator`` of two measurements of one run, with its target."""

    name: str
    description: str
    numerator: str
    denominator: str
    target: float | None = None
    comparison: Comparison = "<="

    def value(self, results: dict[str, Measurement]) -> float:
        return results[self.numerator].median / results[self.denominator].median

    def passed(self, results: dict[str, Measurement]) -> bool | None:
        if self.target is None:
            return None
        value = self.value(results)
        return value <= self.target if self.comparison == "<=" else value >= self.target


def _time_calls(call: Call, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return time.perf_counter() - start


def calibrate(call: Call, round_seconds: float, max_calls: int = 1_000_000) -> int:
    """How many calls make a round of about ``round_seconds`` (at least one). Doubles as a
    warm-up: caches, lazy imports and the allocator settle while it runs."""
    calls = 1
    while True:
        elapsed = _time_calls(call, calls)
        if elapsed >= round_seconds / 4 or calls >= max_calls:
            break
        calls = calls * 10 if elapsed < round_seconds / 100 else calls * 2
    if elapsed <= 0:
        return min(calls, max_calls)
    return max(1, min(max_calls, math.ceil(calls * round_seconds / elapsed)))


def measure_group(
    cases: Sequence[Case],
    *,
    rounds: int,
    round_seconds: float,
    progress: Callable[[str], None] | None = None,
) -> list[Measurement]:
    """Measure ``cases`` against each other in alternating rounds (see the module docs)."""
    calls: list[Call] = []
    counts: list[int] = []
    for case in cases:
        if progress is not None:
            progress(f"setting up {case.name}")
        call = case.setup()
        # Warm-up: the first call pays for imports, caches and .pyc files. A call that takes
        # a whole round on its own is one call a round: no calibration needed.
        warm_up = _time_calls(call, 1)
        long = case.process or warm_up >= round_seconds
        counts.append(1 if long else calibrate(call, round_seconds))
        calls.append(call)
    # One untimed round so every case starts warm, in the same state.
    for call, count in zip(calls, counts, strict=True):
        _time_calls(call, count)

    samples: list[list[float]] = [[] for _ in cases]
    for round_number in range(rounds):
        if progress is not None:
            progress(f"round {round_number + 1}/{rounds}: {', '.join(c.name for c in cases)}")
        shift = round_number % len(cases)
        order = list(range(shift, len(cases))) + list(range(shift))
        for index in order:
            gc.collect()
            elapsed = _time_calls(calls[index], counts[index])
            samples[index].append(elapsed / counts[index])

    return [
        Measurement(
            case.name,
            case.description,
            statistics.median(case_samples),
            rounds,
            count,
            tuple(case_samples),
        )
        for case, count, case_samples in zip(cases, counts, samples, strict=True)
    ]


def format_seconds(seconds: float) -> str:
    """A duration with a unit that keeps three significant digits readable."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"
