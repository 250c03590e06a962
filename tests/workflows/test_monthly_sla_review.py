"""The monthly SLA review runs month after month in one case and notices each result."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from tests.workflows.helpers import (
    NY,
    deadlines,
    notices,
    record_fact,
    seed_reference_contract,
    start_case,
    travel_to,
)
from workflows.case import CaseWorkflow

CLAUSE = "monthly_sla_review"


@pytest.fixture(autouse=True)
async def _early_november_2037(time_env: WorkflowEnvironment) -> None:
    await travel_to(time_env, dt.datetime(2037, 11, 2, 12, tzinfo=dt.UTC))


async def _record(handle: WorkflowHandle[Any, Any], fact: str, **values: str) -> None:
    await record_fact(handle, fact, values, by="ops@customer.example.com")


async def test_each_month_end_sends_its_own_review_notice(
    worker: Client, task_queue: str, time_env: WorkflowEnvironment
) -> None:
    seed_reference_contract()
    handle = await start_case(worker, task_queue, CLAUSE, {"first_month": "2037-11-01"})
    view = await handle.execute_update(CaseWorkflow.ready)
    month_end = next(d for d in view.deadlines if d.name == "month_end")
    # The review of November is due at the start of 1 December, New York time.
    assert month_end.due_at == dt.datetime(2037, 12, 1, tzinfo=NY)

    # Eight hours down in November, recorded the next day: below target, a credit is due.
    await travel_to(time_env, dt.datetime(2037, 11, 11, 15, tzinfo=dt.UTC))
    await _record(
        handle,
        "downtime_recorded",
        started_at="2037-11-10T14:00:00Z",
        ended_at="2037-11-10T22:00:00Z",
    )
    await travel_to(time_env, dt.datetime(2038, 1, 15, tzinfo=dt.UTC))
    view = await handle.query(CaseWorkflow.case)
    sent = {n.notice_key: n for n in notices(handle.id)}
    assert set(sent) == {
        "service_credit:deadline:month_end:2037-12-01",
        "uptime_report:deadline:month_end:2038-01-01",
    }
    credit = sent["service_credit:deadline:month_end:2037-12-01"]
    assert "November 2037" in credit.subject and "252.40 USD" in credit.subject
    assert "98.8904%" in credit.body_text
    assert credit.to == [
        "legal@customer.example.com",
        "contracts@customer.example.com",
        "notices@provider.example.com",
        "legal@provider.example.com",
    ]
    # December had no downtime: the owner gets the report, no credit.
    report = sent["uptime_report:deadline:month_end:2038-01-01"]
    assert "December 2037" in report.subject and "100.0000%" in report.body_text
    # The next review is the end of January.
    assert deadlines(handle.id)["month_end"].last_day == dt.date(2038, 2, 1)
    assert view.state == "monitoring" and not view.closed


async def test_reviews_end_with_the_agreement(worker: Client, task_queue: str) -> None:
    seed_reference_contract()
    handle = await start_case(worker, task_queue, CLAUSE, {"first_month": "2037-11-01"})
    await handle.execute_update(CaseWorkflow.ready)
    await _record(handle, "review_ended", ended_on="2037-11-30")
    result = await handle.result()
    assert result.state == "ended"
    assert notices(handle.id) == []


async def test_downtime_cannot_be_recorded_once_reviews_ended(
    worker: Client, task_queue: str
) -> None:
    seed_reference_contract()
    handle = await start_case(worker, task_queue, CLAUSE, {"first_month": "2037-11-01"})
    await handle.execute_update(CaseWorkflow.ready)
    await _record(handle, "review_ended", ended_on="2037-11-30")
    # The case has ended: the update finds no running workflow to take it.
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):
        await _record(
            handle,
            "downtime_recorded",
            started_at="2037-11-10T14:00:00Z",
            ended_at="2037-11-10T22:00:00Z",
        )
