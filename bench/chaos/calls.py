"""Temporal calls that outlast the faults: retried through dev server restarts until the
run's deadline, updates sent under a fixed id, and Ctrl-C honoured in every retry loop."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from temporalio.client import WorkflowHandle

T = TypeVar("T")


def stop_if_cancelled() -> None:
    """Raises CancelledError in a task being cancelled (Ctrl-C, SIGTERM).

    The Temporal client can report a cancelled call as an RPCError, which the loops here
    retry: without this check an interrupted run retried until its deadline.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def retrying(call: Callable[[], Awaitable[T]], until: float, what: str) -> T:
    """Retries a Temporal call through server restarts, until the run's deadline."""
    delay = 0.2
    while True:
        try:
            return await call()
        except Exception as exc:
            stop_if_cancelled()
            if time.monotonic() > until:
                raise RuntimeError(f"{what}: {exc}") from exc
            await asyncio.sleep(delay)
            delay = min(delay * 2, 3.0)


async def update_once(
    handle: WorkflowHandle[Any, Any],
    update: Any,
    arg: Any,
    update_id: str,
    applied: Callable[[Any], bool],
    until: float,
) -> None:
    """Sends an update under a fixed id, so a retry after a lost answer is the same update."""
    from temporalio.client import WorkflowUpdateFailedError

    delay = 0.2
    while True:
        try:
            await handle.execute_update(update, arg, id=update_id)
            return
        except WorkflowUpdateFailedError as exc:
            if "try again" not in str(exc.cause):
                raise
        except Exception:
            with contextlib.suppress(Exception):
                from workflows.case import CaseWorkflow

                if applied(await handle.query(CaseWorkflow.case)):
                    return
            stop_if_cancelled()
            if time.monotonic() > until:
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 3.0)
