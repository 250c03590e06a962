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
from functools import partial
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from tests.workflows.helpers import (
    CUSTOMER,
    OWNER,
    PROVIDER,
    case_row,
    deadlines,
    escalations,
    eventually,
    fired_at,
    in_state,
    notices,
    record_fact,
    seed_reference_contract,
    sent,
    start_case,
    transitions,
    travel_to,
)
from workflows.case import CaseView, CaseWorkflow

UTC = dt.UTC
CLAUSE = "acceptable_use_violation"
FACTS = {
    "violation_notice_received_at": "2038-03-01T14:30:00Z",  # Mon 1 Mar 2038 09:30 EST
    "given_by": "provider",
    "violation_description": "Bulk unsolicited marketing messages sent through the platform",
    "aup_provision": "Exhibit C.1, prohibited activities",
}

CURE_ENDS = dt.datetime(2038, 4, 1, 4, tzinfo=UTC)  # Thu 1 Apr 2038 00:00 EDT
CURE_REMINDER = dt.datetime(2038, 3, 24, 13, tzinfo=UTC)  # Wed 24 Mar 2038 09:00 EDT
DECISION_REMINDER = dt.datetime(2038, 4, 14, 13, tzinfo=UTC)  # Wed 14 Apr 2038 09:00 EDT


@pytest.fixture(autouse=True)
async def _just_after_the_notice(time_env: WorkflowEnvironment) -> None:
    await travel_to(time_env, dt.datetime(2038, 3, 1, 15, tzinfo=UTC))


# record(handle, fact, values): facts in this case are recorded by the Provider's trust & safety.
record = partial(record_fact, by="trust.safety@provider.example.com", reason="test")


async def lapse(env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any]) -> CaseView:
    await handle.execute_update(CaseWorkflow.ready)
    await travel_to(env, CURE_ENDS + dt.timedelta(hours=1))
    view = await in_state(handle, "suspension_right_arisen")
    await eventually(lambda: any(n.notice == "cure_period_lapsed" for n in notices(handle.id)))
    return view


async def test_notice_is_acknowledged_to_the_customer_and_confirmed_to_the_provider(
    worker: Client, task_queue: str
) -> None:
    seed_reference_contract()
    handle = await start_case(worker, task_queue, CLAUSE, FACTS)
    view = await handle.execute_update(CaseWorkflow.ready)
    assert view.state == "cure_period_running"
    assert [d.name for d in view.deadlines] == ["cure_reminder", "cure_period"]
    await eventually(lambda: len(notices(handle.id)) == 2)

    ack = sent(handle.id, "violation_acknowledgement")
    assert ack.to == CUSTOMER and ack.cc == OWNER
    assert "cure by Wed 31 Mar 2038" in ack.subject
    assert "Thu 1 Apr 2038 00:00 New York time" in ack.body_text
    assert "Exhibit C.1, prohibited activities" in ack.body_text
    assert "Section 8 and Exhibit C" in ack.body_html

    confirmation = sent(handle.id, "violation_confirmation")
    assert confirmation.to == PROVIDER and confirmation.cc == OWNER
    assert "Wed 31 Mar 2038" in confirmation.body_text
    assert "may not be suspended or terminated" in confirmation.body_text

    dls = deadlines(handle.id)
    assert dls["cure_period"].last_day == dt.date(2038, 3, 31)
    assert dls["cure_period"].due_at == CURE_ENDS
    assert dls["cure_reminder"].due_at == CURE_REMINDER


async def test_violation_cured_within_cure_period_closes_the_case(
    worker: Client, task_queue: str, time_env: WorkflowEnvironment
) -> None:
    seed_reference_contract()
    handle = await start_case(worker, task_queue, CLAUSE, FACTS)
    await handle.execute_update(CaseWorkflow.ready)
    await travel_to(time_env, dt.datetime(2038, 3, 15, 15, tzinfo=UTC))
    view = await record(
        handle,
        "violation_cured",
        {"evidence": "Campaign stopped and opt-in lists audited", "cured_on": "2038-03-12"},
    )
    assert view.state == "cured" and view.closed
    assert (await handle.result()).state == "cured"

    cured = sent(handle.id, "violation_cured")
    assert cured.to == CUSTOMER + PROVIDER and cured.cc == OWNER
    assert "Campaign stopped" in cured.body_text and "2038-03-12" in cured.body_text
    assert {n.notice for n in notices(handle.id)} == {
        "violation_acknowledgement",
        "violation_confirmation",
        "violation_cured",
    }
    assert {d.status for d in deadlines(handle.id).values()} == {"cancelled"}
    assert escalations(handle.id) == []


async def test_cure_period_lapses_into_suspension_right(
    worker: Client, task_queue: str, time_env: WorkflowEnvironment
) -> None:
    seed_reference_contract()
    handle = await start_case(worker, task_queue, CLAUSE, FACTS)
    view = await lapse(time_env, handle)
    assert not view.closed

    reminder = sent(handle.id, "cure_reminder")
    assert reminder.to == OWNER and fired_at(reminder.created_at, CURE_REMINDER)
    lapsed = sent(handle.id, "cure_period_lapsed")
    # The lapse is notified both ways.
    assert lapsed.to == CUSTOMER + PROVIDER and lapsed.cc == OWNER
    assert fired_at(lapsed.created_at, CURE_ENDS)
    assert "Wed 31 Mar 2038" in lapsed.body_text and "no cure has been recorded" in lapsed.body_text

    [esc] = escalations(handle.id)
    assert esc.rule == "cure_period_lapses_into_suspension_right"
    row = case_row(handle.id)
    assert row is not None and row.escalated and row.state == "suspension_right_arisen"
    assert row.next_deadline_name == "decision_reminder"
    assert row.next_deadline_at == DECISION_REMINDER

    # A cure recorded now comes too late for this case.
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await record(handle, "violation_cured", {"evidence": "late", "cured_on": "2038-04-01"})
    assert "can only be recorded in cure_period_running" in str(info.value.cause)


async def test_suspension_then_restoration_after_a_late_cure(
    worker: Client, task_queue: str, time_env: WorkflowEnvironment
) -> None:
    seed_reference_contract()
    handle = await start_case(worker, task_queue, CLAUSE, FACTS)
    await lapse(time_env, handle)
    view = await record(
        handle, "access_suspended", {"suspended_on": "2038-04-01", "scope": "outbound messaging"}
    )
    assert view.state == "access_suspended" and not view.closed
    assert deadlines(handle.id)["decision_reminder"].status == "cancelled"
    suspended = await eventually(
        lambda: [n for n in notices(handle.id) if n.notice == "access_suspended"]
    )
    assert suspended[0].to == CUSTOMER + PROVIDER
    assert "outbound messaging" in suspended[0].body_text

    # Restored the next day, recorded that day: a restoration cannot be dated ahead of the case.
    await travel_to(time_env, dt.datetime(2038, 4, 2, 16, tzinfo=UTC))
    view = await record(
        handle, "access_restored", {"restored_on": "2038-04-02", "evidence": "Lists purged"}
    )
    assert view.state == "access_restored" and view.closed
    await handle.result()
    assert "Lists purged" in sent(handle.id, "access_restored").body_text
    assert [t.to_state for t in transitions(handle.id)] == [
        "cure_period_running",
        "suspension_right_arisen",
        "access_suspended",
        "access_restored",
    ]
    # No decision reminder went out: the suspension answered it.
    assert not any(n.notice == "decision_reminder" for n in notices(handle.id))


async def test_suspended_access_can_be_terminated(
    worker: Client, task_queue: str, time_env: WorkflowEnvironment
) -> None:
    seed_reference_contract()
    handle = await start_case(worker, task_queue, CLAUSE, FACTS)
    await lapse(time_env, handle)
    await record(handle, "access_suspended", {"suspended_on": "2038-04-01"})
    with pytest.raises(WorkflowUpdateFailedError):
        await record(handle, "right_not_exercised", {"decided_by": "X", "reason": "too late"})
    view = await record(handle, "access_terminated", {"terminated_on": "2038-04-01"})
    assert view.state == "access_terminated" and view.closed
    assert (await handle.result()).state == "access_terminated"
    terminated = sent(handle.id, "access_terminated")
    assert terminated.to == CUSTOMER + PROVIDER and "2038-04-01" in terminated.body_text


async def test_undecided_provider_is_reminded_and_may_take_no_action(
    worker: Client, task_queue: str, time_env: WorkflowEnvironment
) -> None:
    seed_reference_contract()
    handle = await start_case(worker, task_queue, CLAUSE, FACTS)
    await lapse(time_env, handle)
    await travel_to(time_env, DECISION_REMINDER + dt.timedelta(hours=1))
    reminder = await eventually(
        lambda: [n for n in notices(handle.id) if n.notice == "decision_reminder"]
    )
    assert reminder[0].to == OWNER and fired_at(reminder[0].created_at, DECISION_REMINDER)

    view = await record(
        handle,
        "right_not_exercised",
        {"decided_by": "Head of Trust and Safety", "reason": "Campaign ended; lists purged"},
    )
    assert view.state == "no_action_taken" and view.closed
    await handle.result()
    decision = sent(handle.id, "right_not_exercised")
    assert decision.to == CUSTOMER + PROVIDER
    assert "Campaign ended; lists purged" in decision.body_text


async def test_suspension_is_refused_during_the_cure_period(
    worker: Client, task_queue: str
) -> None:
    seed_reference_contract()
    handle = await start_case(worker, task_queue, CLAUSE, FACTS)
    await handle.execute_update(CaseWorkflow.ready)
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await record(handle, "access_suspended", {"suspended_on": "2038-03-01"})
    assert "can only be recorded in suspension_right_arisen" in str(info.value.cause)
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await record(handle, "violation_cured", {"cured_on": "2038-03-01"})
    assert "values.evidence is required" in str(info.value.cause)
    assert (await handle.query(CaseWorkflow.case)).state == "cure_period_running"


async def test_notice_said_to_come_from_the_customer_is_closed_as_opened_in_error(
    worker: Client, task_queue: str
) -> None:
    seed_reference_contract()
    handle = await start_case(worker, task_queue, CLAUSE, {**FACTS, "given_by": "customer"})
    result = await handle.result()
    assert result.state == "opened_in_error"
    assert notices(handle.id) == []
    assert deadlines(handle.id) == {}
    [esc] = escalations(handle.id)
    assert esc.rule == "reject_notice_not_given_by_provider"
    row = case_row(handle.id)
    assert row is not None and row.closed and row.escalated
