"""``python -m tests.fuzz``: run the fuzzing campaign (or, with ``--worker``, one target in
this process; the campaign starts those itself)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .engine import (
    CI_RUNS,
    TARGET_NAMES,
    minimize,
    run_campaign,
    save_failures,
    summary,
    worker,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fuzz",
        description="Fuzz envoverlay's entry points for untrusted input. Without --runs or "
        f"--seconds: the bounded CI run ({sum(CI_RUNS.values()):,} inputs in all).",
    )
    parser.add_argument(
        "--targets",
        default=",".join(TARGET_NAMES),
        help=f"comma-separated, of {', '.join(TARGET_NAMES)}",
    )
    parser.add_argument("--runs", type=int, help="inputs per target (default: the CI budget)")
    parser.add_argument("--seconds", type=float, help="run each target this long instead")
    parser.add_argument("--jobs", type=int, default=2, help="targets fuzzed at once (default 2)")
    parser.add_argument("--engine", choices=("auto", "atheris", "builtin"), default="auto")
    parser.add_argument("--seed", type=int, help="base random seed (default: random)")
    parser.add_argument(
        "--grow",
        action="store_true",
        help="write new interesting inputs into corpus/<target>/ (review before committing)",
    )
    parser.add_argument(
        "--keep-failures",
        action="store_true",
        help="copy failing inputs into corpus/<target>/ as regression files",
    )
    parser.add_argument(
        "--minimize",
        action="store_true",
        help="shrink corpus/<target>/ to the inputs that add coverage",
    )
    parser.add_argument("--worker", metavar="TARGET", help=argparse.SUPPRESS)
    parser.add_argument("--artifacts", type=Path, help="where failing inputs are written")
    args = parser.parse_args(argv)

    if args.worker:
        artifacts = args.artifacts or Path(".")
        return worker(
            args.worker,
            runs=args.runs,
            seconds=args.seconds,
            seed=args.seed or 1,
            engine=args.engine,
            artifacts=artifacts,
            grow=args.grow,
        )
    names = [name.strip() for name in args.targets.split(",") if name.strip()]
    unknown = [name for name in names if name not in TARGET_NAMES]
    if unknown:
        parser.error(f"unknown target(s): {', '.join(unknown)}")
    if args.minimize:
        for name, (before, after) in minimize(names).items():
            print(f"{name}: {before} -> {after} files")
        return 0
    if args.seconds is not None:
        runs = None
    elif args.runs is not None:
        runs = dict.fromkeys(names, args.runs)
    else:
        runs = CI_RUNS
    reports = run_campaign(
        names,
        runs=runs,
        seconds=args.seconds,
        jobs=args.jobs,
        engine=args.engine,
        seed=args.seed,
        grow=args.grow,
        artifacts=args.artifacts,
    )
    print(summary(reports))
    failed = [r for r in reports if not r.ok]
    for report in failed:
        print(f"\n--- {report.target}: exit {report.returncode}; log tail:\n{report.log_tail}")
        for path in report.failures:
            print(f"failing input: {path}")
    if args.keep_failures:
        for path in save_failures(reports):
            print(f"kept as a regression file: {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
