"""A security-breach case through its whole life, on the time-skipping server.

The breach is discovered Tue 1 Dec 2037 14:00 UTC (09:00 New York, EST = UTC-5) and the
case opens at 15:00 UTC. The reference terms allow 72 elapsed hours to notify the
Customer: until Fri 4 Dec 2037 14:00 UTC (09:00 New York).
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from temporalio.client import WorkflowUpdateFailedError

from tests.workflows.helpers import (
    CUSTOMER,
    OWNER_EMAIL,
    PROVIDER,
    Clause,
    clock_at,
    eventually,
    fired_at,
)

UTC = dt.UTC
CLAUSE = "security_breach"
FACTS = {
    "discovered_at": "2037-12-01T14:00:00Z",
    "description": "A misconfigured storage bucket exposed call detail records",
}
RECORDED_BY = "ciso@provider.example.com"
OWNER = OWNER_EMAIL  # a bare address: these tests build their own lists around it
# 72 hours after 14:00 UTC on 1 Dec; reminders 24 and 4 hours before that.
DUE = dt.datetime(2037, 12, 4, 14, tzinfo=UTC)
REMINDER_24 = dt.datetime(2037, 12, 3, 14, tzinfo=UTC)
REMINDER_4 = dt.datetime(2037, 12, 4, 10, tzinfo=UTC)

_clock = clock_at(dt.datetime(2037, 12, 1, 15, tzinfo=UTC))


async def test_timely_notification_then_updates_and_final_report(clause: Clause) -> None:
    case = await clause.start()
    view = await case.ready()
    assert view.state == "notification_pending"
    assert [(d.name, d.due_at) for d in view.deadlines] == [
        ("notification_reminder_24", REMINDER_24),
        ("notification_reminder_4", REMINDER_4),
        ("notification_due", DUE),
    ]

    # Past the 24-hour reminder, before the 4-hour one.
    await clause.travel(dt.datetime(2037, 12, 3, 15, tzinfo=UTC))
    await eventually(lambda: len(case.notices()) == 2)
    view = await case.record(
        "customer_notified",
        how="Call with the Customer's CISO, then email",
        notified_at="2037-12-03T14:30:00Z",
    )
    assert view.state == "mitigating" and view.facts["notification_deadline_missed"] is False
    await case.record(
        "mitigation_update", summary="Bucket locked down", next_steps="Forensic review"
    )
    await case.record("mitigation_update", summary="Forensics done", next_steps="Final report")
    view = await case.record(
        "final_report",
        root_cause="Public-read ACL left by a deploy script",
        remediation="ACL policy enforced in CI",
    )
    assert view.closed and view.state == "final_report_given"
    # The final report waits for approval; the case stays open for it.
    assert view.held_notices == ["final_report:fact:final_report:6"]
    held = case.sent("final_report")
    assert held.status == "awaiting_approval" and held.sent_at is None
    with pytest.raises(WorkflowUpdateFailedError):
        await case.approve("final_report:nope", "counsel")
    view = await case.approve(held.notice_key, "counsel@provider.example.com", "reviewed")
    assert view.held_notices == []
    assert await case.ended() == "final_report_given"

    sent = case.notices()
    assert [n.notice for n in sent] == [
        "breach_logged",
        "notification_reminder",
        "notification_confirmed",
        "mitigation_update",
        "mitigation_update",
        "final_report",
    ]
    logged, reminder, confirmed, first, second, final = sent
    assert logged.to == [OWNER]
    assert "notify the Customer by Fri 4 Dec 2037 09:00 New York time" in logged.subject
    assert "72 hours after the event" in logged.body_text  # the explanation travels along
    assert reminder.to == PROVIDER and reminder.cc == [OWNER]
    assert fired_at(reminder.created_at, REMINDER_24)
    assert confirmed.to == CUSTOMER and confirmed.cc == [*PROVIDER, OWNER]
    assert "Thu 3 Dec 2037 09:30 New York time" in confirmed.body_text
    assert "was given within the 72 hours" in confirmed.body_text
    assert "Bucket locked down" in first.body_text and "Forensic review" in first.body_text
    assert "Forensics done" in second.body_text and "Bucket locked down" not in second.body_text
    assert final.to == CUSTOMER and "Public-read ACL" in final.body_text
    assert final.status == "outboxed" and final.approved_by == "counsel@provider.example.com"
    assert final.text_sha256 == hashlib.sha256(final.body_text.encode()).hexdigest()

    dls = case.deadlines()
    assert dls["notification_reminder_24"].status == "reached"
    assert dls["notification_reminder_4"].status == "cancelled"
    assert dls["notification_due"].status == "cancelled"
    assert not case.row().escalated
    assert case.path() == [
        ("opened", "notification_pending"),
        ("notification_pending", "mitigating"),
        ("mitigating", "final_report_given"),
    ]


async def test_missed_deadline_escalates_and_a_late_notice_is_recorded_as_missed(
    clause: Clause,
) -> None:
    case = await clause.open()

    await clause.travel(dt.datetime(2037, 12, 4, 15, tzinfo=UTC))
    row = await case.escalated()
    assert row.state == "notification_overdue"
    assert row.facts["notification_deadline_missed"] is True
    assert case.escalation_rules() == ["notification_deadline_missed"]
    reminders = case.notices_of("notification_reminder")
    assert len(reminders) == 2
    assert fired_at(reminders[0].created_at, REMINDER_24)
    assert fired_at(reminders[1].created_at, REMINDER_4)
    assert case.deadlines()["notification_due"].status == "reached"

    view = await case.record("customer_notified", how="Email", notified_at="2037-12-04T14:30:00Z")
    assert view.state == "mitigating"
    assert view.facts["customer_notified_in_time"] is False
    assert view.facts["notification_deadline_missed"] is True
    confirmed = case.sent("notification_confirmed")
    assert "was given after the 72 hours" in confirmed.body_text
    assert "Fri 4 Dec 2037 09:00 New York time" in confirmed.body_text

    view = await case.record(
        "final_report", root_cause="Stolen credentials", remediation="MFA enforced"
    )
    await case.approve(view.held_notices[0], "counsel")
    assert await case.ended() == "final_report_given"


async def test_notice_in_time_recorded_after_the_deadline_fired_is_not_counted_missed(
    clause: Clause,
) -> None:
    case = await clause.open()
    await clause.travel(dt.datetime(2037, 12, 4, 15, tzinfo=UTC))
    await case.escalated()

    # The Customer was in fact told at 13:00 UTC, an hour before the deadline.
    view = await case.record("customer_notified", how="Phone", notified_at="2037-12-04T13:00:00Z")
    assert view.state == "mitigating"
    assert view.facts["notification_deadline_missed"] is False


async def test_updates_and_report_are_refused_before_the_customer_is_notified(
    clause: Clause,
) -> None:
    case = await clause.open()
    for fact, values in (
        ("mitigation_update", {"summary": "x", "next_steps": "y"}),
        ("final_report", {"root_cause": "x", "remediation": "y"}),
    ):
        assert "can only be recorded in mitigating" in await case.refused(fact, values)
    why = await case.refused("customer_notified", how="Email")
    assert "values.notified_at is required" in why
    view = await case.view()
    assert view.state == "notification_pending" and not view.closed


async def test_breach_logged_after_the_deadline_escalates_without_stale_reminders(
    clause: Clause,
) -> None:
    # Discovered 80 hours before the case opens: the 72 hours ran out 8 hours ago, so
    # both reminders and the deadline fire at once; only the escalation should follow.
    case = await clause.open({"discovered_at": "2037-11-28T07:00:00Z"})
    row = await case.escalated()
    assert row.state == "notification_overdue"
    await eventually(lambda: case.deadline_statuses() == {"reached"})
    assert case.deadlines()["notification_due"].due_at == dt.datetime(2037, 12, 1, 7, tzinfo=UTC)
    assert case.kinds() == ["breach_logged"]
