"""The scheduled-maintenance rulebook beyond its decision table
(rules/clauses/scheduled_maintenance/scenarios.yaml, run by test_scenarios.py)."""

from __future__ import annotations

CLAUSE = "scheduled_maintenance"


def test_window_end_falls_exactly_at_the_scheduled_end(rulebook) -> None:
    # Zero elapsed hours from window_ends_at: no helper deadline around it.
    end = rulebook.deadlines["window_end"]
    assert (end.from_.fact, end.from_.deadline) == ("window_ends_at", None)
    assert (end.direction, end.period.count, end.period.unit) == ("after", 0, "hours")
    assert set(rulebook.deadlines) == {"notice_due", "reminder", "window_end"}
