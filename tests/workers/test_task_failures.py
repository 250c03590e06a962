"""A case whose workflow code keeps failing is kept on its row and shows as stuck.

Temporal retries a failing workflow task for ever and nothing in the case's pending
activities says so; the worker's runner (workers/task_failures.py) writes it onto the
case row, and clears it once a fix is deployed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest
from sqlmodel import Session
from temporalio import workflow
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from api.ops import live_activities, stuck_reasons
from runtime.settings import get_settings
from store.db import get_engine
from store.models import WORKFLOW_TASK, Case
from tests.workflows.helpers import case_row, eventually, open_case
from workers.task_failures import FailureWatchingRunner
from workers.temporal import build_worker
from workflows.case import CaseWorkflow, DeliveryFailure

# A real dev server: the time-skipping one keeps a stopped worker's sticky queue.
pytestmark = pytest.mark.devserver

TERMINATION = {"notice_received_at": "2037-12-01T15:00:00Z", "given_by": "customer"}


@workflow.defn(name="CaseWorkflow")
class ShippedWithoutAPatch:
    """CaseWorkflow as a change that forgot ``workflow.patched`` would run it.

    Its first command is a timer where every recorded case has the rulebook lookup
    first, so no running case replays on it.
    """

    @workflow.run
    async def run(self, inp: dict[str, Any]) -> None:
        await workflow.sleep(dt.timedelta(days=1))

    @workflow.signal
    def delivery_failed(self, failure: dict[str, Any]) -> None:
        pass


def _bad_deploy(client: Client, task_queue: str) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[ShippedWithoutAPatch],
        # Unsandboxed: this test module is no workflow module; the runner wraps either.
        workflow_runner=FailureWatchingRunner(UnsandboxedWorkflowRunner()),
    )


async def test_code_that_no_longer_replays_a_case_shows_it_stuck_until_a_fix_is_deployed(
    dev_env: WorkflowEnvironment, db_url: str, task_queue: str
) -> None:
    client = dev_env.client
    async with build_worker(client, task_queue=task_queue):
        handle = await open_case(client, task_queue, "termination_for_convenience", TERMINATION)
        while (await handle.query(CaseWorkflow.case)).inflight_activities:
            await asyncio.sleep(0.05)  # the acknowledgement goes out: the case waits quietly
    assert case_row(handle.id).failing_activity is None  # type: ignore[union-attr]

    async with _bad_deploy(client, task_queue):
        # Anything that wakes the case makes the new code replay its history.
        await handle.signal(
            CaseWorkflow.delivery_failed,
            DeliveryFailure("acknowledgement:started", "acknowledgement", "bounce", "550"),
        )
        row = await eventually(
            lambda: (c := case_row(handle.id)) and c.failing_activity == WORKFLOW_TASK and c,
            timeout=20,
        )
    assert row.failing_attempts >= 1 and row.failing_since is not None
    assert "nondetermin" in (row.last_failure or "").lower()
    # Temporal's own count of the attempts, for the case page.
    live = await live_activities(client, handle.id)
    assert [a.activity for a in live] == [WORKFLOW_TASK] and live[0].attempt > 1

    # The fix is deployed: the next attempt replays, goes on, and the badge clears.
    async with build_worker(client, task_queue=task_queue):
        await eventually(
            lambda: (c := case_row(handle.id)) and c.failing_activity is None, timeout=30
        )
        # The worker clears the badge as its task succeeds, a moment before the server
        # has recorded that task: until then the server refuses queries.
        for _ in range(100):
            try:
                view = await handle.query(CaseWorkflow.case)
                break
            except RPCError:
                await asyncio.sleep(0.1)
        assert view.state == "notice_period_running"
        # The replayed case goes on with the failed delivery's step; let it finish
        # before this worker stops, or it is left pending for the next one.
        while (await handle.query(CaseWorkflow.case)).inflight_activities:
            await asyncio.sleep(0.05)
    assert (await live_activities(client, handle.id)) == []


async def test_an_exception_in_workflow_code_is_kept_with_its_message(
    dev_env: WorkflowEnvironment, db_url: str, task_queue: str
) -> None:
    client = dev_env.client
    case_id = f"case_{uuid.uuid4().hex}"
    now = dt.datetime.now(dt.UTC)
    async with build_worker(client, task_queue=task_queue):
        # A case started with an input this code cannot read: every task fails decoding it.
        handle = await open_case(client, task_queue, "termination_for_convenience", TERMINATION)
        with Session(get_engine()) as s:
            row = s.get(Case, handle.id)
            assert row is not None
            s.add(Case(**{**row.model_dump(), "id": case_id}))
            s.commit()
        await client.start_workflow(
            "CaseWorkflow", {"case_id": case_id}, id=case_id, task_queue=task_queue
        )
        row = await eventually(
            lambda: (c := case_row(case_id)) and c.failing_activity == WORKFLOW_TASK and c,
            timeout=20,
        )
    assert row.last_failure and "CaseInput" in row.last_failure
    reasons = stuck_reasons(
        Case(**{**row.model_dump(), "failing_attempts": 3}), now, get_settings()
    )
    assert len(reasons) == 1
    assert reasons[0].startswith("the case's workflow code has failed 3 times since ")
    assert row.last_failure in reasons[0] and "must be deployed" in reasons[0]
    # The healthy case on the same worker was never marked.
    assert case_row(handle.id).failing_activity is None  # type: ignore[union-attr]
