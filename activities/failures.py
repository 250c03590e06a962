"""Keeps a failing activity of a case on its case row, so the console can find stuck cases.

Temporal retries a failing activity without limit (a mail or database outage delays a
case, never loses a step), so a failing case looks alive. The worker's activity
interceptor writes each failed attempt of a case's activity onto the case row:
``failing_activity``, ``failing_attempts`` (Temporal's attempt number),
``failing_since`` (the first failure, kept while it keeps failing), ``last_failure``
(the error's message) and ``last_failure_at``; a success of that activity after a failed
attempt clears them, and so does the record of retry_now, which starts it again at
attempt 1. An attempt that was running when retry_now came in finishes first (it is never
cancelled mid-call) and may fail after that record; the activity started again carries an
id that says so (``retried_activity_id``), and its success clears the row even at
attempt 1.
The case list filters on these columns with an index; the case page reads the live
detail from Temporal itself.

Only regular activities of ``CaseWorkflow`` are tracked (its workflow id is the case
id); a cancellation (retry_now, the case closing) is not a failure, and a non-retryable
error ends the retries (the workflow escalates instead), so it clears them. Writing this is
best effort: a database error is logged and swallowed, so it never masks the
activity's own result or error.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from store.db import session_scope
from store.models import WORKFLOW_TASK, Case

log = logging.getLogger(__name__)

#: The workflow type whose activities are tracked; its workflow id is the case id.
CASE_WORKFLOW = "CaseWorkflow"
#: In the id of an activity that retry_now started again.
_RETRIED = "-retried-"


def retried_activity_id(name: str, n: int) -> str:
    """The id of the ``n``-th activity that retry_now started again in a run."""
    return f"{name}{_RETRIED}{n}"


def is_retried(activity_id: str) -> bool:
    """Whether ``activity_id`` is that of an activity that retry_now started again."""
    return _RETRIED in activity_id


def record_failure(
    case_id: str, activity_name: str, attempt: int, message: str, at: dt.datetime
) -> None:
    """Writes a failed attempt of ``activity_name`` onto the case row."""
    with session_scope() as session:
        case = session.get(Case, case_id)
        if case is None:
            return  # the case's first step is not recorded yet: nothing to show it on
        if case.failing_activity != activity_name or case.failing_since is None:
            case.failing_since = at
        case.failing_activity = activity_name
        case.failing_attempts = attempt
        case.last_failure = message[:2000]
        case.last_failure_at = at
        session.add(case)


def record_workflow_task_failure(case_id: str, message: str, at: dt.datetime) -> None:
    """Writes a failed workflow task onto the case row, counting the attempts.

    Temporal does not give the worker a workflow task's attempt number, so each failure
    this worker sees counts one more.
    """
    with session_scope() as session:
        case = session.get(Case, case_id)
        if case is None:
            return
        if case.failing_activity != WORKFLOW_TASK or case.failing_since is None:
            case.failing_since, case.failing_attempts = at, 0
        case.failing_activity = WORKFLOW_TASK
        case.failing_attempts += 1
        case.last_failure = message[:2000]
        case.last_failure_at = at
        session.add(case)


def clear_failure(case_id: str, activity_name: str) -> None:
    """Clears the case's failure columns if ``activity_name`` was the one failing."""
    with session_scope() as session:
        # A read first: a read takes no write lock.
        case = session.get(Case, case_id)
        if case is None or case.failing_activity != activity_name:
            return
        forget_failure(case)
        session.add(case)


def forget_failure(case: Case) -> None:
    """Empties the case row's failure columns (the caller adds and commits it)."""
    case.failing_activity = None
    case.failing_attempts = 0
    case.failing_since = case.last_failure = case.last_failure_at = None


def _message(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


class _FailureTracking(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        if info.is_local or info.workflow_type != CASE_WORKFLOW or not info.workflow_id:
            return await self.next.execute_activity(input)
        case_id, name = info.workflow_id, info.activity_type
        try:
            result = await self.next.execute_activity(input)
        except CancelledError:
            raise
        except ApplicationError as exc:
            if not exc.non_retryable:
                now = dt.datetime.now(dt.UTC)
                await _best_effort(record_failure, case_id, name, info.attempt, _message(exc), now)
            elif info.attempt > 1:
                # Final: Temporal stops retrying and the workflow takes over (it escalates).
                await _best_effort(clear_failure, case_id, name)
            raise
        except Exception as exc:
            now = dt.datetime.now(dt.UTC)
            await _best_effort(record_failure, case_id, name, info.attempt, _message(exc), now)
            raise
        # A first attempt has no failed attempt before it to clear, so most activities
        # cost no read here; but one that retry_now started again may find the failure of
        # the attempt that was running at the retry.
        if info.attempt > 1 or is_retried(info.activity_id):
            await _best_effort(clear_failure, case_id, name)
        return result


async def _best_effort(fn: Any, *args: Any) -> None:
    # The store is a blocking client: off the worker's event loop.
    try:
        await asyncio.to_thread(fn, *args)
    except Exception:
        log.exception("could not record the activity's outcome on case %s", args[0])


class ActivityFailureInterceptor(Interceptor):
    """Worker interceptor: tracks failing attempts of a case's activities on its row."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        """Wraps every activity execution of the worker."""
        return _FailureTracking(next)
