"""Building the case worker: the generic workflow and every activity."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from activities import ACTIVITIES, LOCAL_ACTIVITIES
from activities.failures import ActivityFailureInterceptor
from runtime.settings import get_settings
from workers.task_failures import FailureWatchingRunner
from workflows.case import CaseWorkflow


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
