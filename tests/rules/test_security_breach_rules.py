"""The security-breach rulebook beyond its decision table
(rules/clauses/security_breach/scenarios.yaml, run by test_scenarios.py)."""

from __future__ import annotations

CLAUSE = "security_breach"


def test_notification_window_is_elapsed_hours_from_the_term_sheet(rulebook) -> None:
    due = rulebook.deadlines["notification_due"]
    assert (
        rulebook.parameters["notify_within_hours"] == "clauses.security_breach.notify_within_hours"
    )
    assert (due.from_.fact, due.period.unit, due.period.count.param) == (
        "discovered_at",
        "hours",
        "notify_within_hours",
    )
