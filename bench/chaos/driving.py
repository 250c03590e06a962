"""Driving the cases: each case started, its facts recorded once it is in the state for
them, its held notices approved, then waited on until it ends, through every fault."""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.exceptions import WorkflowAlreadyStartedError

from bench.chaos.calls import retrying, stop_if_cancelled, update_once
from bench.chaos.scenarios import Scenario


@dataclass
class Outcome:
    case_id: str
    scenario: Scenario
    done: bool = False
    problem: str | None = None
    seconds: float = 0.0


@dataclass
class CaseDriver:
    """Drives cases on the run's task queue, ``gate`` at a time, until the run's deadline."""

    client: Client
    queue: str
    terms: Any
    args: argparse.Namespace
    t0: float
    until: float
    gate: asyncio.Semaphore

    async def wait_for(
        self, handle: WorkflowHandle[Any, Any], ok: Callable[[Any], bool], what: str
    ) -> Any:
        """The case's view once ``ok`` holds for it, queried every ``--poll`` seconds."""
        from workflows.case import CaseWorkflow

        while True:
            try:
                view = await handle.query(CaseWorkflow.case)
                if ok(view):
                    return view
            except Exception:
                stop_if_cancelled()
            if time.monotonic() > self.until:
                raise RuntimeError(f"timed out waiting for {what}")
            await asyncio.sleep(self.args.poll)

    async def _start(self, o: Outcome) -> WorkflowHandle[Any, Any]:
        """Starts the case's workflow, or finds it started by an attempt whose answer was lost."""
        from workflows.case import CaseInput, CaseWorkflow

        s, args = o.scenario, self.args
        # The path's own side: the same rulebook runs for the Customer or the Provider.
        terms = self.terms.model_copy(update={"our_side": s.our_side})
        try:
            return await self.client.start_workflow(
                CaseWorkflow.run,
                CaseInput(
                    case_id=o.case_id,
                    contract_id="ctr_reference_msa",
                    clause=s.clause,
                    rulebook_version=s.version,
                    terms=terms.model_dump(mode="json"),
                    facts=s.facts,
                    owner_email=terms.owner.email,
                    lean_from_start=True,  # as the API starts a case
                    notice_timeout_seconds=args.notice_timeout,
                    record_timeout_seconds=args.record_timeout,
                    notice_retry_max_seconds=args.notice_retry_max,
                    # Cases are opened in the past on purpose, so that
                    # their deadlines fire during the run: said so.
                    past_deadlines="as_scheduled",
                ),
                id=o.case_id,
                task_queue=self.queue,
            )
        except WorkflowAlreadyStartedError:
            return self.client.get_workflow_handle(o.case_id)

    async def drive(self, o: Outcome) -> None:
        """Takes one case to its end state; what stopped it, if anything, goes in ``o``."""
        from workflows.case import ApproveNoticeRequest, CaseWorkflow, RecordFactRequest

        args, until = self.args, self.until
        s = o.scenario
        async with self.gate:
            try:
                handle = await retrying(lambda: self._start(o), until, f"start {o.case_id}")
                for n, step in enumerate(s.steps):
                    later = {st.when for st in s.steps[n + 1 :]} | {s.end_state}
                    view = await self.wait_for(
                        handle,
                        _in_or_past(step.when, later),
                        f"{o.case_id} to reach {step.when}",
                    )
                    if view.state != step.when:
                        continue  # a retried update already took it further
                    request = RecordFactRequest(step.fact, step.values, "chaos@example.com")
                    await update_once(
                        handle,
                        CaseWorkflow.record_fact,
                        request,
                        f"{o.case_id}-{step.fact}",
                        _left(step.when),
                        until,
                    )
                if s.approve_held:
                    view = await self.wait_for(
                        handle, lambda v: bool(v.held_notices), f"{o.case_id} held notice"
                    )
                    for key in view.held_notices:
                        await update_once(
                            handle,
                            CaseWorkflow.approve_notice,
                            ApproveNoticeRequest(key, "counsel@customer.example.com"),
                            f"{o.case_id}-approve-{key}",
                            _released(key),
                            until,
                        )
                if s.closed:
                    while True:
                        try:
                            await handle.result()
                            break
                        except Exception:
                            stop_if_cancelled()
                            if time.monotonic() > until:
                                raise
                            await asyncio.sleep(args.poll)
                else:
                    await self.wait_for(
                        handle,
                        lambda v: v.state == s.end_state,
                        f"{o.case_id} to reach {s.end_state}",
                    )
                o.done = True
                o.seconds = time.monotonic() - self.t0
            except Exception as exc:
                stop_if_cancelled()
                cause = getattr(exc, "cause", None)
                o.problem = f"{type(exc).__name__}: {exc}" + (f" ({cause})" if cause else "")


def _in_or_past(state: str, later: set[str]) -> Callable[[Any], bool]:
    return lambda v: v.state in later or (v.state == state and not v.closed)


def _left(state: str) -> Callable[[Any], bool]:
    return lambda v: v.state != state


def _released(key: str) -> Callable[[Any], bool]:
    return lambda v: key not in v.held_notices
