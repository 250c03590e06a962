"""Keeps a case whose workflow code keeps failing on its case row, like a failing activity.

Only an ``ApplicationError`` fails a workflow. Any other exception in workflow code (a
bug, a rulebook the code cannot handle), or code that no longer replays the case's
history (a change shipped without ``workflow.patched``), fails the workflow *task*, and
Temporal retries it for ever. The case then makes no progress, and nothing in its
pending activities says so: the most silent way a case can be stuck.

:class:`FailureWatchingRunner` wraps the worker's workflow runner. It sees each
activation of a ``CaseWorkflow`` run as it completes, outside the sandbox, and

* a failed activation (an exception in workflow code), or an eviction because the code
  did not replay (nondeterminism) or the task failed around the workflow code (a
  deadlock, a payload that cannot be decoded), writes ``failing_activity =
  "workflow_task"``, the count of failures and the message onto the case row;
* the first new (not replayed) activation that succeeds after the run was loaded
  clears it, so a deployed fix clears the badge on its own.

The list's stuck filter and ``/api/ops/summary`` then count the case as stuck like
any other failing step. The writes run on one background thread: an activation must
not wait for the database (Temporal's deadlock detector allows two seconds), and a
write that fails is logged and dropped, never the workflow task's problem.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import temporalio.converter
import temporalio.workflow
from temporalio.bridge.proto.workflow_activation import RemoveFromCache, WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails, WorkflowRunner

from activities.failures import CASE_WORKFLOW, clear_failure, record_workflow_task_failure
from store.models import WORKFLOW_TASK

log = logging.getLogger(__name__)

_Reason = RemoveFromCache.EvictionReason


class FailureWatchingRunner(WorkflowRunner):
    """A workflow runner that keeps failing workflow tasks of cases on their rows.

    Args:
        inner: The runner that runs the workflows (the SDK's sandboxed runner).
        workflow_types: The workflow types whose id is a case id.
    """

    def __init__(
        self, inner: WorkflowRunner, workflow_types: Collection[str] = (CASE_WORKFLOW,)
    ) -> None:
        self._inner = inner
        self._types = frozenset(workflow_types)
        # One thread: a case's writes stay in the order the activations happened.
        self._writes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="task-failures")

    def prepare_workflow(self, defn: temporalio.workflow._Definition) -> None:
        """Prepares the definition in the inner runner."""
        self._inner.prepare_workflow(defn)

    def set_worker_level_failure_exception_types(
        self, types: Sequence[type[BaseException]]
    ) -> None:
        """Passes the worker's failure exception types to the inner runner."""
        self._inner.set_worker_level_failure_exception_types(types)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        """The inner runner's instance, watched when it runs a case."""
        instance = self._inner.create_instance(det)
        if det.info.workflow_type not in self._types:
            return instance
        return _Watched(instance, det.info.workflow_id, self._submit)

    def _submit(self, fn: Callable[..., None], *args: Any) -> None:
        def write() -> None:
            try:
                fn(*args)
            except Exception:
                log.exception("could not keep the workflow task's outcome on case %s", args[0])

        self._writes.submit(write)


class _Watched(WorkflowInstance):
    def __init__(
        self,
        inner: WorkflowInstance,
        case_id: str,
        submit: Callable[..., None],
    ) -> None:
        self._inner, self._case_id, self._submit = inner, case_id, submit
        self._cleared = False  # one check per loaded run, not one per activation
        self._failed = False

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        completion = self._inner.activate(act)
        now = dt.datetime.now(dt.UTC)
        for job in act.jobs:
            if job.HasField("remove_from_cache"):
                evicted = job.remove_from_cache
                # LANG_FAIL follows a failed activation; it is new only when the failure
                # happened around the workflow code, where activate() could not see it.
                if evicted.reason == _Reason.NONDETERMINISM or (
                    evicted.reason == _Reason.LANG_FAIL and not self._failed
                ):
                    self._submit(record_workflow_task_failure, self._case_id, evicted.message, now)
                return completion
        if completion.HasField("failed"):
            self._failed = True
            message = _message(completion.failed.failure)
            self._submit(record_workflow_task_failure, self._case_id, message, now)
        elif not act.is_replaying and not self._cleared:
            self._cleared = True
            self._submit(clear_failure, self._case_id, WORKFLOW_TASK)
        return completion

    def get_serialization_context(self, command_info: Any) -> Any:
        return self._inner.get_serialization_context(command_info)

    def get_external_store_context(self, command_info: Any) -> Any:
        return self._inner.get_external_store_context(command_info)

    def get_info(self) -> temporalio.workflow.Info:
        return self._inner.get_info()

    def get_thread_id(self) -> int | None:
        return self._inner.get_thread_id()


def _message(failure: Any) -> str:
    """The failure's message and its causes' ("Failed decoding arguments: 5 validation
    errors for CaseInput ..."). With encoded attributes each sits in a payload, not yet
    encrypted: the codec runs after the activation."""
    parts: list[str] = []
    while failure is not None and len(parts) < 5:
        text = failure.message
        if failure.HasField("encoded_attributes"):
            try:
                attrs = temporalio.converter.PayloadConverter.default.from_payload(
                    failure.encoded_attributes
                )
                if isinstance(attrs, dict) and attrs.get("message"):
                    text = str(attrs["message"])
            except Exception:
                log.debug("the failure's encoded attributes could not be read", exc_info=True)
        if text and text not in parts:
            parts.append(text)
        failure = failure.cause if failure.HasField("cause") else None
    return ": ".join(parts) or "the workflow task failed"
