"""Termination for convenience as a Temporal developer would write it by hand.

The deadlines are computed here, in workflow code (deterministic: from the input and
``workflow.now()``), the waits are timers, and each notice is one activity that writes
it with its step record. A deadline already passed when the case reaches it is acted on
at once, with no timer, as Clauseflow's ``past_deadlines="as_scheduled"`` does.

The path is the one where the other party gave notice: we acknowledge it, remind our
contract owner three times and report the day the termination takes effect. Our own
notice of termination (held for a person's approval, their acknowledgement awaited) is
not written here; such a case fails at once rather than doing something else.
"""

from __future__ import annotations

import datetime as dt

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from bench.handwritten.activities import send_termination_notice
    from bench.handwritten.deadlines import EFFECTIVE_DATE, termination_deadlines
    from bench.handwritten.shared import (
        WORKFLOW_NAME,
        CaseOpening,
        NoticeInput,
        TerminationInput,
        TerminationResult,
    )
    from workflows.messages import AGREEMENT_EVENT, ContractEvent

RUNNING = "notice_period_running"
TERMINATED = "terminated"
#: As Clauseflow's notices: one attempt may take a minute; retried without limit, so an
#: outage of the store delays a notice and never loses it.
NOTICE_TIMEOUT = dt.timedelta(seconds=60)
NOTICE_RETRY = RetryPolicy(maximum_interval=dt.timedelta(minutes=1))


@workflow.defn(name=WORKFLOW_NAME)
class TerminationWorkflow:
    @workflow.init
    def __init__(self, inp: TerminationInput) -> None:
        self._inp = inp
        self._step = 0
        self._sent: list[str] = []

    @workflow.run
    async def run(self, inp: TerminationInput) -> TerminationResult:
        if inp.given_by == inp.terms.our_side:
            raise ApplicationError(
                "we gave this notice: our notice of termination needs a person's approval,"
                " which this baseline does not cover",
                type="NotCovered",
                non_retryable=True,
            )
        deadlines = termination_deadlines(inp.notice_received_at, inp.terms)
        effective = next(d for d in deadlines if d.name == EFFECTIVE_DATE)
        reminders = sorted(
            (d for d in deadlines if d.name != EFFECTIVE_DATE), key=lambda d: d.due_at
        )
        opening = CaseOpening(
            contract_id=inp.contract_id,
            rulebook_version=inp.rulebook_version,
            opened_at=workflow.now(),
            facts={
                "notice_received_at": inp.notice_received_at.isoformat(),
                "given_by": inp.given_by,
            },
            deadlines=deadlines,
        )
        await self._notice(
            "acknowledgement",
            "acknowledgement:started",
            "acknowledge_termination_notice",
            state=RUNNING,
            from_state="opened",
            opening=opening,
        )
        if inp.contract_workflow is not None:
            # The agreement is terminating on the effective date: its contract's workflow
            # keeps that date (workflows/contract.py), as a developer would signal it.
            terminating = ContractEvent(
                "agreement_terminating", inp.case_id, "convenience", effective.due_at
            )
            await workflow.get_external_workflow_handle(inp.contract_workflow).signal(
                AGREEMENT_EVENT, terminating
            )
        for reminder in reminders:
            await self._until(reminder.due_at)
            await self._notice(
                "owner_reminder",
                f"owner_reminder:{reminder.name}",
                "remind_owner_before_effective_date",
                state=RUNNING,
                reached=reminder.name,
            )
        await self._until(effective.due_at)
        await self._notice(
            "termination_effective",
            "termination_effective:effective_date",
            "termination_takes_effect",
            state=TERMINATED,
            from_state=RUNNING,
            closed=True,
            reached=EFFECTIVE_DATE,
        )
        return TerminationResult(inp.case_id, TERMINATED, self._sent)

    async def _until(self, due: dt.datetime) -> None:
        wait = due - workflow.now()
        if wait > dt.timedelta(0):
            await workflow.sleep(wait)

    async def _notice(
        self,
        notice: str,
        key: str,
        rule: str,
        *,
        state: str,
        from_state: str | None = None,
        closed: bool = False,
        reached: str | None = None,
        opening: CaseOpening | None = None,
    ) -> None:
        self._step += 1
        await workflow.execute_activity(
            send_termination_notice,
            NoticeInput(
                case_id=self._inp.case_id,
                step=self._step,
                notice=notice,
                notice_key=key,
                rule=rule,
                at=workflow.now(),
                state=state,
                from_state=from_state,
                closed=closed,
                reached=reached,
                opening=opening,
            ),
            start_to_close_timeout=NOTICE_TIMEOUT,
            retry_policy=NOTICE_RETRY,
        )
        self._sent.append(key)
