"""Records case histories for the replay tests: `python -m tests.histories.record`.

Run it when a change to the workflow or a rulebook is *meant* to produce new
histories (a new rulebook version or a patched workflow). The histories already
committed stand for cases that are live in production: they must keep replaying,
so never re-record them to make a failing replay test pass.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

HERE = Path(__file__).parent
NOTICE = {"notice_received_at": "2037-12-01T15:00:00Z", "given_by": "customer"}


async def _terminated(env: WorkflowEnvironment, queue: str) -> WorkflowHandle[Any, Any]:
    from tests.workflows.helpers import start_case

    handle = await start_case(
        env.client, queue, "termination_for_convenience", NOTICE, case_id="case_replay_terminated"
    )
    await handle.result()
    return handle


async def _withdrawn(env: WorkflowEnvironment, queue: str) -> WorkflowHandle[Any, Any]:
    from tests.workflows.helpers import start_case
    from workflows.case import CaseWorkflow, RecordFactRequest

    handle = await start_case(
        env.client, queue, "termination_for_convenience", NOTICE, case_id="case_replay_withdrawn"
    )
    await handle.execute_update(CaseWorkflow.ready)
    await handle.execute_update(
        CaseWorkflow.record_fact,
        RecordFactRequest(
            "withdrawal_agreed",
            {"customer_signatory": "A", "provider_signatory": "B", "agreed_on": "2037-12-10"},
            "recorder",
            "replay history",
        ),
    )
    await handle.result()
    return handle


async def _monthly_review(env: WorkflowEnvironment, queue: str) -> WorkflowHandle[Any, Any]:
    from tests.workflows.helpers import start_case
    from workflows.case import CaseWorkflow, RecordFactRequest

    handle = await start_case(
        env.client,
        queue,
        "monthly_sla_review",
        {"first_month": "2037-11-01"},
        case_id="case_replay_monthly_review",
    )
    await handle.execute_update(CaseWorkflow.ready)
    await handle.execute_update(
        CaseWorkflow.record_fact,
        RecordFactRequest(
            "downtime_recorded",
            {"started_at": "2037-11-10T14:00:00Z", "ended_at": "2037-11-10T22:00:00Z"},
            "recorder",
        ),
    )
    # Two month ends pass: a credit for November, a report for December.
    await env.sleep(dt.timedelta(days=62))
    await handle.execute_update(
        CaseWorkflow.record_fact,
        RecordFactRequest("review_ended", {"ended_on": "2038-01-31"}, "recorder"),
    )
    await handle.result()
    return handle


Scenario = Callable[[WorkflowEnvironment, str], Awaitable[WorkflowHandle[Any, Any]]]
SCENARIOS: dict[str, Scenario] = {
    "termination_for_convenience.v1.terminated": _terminated,
    "termination_for_convenience.v1.withdrawn": _withdrawn,
    "monthly_sla_review.v1.two_months_then_ended": _monthly_review,
}


async def record(names: list[str]) -> None:
    from store.db import get_engine
    from store.migrate import upgrade
    from store.settings import get_settings
    from tests.workflows.helpers import seed_reference_contract, travel_to
    from workers.temporal import DATA_CONVERTER, build_worker, register_search_attributes

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/record.db"
        get_settings.cache_clear()
        get_engine.cache_clear()
        upgrade(os.environ["DATABASE_URL"])
        seed_reference_contract()
        for name in names:
            env = await WorkflowEnvironment.start_time_skipping(
                data_converter=DATA_CONVERTER,
                test_server_existing_path=str(Path(sys.executable).parent / "temporal-test-server"),
            )
            try:
                await register_search_attributes(env.client)
                await travel_to(env, dt.datetime(2037, 11, 27, 12, tzinfo=dt.UTC))
                async with build_worker(env.client, task_queue="record"):
                    handle = await SCENARIOS[name](env, "record")
                history = await handle.fetch_history()
                path = HERE / f"{name}.json"
                path.write_text(json.dumps(json.loads(history.to_json()), indent=1) + "\n")
                print(f"wrote {path} ({len(history.events)} events)")
            finally:
                await env.shutdown()


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1:] or list(SCENARIOS)))
