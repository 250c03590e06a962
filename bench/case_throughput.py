"""Whole termination-for-convenience cases on the real dev server: throughput and latency.

Each case's notice is dated 100 days ago, so every deadline is already due and the
case runs its whole life at once: acknowledgement, three reminders, the termination
notice, six recorded steps. Prints a table; it asserts nothing.

    .venv/bin/python -m bench.case_throughput [N] [CONCURRENCY]
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from temporalio.common import SearchAttributeKey
from temporalio.testing import WorkflowEnvironment


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


async def main(n: int, concurrency: int) -> None:
    tmp = tempfile.mkdtemp(prefix="clauseflow-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.db"
    from sqlmodel import Session, func, select

    from store.db import get_engine
    from store.migrate import upgrade
    from store.models import Notice
    from tests.workflows.helpers import seed_reference_contract, start_case
    from workers.temporal import DATA_CONVERTER, SEARCH_ATTRIBUTES, build_worker

    upgrade(os.environ["DATABASE_URL"])
    seed_reference_contract()
    env = await WorkflowEnvironment.start_local(
        data_converter=DATA_CONVERTER,
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        search_attributes=[SearchAttributeKey.for_keyword(k) for k in SEARCH_ATTRIBUTES],
        dev_server_extra_args=[
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=normal",
        ],
    )
    received = (dt.datetime.now(dt.UTC) - dt.timedelta(days=100)).isoformat()
    facts = {"notice_received_at": received, "given_by": "customer"}
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            t0 = time.perf_counter()
            handle = await start_case(
                env.client,
                "bench",
                "termination_for_convenience",
                facts,
                case_id=f"case_bench_{uuid.uuid4().hex}",
            )
            await handle.result()
            latencies.append(time.perf_counter() - t0)

    try:
        async with build_worker(env.client, task_queue="bench"):
            await asyncio.gather(*(one() for _ in range(min(5, n))))  # warm up
            latencies.clear()
            t0 = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(n)))
            wall = time.perf_counter() - t0
    finally:
        await env.shutdown()
    with Session(get_engine()) as s:
        notices = s.exec(select(func.count()).select_from(Notice)).one()
    print(f"cases {n}, started {concurrency} at a time, dev server with WAL pragmas")
    print(f"{'completions/s':>16} {'p50 s':>8} {'p95 s':>8} {'notices':>8}")
    print(
        f"{n / wall:16.1f} {statistics.median(latencies):8.3f} "
        f"{_pct(latencies, 95):8.3f} {notices:8d}"
    )

    from rules.engine import evaluate

    base = {"clause": "termination_for_convenience", "rulebook_version": 1}
    samples = [
        {**base, "event": "case_started", "state": "opened"},
        {
            **base,
            "event": "deadline_reached",
            "deadline": "reminder_60",
            "deadline_group": "reminder",
            "state": "notice_period_running",
        },
        {
            **base,
            "event": "deadline_reached",
            "deadline": "effective_date",
            "deadline_group": "effective_date",
            "state": "notice_period_running",
        },
    ]
    evaluate(samples[0])
    rounds = 3000
    t0 = time.perf_counter()
    for i in range(rounds):
        evaluate(samples[i % 3])
    per = (time.perf_counter() - t0) / rounds
    print(
        f"rule evaluation: {per * 1e6:.0f} µs per evaluation ({1 / per:,.0f}/s), fresh session each"
    )


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    c = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    asyncio.run(main(n, c))
