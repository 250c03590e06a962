"""Hypothesis settings for the property tests."""

from __future__ import annotations

from hypothesis import HealthCheck, settings


def bounded(fast: int, slow: int) -> tuple[settings, settings]:
    """Settings for quick properties (``fast`` examples) and costly ones (``slow``).

    Bounded, deterministic-enough runs: no deadline (zoneinfo warms up lazily) and no
    database of past failures written into the repository.
    """
    quick = settings(
        max_examples=fast,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    return quick, settings(quick, max_examples=slow)
