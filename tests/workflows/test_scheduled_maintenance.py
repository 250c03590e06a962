"""A scheduled-maintenance case through its whole life, on the time-skipping server.

The clock starts at Tue 1 Dec 2037 14:30 UTC (09:30 New York, EST = UTC-5); the case
opens then, so the notice goes out then and its lead time is measured from then.
"""

from __future__ import annotations

import datetime as dt

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from tests.workflows.helpers import (
    CUSTOMER,
    OWNER_EMAIL,
    PROVIDER,
    case_row,
    deadlines,
    escalations,
    fired_at,
    notices,
    seed_reference_contract,
    start_case,
    transitions,
    travel_to,
)
from workflows.case import CaseWorkflow, RecordFactRequest

UTC = dt.UTC
CLAUSE = "scheduled_maintenance"
OPENED = dt.datetime(2037, 12, 1, 14, 30, tzinfo=UTC)
OWNER = OWNER_EMAIL  # a bare address: these tests build their own lists around it

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


@pytest.fixture(autouse=True)
async def _clock(time_env: WorkflowEnvironment) -> None:
    await travel_to(time_env, OPENED)


async def test_timely_notice_excludes_the_window_from_uptime(
    worker: Client, task_queue: str
) -> None:
    seed_reference_contract()
    handle = await start_case(worker, task_queue, CLAUSE, IN_TIME)
    view = await handle.execute_update(CaseWorkflow.ready)
    assert view.state == "notice_given"
    # 87.5 hours of notice (floored to 87) against the 72 required.
    assert view.facts["notice_lead_hours"] == 87 and view.facts["notice_in_time"] is True
    assert [d.name for d in view.deadlines] == ["notice_due", "reminder", "window_end"]

    result = await handle.result()
    assert result.state == "excluded_from_uptime"

    dls = deadlines(handle.id)
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

    sent = {n.notice_key: n for n in notices(handle.id)}
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

    row = case_row(handle.id)
    assert row is not None and row.closed and not row.escalated
    assert row.facts["excluded_from_uptime"] is True
    assert [(t.from_state, t.to_state) for t in transitions(handle.id)] == [
        ("opened", "notice_given"),
        ("notice_given", "excluded_from_uptime"),
    ]


async def test_late_notice_escalates_and_counts_the_window_against_uptime(
    worker: Client, task_queue: str
) -> None:
    seed_reference_contract()
    handle = await start_case(worker, task_queue, CLAUSE, LATE)
    result = await handle.result()
    assert result.state == "counted_in_uptime"

    row = case_row(handle.id)
    assert row is not None and row.escalated and row.closed
    assert row.facts["excluded_from_uptime"] is False
    assert row.facts["notice_lead_hours"] == 48 and row.facts["notice_in_time"] is False
    [escalation] = escalations(handle.id)
    assert escalation.rule == "notify_customer_too_late"
    assert "will not be excluded from the uptime calculation" in escalation.reason

    dls = deadlines(handle.id)
    # The notice was due 72 hours before 15:00 UTC on 3 Dec: 15:00 UTC on 30 Nov, before
    # the case even opened; the reminder (48.5 > 24 hours ahead) is still worth sending.
    assert dls["notice_due"].due_at == dt.datetime(2037, 11, 30, 15, tzinfo=UTC)
    assert dls["reminder"].due_at == dt.datetime(2037, 12, 2, 15, tzinfo=UTC)
    assert dls["window_end"].due_at == dt.datetime(2037, 12, 3, 17, tzinfo=UTC)

    sent = {n.notice: n for n in notices(handle.id)}
    assert set(sent) == {"maintenance_notice", "maintenance_reminder", "window_outcome"}
    body = sent["maintenance_notice"].body_text
    assert "only 48 hours before the window starts" in body
    assert "will therefore count as downtime" in body
    assert "Mon 30 Nov 2037 10:00 New York time" in body  # when notice was due
    assert sent["window_outcome"].subject == "Maintenance window over: counted in uptime"
    assert [(t.from_state, t.to_state) for t in transitions(handle.id)] == [
        ("opened", "notice_given_late"),
        ("notice_given_late", "counted_in_uptime"),
    ]


async def test_window_within_a_day_gets_no_reminder(worker: Client, task_queue: str) -> None:
    seed_reference_contract()
    # 01:00-03:00 UTC on 2 Dec: 10.5 hours away, so a 24-hour reminder would be past.
    facts = {
        **LATE,
        "window_starts_at": "2037-12-02T01:00:00Z",
        "window_ends_at": "2037-12-02T03:00:00Z",
    }
    handle = await start_case(worker, task_queue, CLAUSE, facts)
    result = await handle.result()
    assert result.state == "counted_in_uptime"
    assert "reminder" not in deadlines(handle.id)
    assert [n.notice for n in notices(handle.id)] == ["maintenance_notice", "window_outcome"]


async def test_calling_off_the_maintenance_closes_the_case(worker: Client, task_queue: str) -> None:
    seed_reference_contract()
    handle = await start_case(worker, task_queue, CLAUSE, IN_TIME)
    await handle.execute_update(CaseWorkflow.ready)
    view = await handle.execute_update(
        CaseWorkflow.record_fact,
        RecordFactRequest(
            "maintenance_cancelled",
            {"reason": "Vendor postponed the upgrade"},
            "ops@provider.example.com",
        ),
    )
    assert view.state == "cancelled" and view.closed
    assert (await handle.result()).state == "cancelled"
    assert {d.status for d in deadlines(handle.id).values()} == {"cancelled"}
    sent = {n.notice: n for n in notices(handle.id)}
    assert set(sent) == {"maintenance_notice", "maintenance_cancelled"}
    called_off = sent["maintenance_cancelled"]
    assert called_off.to == CUSTOMER and OWNER in called_off.cc
    assert "Vendor postponed the upgrade" in called_off.body_text
    row = case_row(handle.id)
    assert row is not None and "excluded_from_uptime" not in row.facts


async def test_a_window_that_ends_before_it_starts_is_escalated_without_notice(
    worker: Client, task_queue: str
) -> None:
    seed_reference_contract()
    facts = {**IN_TIME, "window_ends_at": "2037-12-05T05:00:00Z"}
    handle = await start_case(worker, task_queue, CLAUSE, facts)
    result = await handle.result()
    assert result.state == "window_invalid"
    assert notices(handle.id) == []
    assert deadlines(handle.id) == {}
    row = case_row(handle.id)
    assert row is not None and row.escalated and row.closed
    [escalation] = escalations(handle.id)
    assert escalation.rule == "window_dates_inconsistent"
