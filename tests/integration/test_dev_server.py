"""End to end on the real `temporal server start-dev`: HTTP in, workflow found by its attributes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlmodel import Session
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from store.auth import create_token
from store.db import get_engine
from tests.dates import notice_days_ago
from tests.workflows.helpers import eventually, notices, seed_reference_contract
from workers.temporal import build_worker

pytestmark = pytest.mark.devserver


@pytest.fixture
async def dev_api(
    dev_env: WorkflowEnvironment, db_url: str, task_queue: str
) -> AsyncIterator[tuple[httpx.AsyncClient, Client]]:
    app = create_app()
    app.state.temporal = dev_env.client
    seed_reference_contract()
    with Session(get_engine()) as session:
        _, token = create_token(session, "integration", "contract_manager", created_by="tests")
        session.commit()
    async with build_worker(dev_env.client, task_queue=task_queue):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://clauseflow.test",
            headers={"Authorization": f"Bearer {token}"},
        ) as c:
            yield c, dev_env.client


async def test_a_case_started_over_http_is_found_by_its_search_attributes(
    dev_api: tuple[httpx.AsyncClient, Client],
) -> None:
    api, client = dev_api
    r = await api.post(
        "/api/contracts/ctr_reference_msa/cases",
        json={
            "clause": "termination_for_convenience",
            # The Provider's notice, a few days ago: its reminders are ahead, so only our
            # acknowledgement goes out.
            "facts": {"notice_received_at": notice_days_ago(3), "given_by": "provider"},
        },
        headers={"Idempotency-Key": "integration-1"},
    )
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]

    query = (
        'ContractId = "ctr_reference_msa" AND Clause = "termination_for_convenience" '
        f'AND WorkflowId = "{case_id}"'
    )
    found: list[str] = []
    for _ in range(100):  # visibility is eventually consistent
        found = [w.id async for w in client.list_workflows(query)]
        if found:
            break
        await asyncio.sleep(0.1)
    assert found == [case_id]

    handle = client.get_workflow_handle(case_id)
    desc = await handle.describe()
    state = next((p.value for p in desc.typed_search_attributes if p.key.name == "CaseState"), None)
    assert state == "notice_period_running"
    await eventually(lambda: notices(case_id))
    assert [n.notice for n in notices(case_id)] == ["acknowledgement"]
    await handle.terminate("integration test done")
