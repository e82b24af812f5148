"""Shared test settings.

Hypothesis profiles: ``dev`` (the default everywhere, CI included: 50 examples per property,
so the README's ``python -m pytest`` stays under 90 s on two cores), ``ci`` (300: `.ci/run`
runs every property again with it, ``HYPOTHESIS_PROFILE=ci python -m pytest -m
"hypothesis and not slow"``, and the slow campaigns), ``fuzz`` for long runs on demand:
``HYPOTHESIS_PROFILE=fuzz python -m pytest tests/unit/test_hooks.py``.
No profile fails a test for being slow: a shared or loaded machine is not a bug.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "fuzz", max_examples=20000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or "dev")
