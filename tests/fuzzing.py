"""The one setting of every property-based fuzz test (tests/test_fuzz_*.py).

CI's bounded run is derandomized: the same inputs every run, so a red CI points at a change,
not at luck. A longer run, ``PROVISION_FUZZ_EXAMPLES=20000 python -m pytest -q tests/test_fuzz_kql.py``,
explores new inputs each time.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings


def fuzz_settings(default_examples: int) -> settings:
    """``default_examples`` per property in CI; ``PROVISION_FUZZ_EXAMPLES`` for a longer, random run."""
    chosen = os.environ.get("PROVISION_FUZZ_EXAMPLES")
    return settings(max_examples=int(chosen or default_examples), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow], derandomize=chosen is None)
