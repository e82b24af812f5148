"""Shared test settings.

Hypothesis profiles: ``dev`` (default), ``ci`` (when CI is set), ``fuzz`` for long runs on
demand: ``HYPOTHESIS_PROFILE=fuzz python -m pytest tests/test_hook_fuzz.py``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "fuzz", max_examples=20000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)
