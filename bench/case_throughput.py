"""Clauseflow cases against bare Temporal, on the same dev server in the same run.

(a) Whole termination-for-convenience cases: each case's notice is dated 100 days
ago, so every deadline is already due and the case runs its whole life at once
(acknowledgement, three reminders, the termination notice, six recorded steps), with
the rules engine, the store (SQLite, WAL) and the notice outbox all in the loop.

(b) The floor: `bench.bare_workflow.BareWorkflow`, a workflow that runs the same number
of local activities, regular activities and timers, in the same order, as one Clauseflow
case records. They are counted from that case's history, not guessed: one
MARKER_RECORDED event per local activity, one ACTIVITY_TASK_SCHEDULED per regular
activity, one TIMER_STARTED per timer.

Both run on one dev server, with workers built the same way (16-thread activity pool),
started CONCURRENCY at a time, and both clients use Clauseflow's encrypting data
converter (`workers.temporal.data_converter`, a key generated for the run), so
encryption costs the same on both sides. Prints a table; it asserts nothing.

    .venv/bin/python -m bench.case_throughput [--cases 200] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from temporalio.api.enums.v1 import EventType

from bench._common import DevServer, pct, use_generated_payload_key
from bench.bare_workflow import BareWorkflow, Shape, build_bare_worker

_KINDS = {
    EventType.EVENT_TYPE_MARKER_RECORDED: "L",
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: "A",
    EventType.EVENT_TYPE_TIMER_STARTED: "T",
}


async def shape_of(handle: Any) -> Shape:
    """Counts a finished workflow's local activities, activities and timers in its history."""
    history = await handle.fetch_history()
    order = "".join(_KINDS[e.event_type] for e in history.events if e.event_type in _KINDS)
    return Shape(order.count("L"), order.count("A"), order.count("T"), order)


async def _run(
    n: int, concurrency: int, one: Callable[[], Awaitable[None]], latencies: list[float]
) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def gated() -> None:
        async with gate:
            t0 = time.perf_counter()
            await one()
            latencies.append(time.perf_counter() - t0)

    await asyncio.gather(*(gated() for _ in range(min(5, n))))  # warm up
    latencies.clear()
    t0 = time.perf_counter()
    await asyncio.gather(*(gated() for _ in range(n)))
    return time.perf_counter() - t0


async def main(n: int, concurrency: int) -> None:
    tmp = tempfile.mkdtemp(prefix="clauseflow-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.db"
    key_id = use_generated_payload_key()
    from sqlmodel import Session, func, select

    from runtime.temporal import data_converter
    from store.db import get_engine
    from store.migrate import upgrade
    from store.models import Notice
    from tests.workflows.helpers import seed_reference_contract, start_case
    from workers.temporal import build_worker

    upgrade(os.environ["DATABASE_URL"])
    seed_reference_contract()
    server = DevServer()
    client = await server.connect(data_converter())
    # Received 100 days ago so that a whole case runs at once; said so explicitly, since a
    # case told late otherwise skips its reminders and holds its notices for a person.
    received = (dt.datetime.now(dt.UTC) - dt.timedelta(days=100)).isoformat()
    facts = {"notice_received_at": received, "given_by": "customer"}
    last: list[Any] = []

    async def clauseflow_case() -> None:
        handle = await start_case(
            client,
            "bench",
            "termination_for_convenience",
            facts,
            case_id=f"case_bench_{uuid.uuid4().hex}",
            past_deadlines="as_scheduled",
        )
        await handle.result()
        last[:] = [handle]

    shape = Shape(0, 0, 0)

    async def bare() -> None:
        await client.execute_workflow(
            BareWorkflow.run, shape, id=f"bare_{uuid.uuid4().hex}", task_queue="bench-bare"
        )

    results: dict[str, tuple[float, list[float]]] = {}
    try:
        async with build_worker(client, task_queue="bench"):
            lat: list[float] = []
            wall = await _run(n, concurrency, clauseflow_case, lat)
            results["Clauseflow case"] = (wall, lat)
            shape = await shape_of(last[0])
        async with build_bare_worker(client, task_queue="bench-bare"):
            lat = []
            wall = await _run(n, concurrency, bare, lat)
            results["bare Temporal"] = (wall, lat)
    finally:
        server.stop()
    with Session(get_engine()) as s:
        notices = s.exec(select(func.count()).select_from(Notice)).one()

    print(
        f"case throughput: {n} cases each side, started {concurrency} at a time, one dev server"
        " (WAL pragmas), one worker each"
    )
    print(
        f"payloads encrypted on both sides (workers.temporal.data_converter, key {key_id});"
        f" Clauseflow store: SQLite; notices in the outbox: {notices}"
    )
    print(
        f"per case (from a Clauseflow case's history): {shape.local_activities} local activities,"
        f" {shape.activities} activities, {shape.timers} timers; order {shape.order}"
    )
    print(f"{'':18} {'completions/s':>14} {'p50 s':>8} {'p95 s':>8}")
    for name, (wall, lat) in results.items():
        print(f"{name:18} {n / wall:14.1f} {statistics.median(lat):8.3f} {pct(lat, 95):8.3f}")
    (cw, cl), (bw, bl) = results["Clauseflow case"], results["bare Temporal"]
    print(
        f"{'ratio (bare/case)':18} {(n / bw) / (n / cw):14.2f}"
        f" {statistics.median(cl) / statistics.median(bl):8.2f}"
        f" {pct(cl, 95) / pct(bl, 95):8.2f}   (throughput: bare÷case; latency: case÷bare)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200, help="cases on each side")
    parser.add_argument("--concurrency", type=int, default=50, help="started at a time")
    args = parser.parse_args()
    asyncio.run(main(args.cases, args.concurrency))
