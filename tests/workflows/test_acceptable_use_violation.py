"""The acceptable-use-violation case (MSA §8, Exhibit C) through its whole life.

The Customer receives the Provider's notice on Mon 1 Mar 2038 at 09:30 EST (14:30 UTC).
Counting 30 calendar days from the day after (NY GCL § 20), day 1 is Tue 2 Mar and day 30
is Wed 31 Mar 2038, a business day, so the cure period ends at midnight: Thu 1 Apr 2038
00:00 New York time. Clocks went forward on Sun 14 Mar 2038, so that is EDT, 04:00 UTC.
The owner's reminder is 7 days before Wed 31 Mar: Wed 24 Mar 2038 09:00 EDT (13:00 UTC).
The decision reminder is 14 days after: Wed 14 Apr 2038 09:00 EDT (13:00 UTC).
"""

from __future__ import annotations

import datetime as dt

from tests.workflows.helpers import (
    CUSTOMER,
    OWNER,
    PROVIDER,
    Case,
    Clause,
    clock_at,
    eventually,
    fired_at,
)
from workflows.case import CaseView

UTC = dt.UTC
CLAUSE = "acceptable_use_violation"
FACTS = {
    "violation_notice_received_at": "2038-03-01T14:30:00Z",  # Mon 1 Mar 2038 09:30 EST
    "given_by": "provider",
    "violation_description": "Bulk unsolicited marketing messages sent through the platform",
    "aup_provision": "Exhibit C.1, prohibited activities",
}
# Facts in this case are recorded by the Provider's trust & safety.
RECORDED_BY, REASON = "trust.safety@provider.example.com", "test"

CURE_ENDS = dt.datetime(2038, 4, 1, 4, tzinfo=UTC)  # Thu 1 Apr 2038 00:00 EDT
CURE_REMINDER = dt.datetime(2038, 3, 24, 13, tzinfo=UTC)  # Wed 24 Mar 2038 09:00 EDT
DECISION_REMINDER = dt.datetime(2038, 4, 14, 13, tzinfo=UTC)  # Wed 14 Apr 2038 09:00 EDT

_just_after_the_notice = clock_at(dt.datetime(2038, 3, 1, 15, tzinfo=UTC))


async def lapsed(clause: Clause) -> tuple[Case, CaseView]:
    """A case whose cure period ran out, once the lapse is notified."""
    return await clause.lapsed(
        CURE_ENDS + dt.timedelta(hours=1), "suspension_right_arisen", "cure_period_lapsed"
    )


async def test_notice_is_acknowledged_to_the_customer_and_confirmed_to_the_provider(
    clause: Clause,
) -> None:
    case = await clause.start()
    view = await case.ready()
    assert view.state == "cure_period_running"
    assert [d.name for d in view.deadlines] == ["cure_reminder", "cure_period"]
    await eventually(lambda: len(case.notices()) == 2)

    ack = case.sent("violation_acknowledgement")
    assert ack.to == CUSTOMER and ack.cc == OWNER
    assert "cure by Wed 31 Mar 2038" in ack.subject
    assert "Thu 1 Apr 2038 00:00 New York time" in ack.body_text
    assert "Exhibit C.1, prohibited activities" in ack.body_text
    assert "Section 8 and Exhibit C" in ack.body_html

    confirmation = case.sent("violation_confirmation")
    assert confirmation.to == PROVIDER and confirmation.cc == OWNER
    assert "Wed 31 Mar 2038" in confirmation.body_text
    assert "may not be suspended or terminated" in confirmation.body_text

    dls = case.deadlines()
    assert dls["cure_period"].last_day == dt.date(2038, 3, 31)
    assert dls["cure_period"].due_at == CURE_ENDS
    assert dls["cure_reminder"].due_at == CURE_REMINDER


async def test_violation_cured_within_cure_period_closes_the_case(clause: Clause) -> None:
    case = await clause.open()
    await clause.travel(dt.datetime(2038, 3, 15, 15, tzinfo=UTC))
    view = await case.record(
        "violation_cured",
        evidence="Campaign stopped and opt-in lists audited",
        cured_on="2038-03-12",
    )
    await case.closes_as(view, "cured")

    cured = case.sent("violation_cured")
    assert cured.to == CUSTOMER + PROVIDER and cured.cc == OWNER
    assert "Campaign stopped" in cured.body_text and "2038-03-12" in cured.body_text
    assert set(case.kinds()) == {
        "violation_acknowledgement",
        "violation_confirmation",
        "violation_cured",
    }
    assert case.deadline_statuses() == {"cancelled"}
    assert case.escalations() == []


async def test_cure_period_lapses_into_suspension_right(clause: Clause) -> None:
    case, view = await lapsed(clause)
    assert not view.closed

    reminder = case.sent("cure_reminder")
    assert reminder.to == OWNER and fired_at(reminder.created_at, CURE_REMINDER)
    lapsed_notice = case.sent("cure_period_lapsed")
    # The lapse is notified both ways.
    assert lapsed_notice.to == CUSTOMER + PROVIDER and lapsed_notice.cc == OWNER
    assert fired_at(lapsed_notice.created_at, CURE_ENDS)
    assert "Wed 31 Mar 2038" in lapsed_notice.body_text
    assert "no cure has been recorded" in lapsed_notice.body_text

    assert case.escalation_rules() == ["cure_period_lapses_into_suspension_right"]
    row = case.row()
    assert row.escalated and row.state == "suspension_right_arisen"
    assert row.next_deadline_name == "decision_reminder"
    assert row.next_deadline_at == DECISION_REMINDER

    # A cure recorded now comes too late for this case.
    why = await case.refused("violation_cured", evidence="late", cured_on="2038-04-01")
    assert "can only be recorded in cure_period_running" in why


async def test_suspension_then_restoration_after_a_late_cure(clause: Clause) -> None:
    case, _ = await lapsed(clause)
    view = await case.record(
        "access_suspended", suspended_on="2038-04-01", scope="outbound messaging"
    )
    assert view.state == "access_suspended" and not view.closed
    assert case.deadlines()["decision_reminder"].status == "cancelled"
    suspended = await case.eventually_sent("access_suspended")
    assert suspended.to == CUSTOMER + PROVIDER
    assert "outbound messaging" in suspended.body_text

    # Restored the next day, recorded that day: a restoration cannot be dated ahead of the case.
    await clause.travel(dt.datetime(2038, 4, 2, 16, tzinfo=UTC))
    view = await case.record("access_restored", restored_on="2038-04-02", evidence="Lists purged")
    await case.closes_as(view, "access_restored")
    assert "Lists purged" in case.sent("access_restored").body_text
    assert [to for _, to in case.path()] == [
        "cure_period_running",
        "suspension_right_arisen",
        "access_suspended",
        "access_restored",
    ]
    # No decision reminder went out: the suspension answered it.
    assert "decision_reminder" not in case.kinds()


async def test_suspended_access_can_be_terminated(clause: Clause) -> None:
    case, _ = await lapsed(clause)
    await case.record("access_suspended", suspended_on="2038-04-01")
    await case.refused("right_not_exercised", decided_by="X", reason="too late")
    view = await case.record("access_terminated", terminated_on="2038-04-01")
    await case.closes_as(view, "access_terminated")
    terminated = case.sent("access_terminated")
    assert terminated.to == CUSTOMER + PROVIDER and "2038-04-01" in terminated.body_text


async def test_undecided_provider_is_reminded_and_may_take_no_action(clause: Clause) -> None:
    case, _ = await lapsed(clause)
    await clause.travel(DECISION_REMINDER + dt.timedelta(hours=1))
    reminder = await case.eventually_sent("decision_reminder")
    assert reminder.to == OWNER and fired_at(reminder.created_at, DECISION_REMINDER)

    view = await case.record(
        "right_not_exercised",
        decided_by="Head of Trust and Safety",
        reason="Campaign ended; lists purged",
    )
    await case.closes_as(view, "no_action_taken")
    decision = case.sent("right_not_exercised")
    assert decision.to == CUSTOMER + PROVIDER
    assert "Campaign ended; lists purged" in decision.body_text


async def test_suspension_is_refused_during_the_cure_period(clause: Clause) -> None:
    case = await clause.open()
    why = await case.refused("access_suspended", suspended_on="2038-03-01")
    assert "can only be recorded in suspension_right_arisen" in why
    why = await case.refused("violation_cured", cured_on="2038-03-01")
    assert "values.evidence is required" in why
    assert await case.state() == "cure_period_running"


async def test_notice_said_to_come_from_the_customer_is_closed_as_opened_in_error(
    clause: Clause,
) -> None:
    case = await clause.start({"given_by": "customer"})
    assert await case.ended() == "opened_in_error"
    assert case.notices() == []
    assert case.deadlines() == {}
    assert case.escalation_rules() == ["reject_notice_not_given_by_provider"]
    row = case.row()
    assert row.closed and row.escalated
