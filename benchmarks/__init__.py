"""envoverlay's benchmark suite: ``python -m benchmarks`` (see README.md).

Benchmarks measure; they never assert. Every target is a ratio of two timings taken in the
same run, in alternating rounds, so that the machine's speed and noise cancel out.
"""
