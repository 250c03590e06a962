"""The contract workflow: the agreement's own durable process, one per registered contract.

It holds the agreement's legal state (in force, terminating on a date by a route, ended)
and carries the consequences of its end from case to case. Cases stay top-level
workflows: they tell their contract what their rulebook declares (``agreement.emits``)
by signal, and the contract, once the agreement has ended, tells each open case whose
clause does not survive to close (docs/house.md, "The agreement as a whole").

Its workflow id is the contract id. It runs for as long as the contract is registered,
continuing as new when its history grows, and never ends by itself: after the end it
still answers for the surviving clauses.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ChildWorkflowError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.agreement import (
        consequences_of_end,
        consequences_of_event,
        open_case_for_contract,
        record_agreement,
    )
    from activities.types import (
        AgreementEndInput,
        CaseConsequence,
        CaseEventInput,
        OpenCaseInput,
        RecordAgreementInput,
    )
    from rules.rulebook.model import LEGAL_EVENTS
    from workflows.messages import (
        AGREEMENT_ENDED,
        AGREEMENT_EVENT,
        AGREEMENT_QUERY,
        CASE_WORKFLOW,
        CONTRACT_FACT,
        CONTRACT_WORKFLOW,
        ENDED,
        IN_FORCE,
        TERMINATING,
        AgreementEnded,
        AgreementState,
        AgreementView,
        CaseInput,
        ContractEvent,
        ContractFact,
        ContractInput,
    )

_ACTIVITY_TIMEOUT = dt.timedelta(seconds=30)
#: The store may be down for a while: its writes retry for ever, backing off to a minute.
_RETRY = RetryPolicy(maximum_interval=dt.timedelta(minutes=1))
#: Events that changed nothing, kept for the query (the latest).
_IGNORED_KEPT = 20
#: Cases told at once when the agreement ends (each is one command in the history).
_TELL_AT_ONCE = 50


@workflow.defn(name=CONTRACT_WORKFLOW)
class ContractWorkflow:
    @workflow.init
    def __init__(self, inp: ContractInput) -> None:
        self._input = inp
        self._st = inp.state or AgreementState()

    @workflow.run
    async def run(self, inp: ContractInput) -> None:
        st = self._st
        if st.step == 0:
            await self._record("agreement_in_force", "the contract workflow began")
        while True:
            # Terminating: the contract's own clock runs to the end date (the notice's
            # case runs its own, for its notices); nothing else wakes it but its cases.
            ends_at = st.ends_at if st.legal_state == TERMINATING else None
            wait = ends_at - workflow.now() if ends_at is not None else None
            if wait is None or wait > dt.timedelta(0):
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        lambda: bool(st.pending) or self._long(), timeout=wait
                    )
            if st.pending:
                await self._apply(st.pending[0])
                st.pending.pop(0)
            elif ends_at is not None and workflow.now() >= ends_at:
                await self._end("agreement_ended", f"the end date came ({st.route})")
            elif self._long():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(dataclasses.replace(inp, state=st))

    def _long(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > self._input.history_limit
        )

    @workflow.signal(name=AGREEMENT_EVENT)
    def agreement_event(self, ev: ContractEvent) -> None:
        """A case tells the contract what its rulebook declares (``agreement.emits``)."""
        self._st.pending.append(ev)

    @workflow.query(name=AGREEMENT_QUERY)
    def agreement(self) -> AgreementView:
        st = self._st
        return AgreementView(
            self._input.contract_id,
            st.legal_state,
            st.route,
            st.ends_at,
            st.by_case,
            list(st.at_end.values()),
            list(st.not_reached),
            list(st.ignored),
        )

    async def _apply(self, ev: ContractEvent) -> None:
        st = self._st
        if ev.event not in LEGAL_EVENTS:
            await self._pass_on(ev)
            return
        if st.legal_state == ENDED:
            self._ignore(f"{ev.event} from {ev.case_id}: the agreement has already ended")
            return
        if ev.event == "agreement_terminating":
            # Two notices: the one that ends the agreement first decides.
            earlier = st.ends_at is not None and ev.ends_at is not None and st.ends_at <= ev.ends_at
            if st.legal_state == TERMINATING and earlier:
                self._ignore(
                    f"notice in {ev.case_id}: the agreement already ends earlier, by {st.by_case}"
                )
                return
            self._set(TERMINATING, ev)
            await self._record(
                "agreement_terminating", f"notice given in case {ev.case_id} ({ev.route})"
            )
        elif ev.event == "termination_withdrawn":
            if st.legal_state != TERMINATING or st.by_case != ev.case_id:
                self._ignore(f"withdrawal in {ev.case_id}: it was not ending the agreement")
                return
            st.legal_state, st.route, st.ends_at, st.by_case = IN_FORCE, None, None, None
            await self._record(
                "agreement_in_force", f"the termination in {ev.case_id} withdrawn", ev.case_id
            )
        else:
            assert ev.event == "agreement_ended"
            self._set(ENDED, ev)
            await self._end("agreement_ended", f"ended at once in case {ev.case_id} ({ev.route})")

    async def _pass_on(self, ev: ContractEvent) -> None:
        """Another case's news (a maintenance window, say): each open case whose rulebook
        reacts to it records its fact. Cases of surviving clauses hear it after the end."""
        try:
            found = await workflow.execute_activity(
                consequences_of_event,
                CaseEventInput(
                    self._input.contract_id, ev.event, ev.case_id, ev.values, ev.ends_at
                ),
                start_to_close_timeout=_ACTIVITY_TIMEOUT,
                retry_policy=_RETRY,
            )
        except ActivityError as err:  # not the store: a term sheet that cannot be read
            self._ignore(f"{ev.event} from {ev.case_id}: {err.cause or err}")
            return
        if not found:
            self._ignore(f"{ev.event} from {ev.case_id}: no open case reacts to it")
        await self._tell_all(found)

    def _ignore(self, why: str) -> None:
        """Keeps why an event changed nothing: the latest few, so a contract with
        thousands of cases carries a bounded state into each new run."""
        self._st.ignored = [*self._st.ignored[-(_IGNORED_KEPT - 1) :], why]

    def _set(self, legal_state: str, ev: ContractEvent) -> None:
        st = self._st
        st.legal_state, st.route, st.by_case = legal_state, ev.route, ev.case_id
        st.ends_at = ev.ends_at or workflow.now()

    async def _record(self, action: str, reason: str, case_id: str | None = None) -> None:
        """Writes the legal state on the contract row: one step of the agreement."""
        st = self._st
        st.step += 1
        await workflow.execute_activity(
            record_agreement,
            RecordAgreementInput(
                self._input.contract_id,
                st.step,
                st.legal_state,
                st.route,
                st.ends_at,
                st.by_case,
                action,
                reason,
                case_id,
            ),
            start_to_close_timeout=_ACTIVITY_TIMEOUT,
            retry_policy=_RETRY,
        )

    async def _end(self, action: str, reason: str) -> None:
        """The agreement ends: every open case whose clause does not survive is told to
        close, with why."""
        st = self._st
        st.legal_state = ENDED
        await self._record(action, reason)
        assert st.ends_at is not None and st.route is not None and st.by_case is not None
        found = await workflow.execute_activity(
            consequences_of_end,
            AgreementEndInput(self._input.contract_id, st.route, st.ends_at, st.by_case),
            start_to_close_timeout=_ACTIVITY_TIMEOUT,
            retry_policy=_RETRY,
        )
        st.at_end.update((c.case_id, c) for c in found)
        await self._tell_all(found)

    async def _tell_all(self, found: list[CaseConsequence]) -> None:
        """Tells each case what it does (close, record a fact, take an offer), some at a
        time, and opens the cases an event opens; a case that cannot be told (it has
        ended meanwhile) or opened is listed as not reached."""
        for c in (c for c in found if c.action == "open"):
            if self._st.legal_state == ENDED:
                self._ignore(f"{c.clause} not opened: the agreement has ended ({c.reason})")
            else:
                await self._open(c)
        acting = [c for c in found if c.action in ("close", "record", "offer")]
        for start in range(0, len(acting), _TELL_AT_ONCE):
            batch = acting[start : start + _TELL_AT_ONCE]
            told = await asyncio.gather(*(self._tell(c) for c in batch), return_exceptions=True)
            self._st.not_reached += [
                c.case_id for c, t in zip(batch, told, strict=True) if t is not None
            ]

    async def _open(self, c: CaseConsequence) -> None:
        """Writes the case's row, then starts its workflow, which outlives this run."""
        try:
            opened = await workflow.execute_activity(
                open_case_for_contract,
                OpenCaseInput(self._input.contract_id, c.case_id, c.clause, c.values, c.reason),
                start_to_close_timeout=_ACTIVITY_TIMEOUT,
                retry_policy=_RETRY,
            )
            await workflow.start_child_workflow(
                CASE_WORKFLOW,
                CaseInput(
                    opened.case_id,
                    self._input.contract_id,
                    opened.clause,
                    opened.rulebook_version,
                    opened.terms,
                    opened.facts,
                    owner_email=opened.owner_email,
                    lean_from_start=True,
                ),
                id=opened.case_id,
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
        except (ActivityError, ChildWorkflowError, WorkflowAlreadyStartedError) as err:
            # Started before (the same event told again), or its facts do not fit.
            if not isinstance(err, WorkflowAlreadyStartedError):
                self._st.not_reached.append(c.case_id)
                self._ignore(f"{c.clause} not opened: {err.cause or err}")

    async def _tell(self, c: CaseConsequence) -> None:
        st, contract_id = self._st, self._input.contract_id
        handle = workflow.get_external_workflow_handle(c.case_id)
        if c.action == "offer":
            offer = ContractFact(contract_id, "", c.values, c.reason, offer=c.clause)
            await handle.signal(CONTRACT_FACT, offer)
            return
        if c.action == "record":
            assert c.record is not None
            await handle.signal(
                CONTRACT_FACT, ContractFact(contract_id, c.record, c.values, c.reason)
            )
            return
        assert st.route is not None and st.ends_at is not None
        await handle.signal(
            AGREEMENT_ENDED, AgreementEnded(contract_id, st.route, st.ends_at, c.reason)
        )
