"""An update whose RPC times out (Temporal's WorkflowUpdateRPCTimeoutOrCancelledError) is
answered as documented, never as a 500: an action is a 504 that says to check the case,
a start is a 202 with the case as it stands (issue 12)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateRPCTimeoutOrCancelledError

from api import case_start
from runtime.settings import get_settings
from tests.api.helpers import CASES_URL, open_case
from tests.dates import notice_days_ago
from tests.workflows.helpers import case_row


def updates_time_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every update's RPC times out before the workflow answers."""

    async def times_out(self: WorkflowHandle[Any, Any], *args: Any, **kwargs: Any) -> Any:
        raise WorkflowUpdateRPCTimeoutOrCancelledError()

    monkeypatch.setattr(WorkflowHandle, "execute_update", times_out)


async def test_an_action_whose_update_times_out_is_a_504_saying_check_the_case(
    api: httpx.AsyncClient, worker: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = (await open_case(api, "slow-worker"))["id"]
    updates_time_out(monkeypatch)
    r = await api.post(
        f"/api/cases/{case_id}/owner",
        json={"owner_email": "dana@customer.example.com", "reason": "Dana covers this month"},
    )
    assert r.status_code == 504, r.text
    detail = r.json()["detail"]
    assert detail.startswith(f"case {case_id} did not answer within 20 s")
    assert detail.endswith("check the case before repeating it")


async def test_a_start_whose_first_step_update_times_out_is_a_202_with_the_case(
    api: httpx.AsyncClient, worker: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No worker polls this queue, so the case stays at its opening until the test ends.
    monkeypatch.setenv("TEMPORAL_TASK_QUEUE", f"nobody-polls-{uuid.uuid4().hex[:8]}")
    monkeypatch.setattr(case_start, "START_WAIT", dt.timedelta(seconds=30))
    get_settings.cache_clear()
    start_and_ask = Client.execute_update_with_start_workflow

    async def rpc_times_out(self: Client, *args: Any, **kwargs: Any) -> Any:
        # The real request, with an RPC deadline shorter than the server's own wait.
        return await start_and_ask(
            self, *args, **{**kwargs, "rpc_timeout": dt.timedelta(seconds=1)}
        )

    monkeypatch.setattr(Client, "execute_update_with_start_workflow", rpc_times_out)
    r = await api.post(
        CASES_URL,
        json={
            "clause": "termination_for_convenience",
            "facts": {"notice_received_at": notice_days_ago(1), "given_by": "customer"},
        },
        headers={"Idempotency-Key": "update-rpc-timeout"},
    )
    assert r.status_code == 202, r.text
    assert r.json()["state"] == "opened"
    assert case_row(r.json()["id"]) is not None
