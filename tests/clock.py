"""The clock the suite runs on, and the guard against tests that hide a date.

``make test`` runs the suite at the machine's date, then again with the application's
clock a year ahead (``CLAUSEFLOW_TEST_CLOCK_AHEAD_DAYS=365``): this process's clock
through time-machine, and the time-skipping server's by sleeping it forward. A test
whose literal date is in the future today, and would be in the past a year from now,
fails in the second run today rather than on the day CI first runs after that date.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest

AHEAD_VARIABLE = "CLAUSEFLOW_TEST_CLOCK_AHEAD_DAYS"


def _clock_ahead() -> dt.timedelta | None:
    raw = os.environ.get(AHEAD_VARIABLE, "").strip()
    if not raw:
        return None
    try:
        days = int(raw)
    except ValueError:
        message = f"{AHEAD_VARIABLE} must be a whole number of days, not {raw!r}"
        raise pytest.UsageError(message) from None
    return dt.timedelta(days=days) if days else None


#: How far the application's clock runs ahead of the machine's in this run (None: not).
CLOCK_AHEAD = _clock_ahead()


def runs_on_the_real_clock(request: pytest.FixtureRequest) -> bool:
    """Whether the test talks to a real Temporal dev server, whose clock is the machine's."""
    return request.node.get_closest_marker("devserver") is not None or (
        "dev_env" in request.fixturenames
    )


#: The databases a test of the store or the API runs on. Both at the machine's date; a
#: year ahead, SQLite only: a date hidden in a test is the same on either store, and the
#: second pass stays within make test's time (the pytest header says so).
DATABASES = ["sqlite"] if CLOCK_AHEAD is not None else ["sqlite", "postgresql"]
