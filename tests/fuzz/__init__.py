"""Fuzzing harness for envoverlay's untrusted-input entry points (see README.md here).

``python -m tests.fuzz`` (from the repository root) runs the bounded campaign;
``python -m tests.fuzz --seconds 600`` a long one; ``--help`` lists the options.
"""
