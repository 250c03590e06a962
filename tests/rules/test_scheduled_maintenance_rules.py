"""The real scheduled-maintenance rulebook, as a table of facts -> decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rules.engine import evaluate
from rules.rulebook import Rulebook, RulebookRegistry, load_rulebook

REPO = Path(__file__).resolve().parents[2]
FILE = REPO / "rules" / "clauses" / "scheduled_maintenance" / "rulebook.v1.yaml"

GIVEN = "notice_given"
LATE = "notice_given_late"
CASE = {
    "clause": "scheduled_maintenance",
    "rulebook_version": 1,
    "window_starts_at": "2037-12-05T06:00:00Z",
    "window_ends_at": "2037-12-05T10:00:00Z",
    "description": "Database upgrade",
}


def started(ends_after_start: bool, in_time: bool, lead_hours: int) -> dict[str, Any]:
    return {
        "event": "case_started",
        "window_ends_after_start": ends_after_start,
        "notice_in_time": in_time,
        "notice_lead_hours": lead_hours,
        "required_notice_hours": 72,
    }


def deadline(name: str, state: str) -> dict[str, Any]:
    return {"event": "deadline_reached", "deadline": name, "deadline_group": name, "state": state}


def recorded(fact: str, state: str) -> dict[str, Any]:
    return {"event": "fact_recorded", "fact": fact, "state": state, "reason": "vendor delay"}


REMINDER = ("schedule_reminder", "set_deadlines", ["reminder"])
LATE_ESCALATION = (
    "Maintenance notice given less than the required hours before the window starts: "
    "the window will not be excluded from the uptime calculation."
)
INVALID_ESCALATION = (
    "The maintenance window does not end after it starts; no notice was sent. "
    "Correct the dates and open a new case."
)
REMIND = [("remind_customer_before_window", "send_notice", "maintenance_reminder")]


def cancelled() -> list[tuple[str, str, Any]]:
    return [
        ("maintenance_called_off", "transition", "cancelled"),
        ("maintenance_called_off", "cancel_deadlines", "all"),
        ("maintenance_called_off", "send_notice", "maintenance_cancelled"),
        ("maintenance_called_off", "close", True),
    ]


TABLE: list[tuple[str, dict[str, Any], list[tuple[str, str, Any]]]] = [
    (
        "notice exactly 72 hours ahead is in time and sets the reminder",
        started(True, True, 72),
        [
            ("notify_customer_in_time", "transition", GIVEN),
            ("notify_customer_in_time", "set_deadlines", ["notice_due", "window_end"]),
            ("notify_customer_in_time", "send_notice", "maintenance_notice"),
            REMINDER,
        ],
    ),
    (
        "notice 48 hours ahead is late, escalates and still gets a reminder",
        started(True, False, 48),
        [
            ("notify_customer_too_late", "transition", LATE),
            ("notify_customer_too_late", "record", {"excluded_from_uptime": False}),
            ("notify_customer_too_late", "set_deadlines", ["notice_due", "window_end"]),
            ("notify_customer_too_late", "send_notice", "maintenance_notice"),
            ("notify_customer_too_late", "escalate", LATE_ESCALATION),
            REMINDER,
        ],
    ),
    (
        "notice 24 hours ahead is late and gets no reminder (it would be due now)",
        started(True, False, 24),
        [
            ("notify_customer_too_late", "transition", LATE),
            ("notify_customer_too_late", "record", {"excluded_from_uptime": False}),
            ("notify_customer_too_late", "set_deadlines", ["notice_due", "window_end"]),
            ("notify_customer_too_late", "send_notice", "maintenance_notice"),
            ("notify_customer_too_late", "escalate", LATE_ESCALATION),
        ],
    ),
    (
        "a window that ends before it starts is refused and escalated",
        started(False, True, 100),
        [
            ("window_dates_inconsistent", "transition", "window_invalid"),
            ("window_dates_inconsistent", "escalate", INVALID_ESCALATION),
            ("window_dates_inconsistent", "close", True),
        ],
    ),
    ("reminder when notified in time", deadline("reminder", GIVEN), REMIND),
    ("reminder when notified late", deadline("reminder", LATE), REMIND),
    ("reminder after the case was called off", deadline("reminder", "cancelled"), []),
    ("the notice deadline passing needs nothing", deadline("notice_due", GIVEN), []),
    (
        "window over after timely notice: excluded from uptime",
        deadline("window_end", GIVEN),
        [
            ("window_over_excluded_from_uptime", "transition", "excluded_from_uptime"),
            ("window_over_excluded_from_uptime", "record", {"excluded_from_uptime": True}),
            ("window_over_excluded_from_uptime", "send_notice", "window_outcome"),
            ("window_over_excluded_from_uptime", "close", True),
        ],
    ),
    (
        "window over after late notice: counted in uptime",
        deadline("window_end", LATE),
        [
            ("window_over_counted_in_uptime", "transition", "counted_in_uptime"),
            ("window_over_counted_in_uptime", "record", {"excluded_from_uptime": False}),
            ("window_over_counted_in_uptime", "send_notice", "window_outcome"),
            ("window_over_counted_in_uptime", "close", True),
        ],
    ),
    ("window end after cancellation", deadline("window_end", "cancelled"), []),
    ("called off after timely notice", recorded("maintenance_cancelled", GIVEN), cancelled()),
    ("called off after late notice", recorded("maintenance_cancelled", LATE), cancelled()),
    (
        "called off after the window is over",
        recorded("maintenance_cancelled", "excluded_from_uptime"),
        [],
    ),
    ("a failed notice has no rule", {"event": "notice_failed", "state": GIVEN}, []),
]


@pytest.fixture(scope="module")
def rulebook() -> Rulebook:
    return load_rulebook(FILE, check_templates=True)


@pytest.fixture(scope="module")
def registry(rulebook: Rulebook) -> RulebookRegistry:
    registry = RulebookRegistry()
    registry.add(rulebook)
    return registry


@pytest.mark.parametrize(
    ("facts", "expected"), [row[1:] for row in TABLE], ids=[r[0] for r in TABLE]
)
def test_scheduled_maintenance_rules(registry, facts, expected) -> None:
    decisions = evaluate({**CASE, **facts}, registry)
    assert [(d.rule, d.action, d.value) for d in decisions] == expected


def test_every_rule_is_exercised_by_the_table(rulebook) -> None:
    fired = {rule for _, _, expected in TABLE for rule, _, _ in expected}
    assert fired == {rule.name for rule in rulebook.rules}


def test_window_end_falls_exactly_at_the_scheduled_end(rulebook) -> None:
    # Zero elapsed hours from window_ends_at: no helper deadline around it.
    end = rulebook.deadlines["window_end"]
    assert (end.from_.fact, end.from_.deadline) == ("window_ends_at", None)
    assert (end.direction, end.period.count, end.period.unit) == ("after", 0, "hours")
    assert set(rulebook.deadlines) == {"notice_due", "reminder", "window_end"}
