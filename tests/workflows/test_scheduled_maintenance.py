"""A scheduled-maintenance case through its whole life, on the time-skipping server.

The clock starts at Tue 1 Dec 2037 14:30 UTC (09:30 New York, EST = UTC-5); the case
opens then, so the notice goes out then and its lead time is measured from then.
"""

from __future__ import annotations

import datetime as dt

from tests.workflows.helpers import CUSTOMER, OWNER_EMAIL, PROVIDER, Clause, clock_at, fired_at

UTC = dt.UTC
CLAUSE = "scheduled_maintenance"
OPENED = dt.datetime(2037, 12, 1, 14, 30, tzinfo=UTC)
OWNER = OWNER_EMAIL  # a bare address: these tests build their own lists around it
RECORDED_BY = "ops@provider.example.com"

# Sat 5 Dec 2037 01:00-05:00 New York = 06:00-10:00 UTC: 87.5 hours after opening.
IN_TIME = {
    "window_starts_at": "2037-12-05T06:00:00Z",
    "window_ends_at": "2037-12-05T10:00:00Z",
    "description": "Database engine upgrade; voice and messaging unavailable",
}
# Thu 3 Dec 2037 10:00-12:00 New York = 15:00-17:00 UTC: 48.5 hours after opening.
LATE = {
    "window_starts_at": "2037-12-03T15:00:00Z",
    "window_ends_at": "2037-12-03T17:00:00Z",
    "description": "Emergency patch of the session border controllers",
}


_clock = clock_at(OPENED)


async def test_timely_notice_excludes_the_window_from_uptime(clause: Clause) -> None:
    case = await clause.start(IN_TIME)
    view = await case.ready()
    assert view.state == "notice_given"
    # 87.5 hours of notice (floored to 87) against the 72 required.
    assert view.facts["notice_lead_hours"] == 87 and view.facts["notice_in_time"] is True
    assert [d.name for d in view.deadlines] == ["notice_due", "reminder", "window_end"]

    assert await case.ended() == "excluded_from_uptime"

    dls = case.deadlines()
    # 72 hours before 06:00 UTC on 5 Dec is 06:00 UTC on 2 Dec; 24 hours before is 4 Dec.
    assert dls["notice_due"].due_at == dt.datetime(2037, 12, 2, 6, tzinfo=UTC)
    assert dls["reminder"].due_at == dt.datetime(2037, 12, 4, 6, tzinfo=UTC)
    # Zero hours from the window's scheduled end: exactly 10:00 UTC, with no helper.
    assert dls["window_end"].due_at == dt.datetime(2037, 12, 5, 10, tzinfo=UTC)
    assert set(dls) == {"notice_due", "reminder", "window_end"}
    explained = "\n".join(dls["window_end"].explanation)
    assert (
        "Event: the maintenance window is scheduled to end at Sat 5 Dec 2037 05:00 New York"
        " time (Sat 5 Dec 2037 10:00 UTC)."
    ) in explained
    for roundabout in ("one hour before", "1 hour after", "1 hour before"):
        assert roundabout not in explained.lower()
    assert "Reminder to the Customer 24 hours before the maintenance window starts." in (
        "\n".join(dls["reminder"].explanation)
    )

    sent = case.by_key()
    assert set(sent) == {
        "maintenance_notice:started",
        "maintenance_reminder:deadline:reminder:2037-12-04T06:00:00+00:00",
        "window_outcome:deadline:window_end:2037-12-05T10:00:00+00:00",
    }
    notice = sent["maintenance_notice:started"]
    assert notice.to == CUSTOMER and notice.cc == [*PROVIDER, OWNER]
    assert fired_at(notice.created_at, OPENED)
    assert "from Sat 5 Dec 2037 01:00 New York time to Sat 5 Dec 2037 05:00 New York time" in (
        notice.subject
    )
    assert "87 hours before the window starts, which meets the requirement" in notice.body_text
    assert "Wed 2 Dec 2037 01:00 New York time" in notice.body_text  # notice due by
    assert "left out of the monthly uptime calculation" in notice.body_html

    reminder = sent["maintenance_reminder:deadline:reminder:2037-12-04T06:00:00+00:00"]
    assert reminder.to == CUSTOMER and reminder.cc == [OWNER]
    assert fired_at(reminder.created_at, dt.datetime(2037, 12, 4, 6, tzinfo=UTC))

    outcome = sent["window_outcome:deadline:window_end:2037-12-05T10:00:00+00:00"]
    assert outcome.to == [OWNER]
    assert outcome.subject == "Maintenance window over: excluded from uptime"
    assert fired_at(outcome.created_at, dt.datetime(2037, 12, 5, 10, tzinfo=UTC))

    row = case.row()
    assert row.closed and not row.escalated
    assert row.facts["excluded_from_uptime"] is True
    assert case.path() == [
        ("opened", "notice_given"),
        ("notice_given", "excluded_from_uptime"),
    ]


async def test_late_notice_escalates_and_counts_the_window_against_uptime(clause: Clause) -> None:
    case = await clause.start(LATE)
    assert await case.ended() == "counted_in_uptime"

    row = case.row()
    assert row.escalated and row.closed
    assert row.facts["excluded_from_uptime"] is False
    assert row.facts["notice_lead_hours"] == 48 and row.facts["notice_in_time"] is False
    [escalation] = case.escalations()
    assert escalation.rule == "notify_customer_too_late"
    assert "will not be excluded from the uptime calculation" in escalation.reason

    dls = case.deadlines()
    # The notice was due 72 hours before 15:00 UTC on 3 Dec: 15:00 UTC on 30 Nov, before
    # the case even opened; the reminder (48.5 > 24 hours ahead) is still worth sending.
    assert dls["notice_due"].due_at == dt.datetime(2037, 11, 30, 15, tzinfo=UTC)
    assert dls["reminder"].due_at == dt.datetime(2037, 12, 2, 15, tzinfo=UTC)
    assert dls["window_end"].due_at == dt.datetime(2037, 12, 3, 17, tzinfo=UTC)

    sent = case.by_kind()
    assert set(sent) == {"maintenance_notice", "maintenance_reminder", "window_outcome"}
    body = sent["maintenance_notice"].body_text
    assert "only 48 hours before the window starts" in body
    assert "will therefore count as downtime" in body
    assert "Mon 30 Nov 2037 10:00 New York time" in body  # when notice was due
    assert sent["window_outcome"].subject == "Maintenance window over: counted in uptime"
    assert case.path() == [
        ("opened", "notice_given_late"),
        ("notice_given_late", "counted_in_uptime"),
    ]


async def test_window_within_a_day_gets_no_reminder(clause: Clause) -> None:
    # 01:00-03:00 UTC on 2 Dec: 10.5 hours away, so a 24-hour reminder would be past.
    facts = {
        **LATE,
        "window_starts_at": "2037-12-02T01:00:00Z",
        "window_ends_at": "2037-12-02T03:00:00Z",
    }
    case = await clause.start(facts)
    assert await case.ended() == "counted_in_uptime"
    assert "reminder" not in case.deadlines()
    assert case.kinds() == ["maintenance_notice", "window_outcome"]


async def test_calling_off_the_maintenance_closes_the_case(clause: Clause) -> None:
    case = await clause.open(IN_TIME)
    view = await case.record("maintenance_cancelled", reason="Vendor postponed the upgrade")
    await case.closes_as(view, "cancelled")
    assert case.deadline_statuses() == {"cancelled"}
    sent = case.by_kind()
    assert set(sent) == {"maintenance_notice", "maintenance_cancelled"}
    called_off = sent["maintenance_cancelled"]
    assert called_off.to == CUSTOMER and OWNER in called_off.cc
    assert "Vendor postponed the upgrade" in called_off.body_text
    assert "excluded_from_uptime" not in case.row().facts


async def test_a_window_that_ends_before_it_starts_is_escalated_without_notice(
    clause: Clause,
) -> None:
    case = await clause.start({**IN_TIME, "window_ends_at": "2037-12-05T05:00:00Z"})
    assert await case.ended() == "window_invalid"
    assert case.notices() == []
    assert case.deadlines() == {}
    row = case.row()
    assert row.escalated and row.closed
    assert case.escalation_rules() == ["window_dates_inconsistent"]
