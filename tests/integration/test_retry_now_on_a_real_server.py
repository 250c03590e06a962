"""retry_now on the real Temporal server, where an attempt that fails after the cancel
request ends the activity (the time-skipping test server retries it instead)."""

from __future__ import annotations

import datetime as dt

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from activities.failures import retried_activity_id
from tests.dates import notice_days_ago
from tests.support.fixtures import sendgrid_mock_fixture  # noqa: F401  (the sendgrid_mock fixture)
from tests.support.sendgrid_mock import Reply, SendGridMock
from tests.workflows.helpers import (
    audit,
    case_row,
    eventually,
    notices,
    seed_reference_contract,
    start_case,
)
from workers.temporal import build_worker
from workflows.case import CaseWorkflow, RetryNowRequest

pytestmark = pytest.mark.devserver

OLIVIA = "olivia.operator@example.com"


async def test_an_attempt_failing_after_the_retry_does_not_leave_the_case_stuck(
    dev_env: WorkflowEnvironment, db_url: str, task_queue: str, sendgrid_mock: SendGridMock
) -> None:
    """retry_now lets the attempt at SendGrid finish: its failure lands after the retry's
    record has cleared the row, and the send started again clears it at its attempt 1."""
    seed_reference_contract()
    # The first attempt fails at once; the second is at SendGrid for 3 s, then fails.
    sendgrid_mock.script_send(500, Reply(500, delay=3))
    client = dev_env.client
    async with build_worker(client, task_queue=task_queue):
        handle = await start_case(
            client,
            task_queue,
            "termination_for_convenience",
            {"notice_received_at": notice_days_ago(3), "given_by": "customer"},
        )
        await handle.execute_update(CaseWorkflow.ready)
        await eventually(lambda: len(sendgrid_mock.sends) >= 2, timeout=30)
        await handle.execute_update(
            CaseWorkflow.retry_now, RetryNowRequest(OLIVIA, "SendGrid outage is over")
        )
        [ack] = await eventually(
            lambda: [n for n in notices(handle.id) if n.status == "sent"], timeout=30
        )
        assert len(sendgrid_mock.sends_for(ack.id)) == 3
        assert len(sendgrid_mock.accepted_for(ack.id)) == 1  # exactly once

        # The attempt running at the retry failed after the retry was on record ...
        [entry] = audit(handle.id, "retry_now")
        history = await handle.fetch_history()
        failed = [
            e for e in history.events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED
        ]
        assert len(failed) == 1 and failed[0].event_time.ToDatetime(dt.UTC) > entry.at
        # ... and the send started again, under its own id, cleared the case row.
        scheduled = [
            e.activity_task_scheduled_event_attributes.activity_id
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        ]
        assert retried_activity_id("hand_over_notice", 1) in scheduled
        row = await eventually(
            lambda: (r := case_row(handle.id)) and not r.failing_activity and r, timeout=10
        )
        assert row.failing_attempts == 0 and row.last_failure is None
