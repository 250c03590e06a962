"""The hand-written workflow's worker, built as Clauseflow's is (16 activity threads).

    python -m bench.handwritten worker --task-queue Q [--address 127.0.0.1:7233]

Reads DATABASE_URL (the store its activity writes) and PAYLOAD_ENCRYPTION_KEYS
(Clauseflow's data converter, encryption on) from the environment, as `clauseflow
worker` does; stops cleanly on SIGINT or SIGTERM.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from activities.agreement import (
    consequences_of_end,
    consequences_of_event,
    open_case_for_contract,
    record_agreement,
)
from bench._common import worker_command
from bench.handwritten.activities import send_termination_notice
from bench.handwritten.workflow import TerminationWorkflow
from workflows.contract import ContractWorkflow


def build_worker(
    client: Client,
    task_queue: str,
    max_threads: int = 16,
    activities: Sequence[Callable[..., Any]] | None = None,
) -> Worker:
    """The workflow and its activity (``activities`` stand in for it in tests), and the
    contract workflow its cases tell when the throughput bench asks them to; the store
    is a blocking client, so activities run on a thread pool."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[TerminationWorkflow, ContractWorkflow],
        activities=[
            *(activities or [send_termination_notice]),
            record_agreement,
            consequences_of_end,
            consequences_of_event,
            open_case_for_contract,
        ],
        activity_executor=ThreadPoolExecutor(max_workers=max_threads),
        max_concurrent_activities=max_threads,
    )


def _build_loaded(client: Client, task_queue: str) -> Worker:
    from rules.rulebook import default_registry

    default_registry()  # the rulebooks and templates load now, not in the first notice
    return build_worker(client, task_queue)


def main() -> None:
    worker_command("python -m bench.handwritten", __doc__ or "", _build_loaded)
