"""Building the case worker: the generic workflow and every activity."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from activities.failures import ActivityFailureInterceptor
from activities.notices import rewrite_held_notice, send_notice
from activities.records import record_step
from activities.rulebooks import compute_deadlines, decide, describe_rulebook
from runtime.settings import get_settings
from workers.task_failures import FailureWatchingRunner
from workflows.case import CaseWorkflow

#: Regular activities, retried by Temporal and run on the worker's thread pool.
ACTIVITIES: list[Callable[..., Any]] = [record_step, send_notice, rewrite_held_notice]
#: Local activities: short and pure, executed in the worker without server round trips.
LOCAL_ACTIVITIES: list[Callable[..., Any]] = [describe_rulebook, decide, compute_deadlines]


def build_worker(client: Client, task_queue: str | None = None, max_threads: int = 16) -> Worker:
    """The case worker: the generic workflow and every activity.

    Activities are synchronous (the store and SendGrid are blocking clients), so
    they run on a thread pool. Failing attempts of a case's activities, and failing
    workflow tasks of its workflow, are kept on its row for the console
    (activities/failures.py, workers/task_failures.py).
    """
    return Worker(
        client,
        task_queue=task_queue or get_settings().temporal_task_queue,
        workflows=[CaseWorkflow],
        activities=[*ACTIVITIES, *LOCAL_ACTIVITIES],
        activity_executor=ThreadPoolExecutor(max_workers=max_threads),
        max_concurrent_activities=max_threads,
        interceptors=[ActivityFailureInterceptor()],
        workflow_runner=FailureWatchingRunner(SandboxedWorkflowRunner()),
    )
