"""The hand-written workflow's worker, built as Clauseflow's is (16 activity threads).

    python -m bench.handwritten worker --task-queue Q [--address 127.0.0.1:7233]

Reads DATABASE_URL (the store its activity writes) and PAYLOAD_ENCRYPTION_KEYS
(Clauseflow's data converter, encryption on) from the environment, as `clauseflow
worker` does; stops cleanly on SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from bench.handwritten.activities import send_termination_notice
from bench.handwritten.workflow import TerminationWorkflow


def build_worker(
    client: Client,
    task_queue: str,
    max_threads: int = 16,
    activities: Sequence[Callable[..., Any]] | None = None,
) -> Worker:
    """The workflow and its activity (``activities`` stand in for it in tests); the store
    is a blocking client, so activities run on a thread pool."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[TerminationWorkflow],
        activities=list(activities or [send_termination_notice]),
        activity_executor=ThreadPoolExecutor(max_workers=max_threads),
        max_concurrent_activities=max_threads,
    )


async def run(address: str, task_queue: str) -> None:
    from rules.rulebook import default_registry
    from runtime.temporal import data_converter

    default_registry()  # the rulebooks and templates load now, not in the first notice
    client = await Client.connect(address, data_converter=data_converter())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with build_worker(client, task_queue):
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.handwritten", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    worker = sub.add_parser("worker", help="poll a task queue until SIGINT or SIGTERM")
    worker.add_argument("--task-queue", required=True)
    worker.add_argument("--address", default="127.0.0.1:7233", help="Temporal frontend")
    args = parser.parse_args(argv)
    from workers.procs import end_without_teardown

    # The SDK's threads can abort (SIGABRT) a Python that tears itself down.
    end_without_teardown(lambda: asyncio.run(run(args.address, args.task_queue)))
