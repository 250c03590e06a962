"""Building the worker: the generic case workflow, the contract workflow above the cases,
and every activity."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import temporalio.activity
import temporalio.workflow
from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.client import Client
from temporalio.converter import DataConverter, WithSerializationContext
from temporalio.worker import (
    Worker,
    WorkflowInstance,
    WorkflowInstanceDetails,
    WorkflowRunner,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.agreement import (
    consequences_of_end,
    consequences_of_event,
    open_case_for_contract,
    record_agreement,
)
from activities.failures import ActivityFailureInterceptor
from activities.notices import rewrite_held_notice, send_notice
from activities.records import record_step
from activities.rulebooks import compute_deadlines, decide, describe_rulebook, take_step
from activities.steps import hand_over_notice, record_step_and_notices
from rules.rulebook import default_registry
from runtime.settings import get_settings
from runtime.temporal import warm_payload_types
from workers.task_failures import FailureWatchingRunner
from workflows.case import CaseWorkflow
from workflows.contract import ContractWorkflow

#: Regular activities, retried by Temporal and run on the worker's thread pool.
#: (record_step and send_notice, decide and compute_deadlines: for runs that began before
#: one activity a step, workflows/steps.py LEAN_STEPS_PATCH.)
ACTIVITIES: list[Callable[..., Any]] = [
    record_step_and_notices,
    hand_over_notice,
    record_step,
    send_notice,
    rewrite_held_notice,
    record_agreement,
    consequences_of_end,
    consequences_of_event,
    open_case_for_contract,
]
#: The workflows a worker runs: every case, and every contract's own.
WORKFLOWS: list[type] = [CaseWorkflow, ContractWorkflow]
#: Local activities: short and pure, executed in the worker without server round trips.
LOCAL_ACTIVITIES: list[Callable[..., Any]] = [
    describe_rulebook,
    take_step,
    decide,
    compute_deadlines,
]


def takes_no_context(converter: DataConverter) -> bool:
    """Whether encoding a payload is the same whatever workflow or command it is for."""
    return converter.external_storage is None and not isinstance(
        converter.payload_codec, WithSerializationContext
    )


class ContextFreeRunner(WorkflowRunner):
    """Runs workflows in ``inner``, answering "which context is this payload in?" itself.

    The SDK asks a workflow instance that question for every payload it encrypts or
    decrypts, and a sandboxed instance answers by executing code inside its sandbox:
    four such calls for each payload of a completion, 19% of a worker's time. With a
    codec that takes no context and no external storage (``takes_no_context``) the
    answer cannot change what is written, so no context is given and the sandbox is not
    entered.
    """

    def __init__(self, inner: WorkflowRunner) -> None:
        self._inner = inner

    def prepare_workflow(self, defn: temporalio.workflow._Definition) -> None:
        self._inner.prepare_workflow(defn)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _NoContext(self._inner.create_instance(det))

    def set_worker_level_failure_exception_types(self, types: Any) -> None:
        self._inner.set_worker_level_failure_exception_types(types)


class _NoContext(WorkflowInstance):
    def __init__(self, inner: WorkflowInstance) -> None:
        self._inner = inner

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        return self._inner.activate(act)

    def get_serialization_context(self, command_info: Any) -> None:
        return None

    def get_external_store_context(self, command_info: Any) -> Any:
        return None  # unused: the converter has no external storage

    def get_info(self) -> temporalio.workflow.Info:
        return self._inner.get_info()

    def get_thread_id(self) -> int | None:
        return self._inner.get_thread_id()


def payload_types(workflow_classes: list[type], activities: list[Callable[..., Any]]) -> list[Any]:
    """Every type a payload of these workflows and activities is decoded as.

    The SDK's own definitions say which (their ``arg_types`` and ``ret_type``, read from the
    signatures when the workflow class or activity was decorated).
    """
    hints: list[Any] = []
    for cls in workflow_classes:
        defn = temporalio.workflow._Definition.must_from_class(cls)
        handlers: list[Any] = [*defn.signals.values(), *defn.queries.values()]
        for d in [defn, *handlers, *defn.updates.values()]:
            hints += [*(d.arg_types or []), getattr(d, "ret_type", None)]  # signals: none
    for fn in activities:
        act = temporalio.activity._Definition.must_from_callable(fn)
        hints += [*(act.arg_types or []), act.ret_type]
    return hints


def case_runner(converter: DataConverter) -> WorkflowRunner:
    """How cases run: in the sandbox, with their workflow's modules passed through.

    The worker and the replay tests run cases alike. It reads and checks every rulebook
    now (seconds), not in the first cases' activities, and workflow code reads their
    summaries (activities/rulebooks.py ``summarise``).
    """
    default_registry()
    # The sandbox would import workflows/case.py afresh for every case it loads, its
    # classes and dataclasses built again each time; it is passed through, like every
    # module it imports. Its payload types are then not imported inside the sandbox, where
    # pydantic would resolve their annotations: their schemas are built here instead.
    warm_payload_types(payload_types(WORKFLOWS, [*ACTIVITIES, *LOCAL_ACTIVITIES]))
    runner: WorkflowRunner = SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(
            *(w.__module__ for w in WORKFLOWS)
        )
    )
    return ContextFreeRunner(runner) if takes_no_context(converter) else runner


def build_worker(client: Client, task_queue: str | None = None, max_threads: int = 16) -> Worker:
    """The case worker: the generic workflow and every activity.

    Activities are synchronous (the store and SendGrid are blocking clients), so
    they run on a thread pool. Failing attempts of a case's activities, and failing
    workflow tasks of its workflow, are kept on its row for the console
    (activities/failures.py, workers/task_failures.py).
    """
    settings = get_settings()
    runner = case_runner(client.data_converter)
    return Worker(
        client,
        task_queue=task_queue or settings.temporal_task_queue,
        workflows=WORKFLOWS,
        activities=[*ACTIVITIES, *LOCAL_ACTIVITIES],
        activity_executor=ThreadPoolExecutor(max_workers=max_threads),
        max_concurrent_activities=max_threads,
        max_cached_workflows=settings.worker_cached_workflows,
        interceptors=[ActivityFailureInterceptor()],
        workflow_runner=FailureWatchingRunner(runner),
    )
