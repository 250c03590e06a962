"""The real security-breach rulebook, as a table of facts -> decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rules.engine import evaluate
from rules.rulebook import Rulebook, RulebookRegistry, load_rulebook

REPO = Path(__file__).resolve().parents[2]
FILE = REPO / "rules" / "clauses" / "security_breach" / "rulebook.v1.yaml"

PENDING = "notification_pending"
OVERDUE = "notification_overdue"
MITIGATING = "mitigating"
CASE = {
    "clause": "security_breach",
    "rulebook_version": 1,
    "discovered_at": "2037-12-01T15:00:00Z",
    "description": "Misconfigured bucket exposed call logs",
}
CLOCK = ["notification_due", "notification_reminder_24", "notification_reminder_4"]
MISSED = (
    "The notification deadline for a security breach affecting Customer Data has passed "
    "and no notice to the Customer has been recorded."
)


def deadline(name: str, state: str, due_passed: bool = False) -> dict[str, Any]:
    return {
        "event": "deadline_reached",
        "deadline": name,
        "deadline_group": name,
        "state": state,
        "notification_due_passed": due_passed,
    }


def notified(state: str, in_time: bool | None) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "event": "fact_recorded",
        "fact": "customer_notified",
        "state": state,
        "how": "email to the notice address",
        "notified_at": "2037-12-02T15:00:00Z",
        "customer_notified_in_time": in_time,
    }
    return facts


def recorded(fact: str, state: str) -> dict[str, Any]:
    return {"event": "fact_recorded", "fact": fact, "state": state}


REMIND = [("remind_before_notification_deadline", "send_notice", "notification_reminder")]


def notified_decisions(rule: str, missed: bool) -> list[tuple[str, str, Any]]:
    return [
        (rule, "transition", MITIGATING),
        (rule, "cancel_deadlines", CLOCK),
        (rule, "record", {"notification_deadline_missed": missed}),
        (rule, "send_notice", "notification_confirmed"),
    ]


TABLE: list[tuple[str, dict[str, Any], list[tuple[str, str, Any]]]] = [
    (
        "case started: the notification clock and its reminders start",
        {"event": "case_started"},
        [
            ("log_breach_and_start_notification_clock", "transition", PENDING),
            ("log_breach_and_start_notification_clock", "set_deadlines", CLOCK),
            ("log_breach_and_start_notification_clock", "send_notice", "breach_logged"),
        ],
    ),
    ("reminder 24 hours before", deadline("notification_reminder_24", PENDING), REMIND),
    ("reminder 4 hours before", deadline("notification_reminder_4", PENDING), REMIND),
    (
        "a reminder reached after the deadline itself is not sent",
        deadline("notification_reminder_4", PENDING, due_passed=True),
        [],
    ),
    ("a reminder once overdue is not sent", deadline("notification_reminder_4", OVERDUE), []),
    ("a reminder once notified is not sent", deadline("notification_reminder_24", MITIGATING), []),
    (
        "deadline passes without notification: overdue, recorded, escalated",
        deadline("notification_due", PENDING, due_passed=True),
        [
            ("notification_deadline_missed", "transition", OVERDUE),
            ("notification_deadline_missed", "record", {"notification_deadline_missed": True}),
            ("notification_deadline_missed", "escalate", MISSED),
        ],
    ),
    ("deadline after notification is ignored", deadline("notification_due", MITIGATING), []),
    (
        "notified in time",
        notified(PENDING, True),
        notified_decisions("customer_notified_in_time", False),
    ),
    (
        "notified in time but recorded after the deadline fired",
        notified(OVERDUE, True),
        notified_decisions("customer_notified_in_time", False),
    ),
    (
        "notified after the deadline",
        notified(OVERDUE, False),
        notified_decisions("customer_notified_late", True),
    ),
    ("notification without a judged time does nothing", notified(PENDING, None), []),
    ("notification recorded again while mitigating", notified(MITIGATING, True), []),
    (
        "mitigation update while mitigating",
        recorded("mitigation_update", MITIGATING),
        [("send_mitigation_update", "send_notice", "mitigation_update")],
    ),
    ("mitigation update before notification", recorded("mitigation_update", PENDING), []),
    (
        "final report closes the case",
        recorded("final_report", MITIGATING),
        [
            ("final_report_closes_case", "transition", "final_report_given"),
            ("final_report_closes_case", "send_notice", "final_report"),
            ("final_report_closes_case", "close", True),
        ],
    ),
    ("final report before notification", recorded("final_report", OVERDUE), []),
    ("a failed notice has no rule", {"event": "notice_failed", "state": PENDING}, []),
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
def test_security_breach_rules(registry, facts, expected) -> None:
    decisions = evaluate({**CASE, **facts}, registry)
    assert [(d.rule, d.action, d.value) for d in decisions] == expected


def test_every_rule_is_exercised_by_the_table(rulebook) -> None:
    fired = {rule for _, _, expected in TABLE for rule, _, _ in expected}
    assert fired == {rule.name for rule in rulebook.rules}


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
