"""The generic case workflow: runs one clause of one contract by its rulebook.

The workflow holds the case's time and state. On every event (the case starting, a
deadline being reached, a fact being recorded) it asks the pinned rulebook version
which decisions follow, applies them (transition, set or cancel deadlines, notices,
escalation, close) and has activities record them. It is deterministic and does no
I/O itself.

The house of the workflow, one kind of thing a room:

- workflows/messages.py: its input, state, view and requests, and its names (what the
  API uses, without loading the workflow);
- workflows/case.py (here): the main loop, the query, the updates and the signal;
- workflows/steps.py: decision application, one event at a time;
- workflows/operator.py: operator actions and why the case refuses one;
- workflows/late_facts.py: pure rules about facts recorded, and facts told late.

Operators act on a running case through updates, each with a validator whose
ValueError message the API shows them: ``retry_now``, and from one table
``resolve_escalation``, ``amend_deadline`` and ``decide_amendment`` (a second person
approves by default), ``close_case``, ``reassign_owner`` and ``revise_held_notice``.
Except ``retry_now``, which acts on the activities in flight, each is queued and
carried out by the main loop as one step of the case, which ``record_step`` writes with
an audit entry (who, why, before, after) keyed ``"{case_id}:{step}:{action}"``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from typing import Any, cast

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    # This module is passed through as well (workers/temporal.py build_worker): the
    # sandbox runs what the worker imported once, and its payload schemas are built there.
    from activities.rulebooks import describe_rulebook, summarise
    from activities.types import AuditView, DeadlineView, DescribeRulebookInput
    from rules.rulebook import COULD_NOT_START, COULD_NOT_START_LABEL
    from workflows.late_facts import refusal_of_fact
    from workflows.messages import (
        AGREEMENT_ENDED,
        CASE_WORKFLOW,
        CLOSED_FROM_OUTSIDE,
        CONTRACT_FACT,
        ENDED_WITH_AGREEMENT,
        AgreementEnded,
        AmendDeadlineRequest,
        ApproveNoticeRequest,
        CaseInput,
        CaseResult,
        CaseState,
        CaseUpdate,
        CaseView,
        CloseCaseRequest,
        ContractFact,
        DecideAmendmentRequest,
        DeliveryFailure,
        ReassignOwnerRequest,
        RecordFactRequest,
        ResolveEscalationRequest,
        RetryNowRequest,
        ReviseHeldNoticeRequest,
    )
    from workflows.operator import OperatorActions
    from workflows.recording import LEAN_STEPS_PATCH, LOCAL_TIMEOUT, Changes, Event
    from workflows.steps import scalar_values


#: Cases read their rulebook's summary in workflow code (activities/rulebooks.py
#: ``summarise``) and take one activity a step; runs that began before replay the
#: summary's local activity, and ask LEAN_STEPS_PATCH.
SUMMARY_IN_CODE_PATCH = "rulebook-summary-in-code"


def _operator_action(
    update: CaseUpdate, request_type: type[Any], doc: str
) -> workflow.UpdateMethodMultiParam[[Any, Any], CaseView]:
    """One operator action's update and its validator (OperatorActions._validate_action)."""

    async def carry_out(self: CaseWorkflow, request: Any) -> CaseView:
        ev = await self._carry_out(request)
        view = self.case()
        view.amendment_id = ev.result  # set by amend_deadline only
        return view

    def validate(self: CaseWorkflow, request: Any) -> None:
        self._validate_action(request)

    # Temporal reads the request's type from the annotations to decode the payload.
    for fn in (carry_out, validate):
        fn.__annotations__ = {"request": request_type, "return": None}
    carry_out.__annotations__["return"] = CaseView
    carry_out.__name__ = carry_out.__qualname__ = update.value
    carry_out.__doc__ = doc
    handler = workflow.update(name=update.value)(carry_out)
    handler.validator(validate)
    # Typed as callers see it: an update of the case that answers its view.
    return cast(workflow.UpdateMethodMultiParam[[Any, Any], CaseView], handler)


@workflow.defn(name=CASE_WORKFLOW)
class CaseWorkflow(OperatorActions):
    """Interprets a clause's rulebook for the life of one case."""

    @workflow.init
    def __init__(self, inp: CaseInput) -> None:
        # The input is known before the first handler runs, even one that comes first.
        super().__init__(inp)

    # -- the main loop -------------------------------------------------------------

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseResult:
        self._input = inp
        # Once, first: a run either began before the lean steps or takes them throughout.
        # A run since the summary in code takes them too, with one patch marker (each
        # marker also costs an upsert of Temporal's own search attribute).
        if inp.lean_from_start:  # its input says so: no patch to ask
            in_code = self._lean = True
        else:
            in_code = workflow.patched(SUMMARY_IN_CODE_PATCH)
            self._lean = in_code or workflow.patched(LEAN_STEPS_PATCH)
        if inp.state is None:
            about = DescribeRulebookInput(inp.clause, inp.rulebook_version)
            if in_code:
                summary = summarise(about)
            else:
                summary = await workflow.execute_local_activity(
                    describe_rulebook, about, start_to_close_timeout=LOCAL_TIMEOUT
                )
            self._st = CaseState(
                summary=summary,
                opened_at=workflow.now(),
                facts=dict(inp.facts),
                owner_email=inp.owner_email,
                escalations_tracked=True,
            )
            await self._take_step(Event("case_started", "started"))
        else:
            self._st = inp.state
            if self._st.owner_email is None:
                self._st.owner_email = inp.owner_email
            self._ready = True
        st = self._st
        # A closed case still waits for its held notices to be approved and sent.
        while not st.closed or st.held_notices:
            if not self._queue and self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if not self._queue:
                    # The same input, and the state so far: a new field can't be left out.
                    workflow.continue_as_new(dataclasses.replace(inp, state=st))
            due = self._next_deadline()
            timeout = None if due is None else due.due_at - workflow.now()
            if timeout is None or timeout > dt.timedelta(0):
                # A timeout means the deadline came before any event; both are handled below.
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(lambda: bool(self._queue), timeout=timeout)
            if self._queue:
                ev = self._queue[0]
                await (self._operate(ev) if ev.action is not None else self._take_step(ev))
                self._queue.pop(0).done = True
            elif due is not None and workflow.now() >= due.due_at:
                # The key names the occurrence: a recurring deadline is reached again
                # and again, and each time may send its own notice.
                when = due.last_day.isoformat() if due.last_day else due.due_at.isoformat()
                await self._take_step(
                    Event(
                        "deadline_reached",
                        f"deadline:{due.name}:{when}",
                        {"deadline": due.name, "deadline_group": due.group},
                    )
                )
        # Let update callers see the final state before the run ends.
        await workflow.wait_condition(workflow.all_handlers_finished)
        return CaseResult(inp.case_id, st.state, workflow.now())

    def _should_continue_as_new(self) -> bool:
        assert self._input is not None
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > self._input.history_limit
        )

    def _next_deadline(self) -> DeadlineView | None:
        assert self._st is not None
        pending = [d for d in self._st.deadlines.values() if d.status == "pending"]
        return min(pending, key=lambda d: (d.due_at, d.name)) if pending else None

    # -- queries and updates -----------------------------------------------------------

    @workflow.query
    def case(self) -> CaseView:
        """The case's legal state, deadlines, notices and escalations."""
        inp, st = self._input, self._st
        if inp is None or st is None:
            raise ApplicationError("case is starting")
        if st.state in st.summary.states:
            label = st.summary.states[st.state].label
        elif st.state == COULD_NOT_START:
            label = COULD_NOT_START_LABEL
        else:
            label = CLOSED_FROM_OUTSIDE.get(st.state, st.state)
        return CaseView(
            case_id=inp.case_id,
            contract_id=inp.contract_id,
            clause=inp.clause,
            rulebook_version=inp.rulebook_version,
            state=st.state,
            state_label=label,
            closed=st.closed,
            step=st.step,
            facts=st.facts,
            deadlines=sorted(st.deadlines.values(), key=lambda d: (d.due_at, d.name)),
            notices=list(st.notices),
            escalations=list(st.escalations),
            held_notices=list(st.held_notices),
            owner_email=st.owner_email,
            open_escalations=list(st.open_escalations),
            pending_amendments=[a for a in st.amendments.values() if a.status == "pending"],
            inflight_activities=[f.name for f in self._inflight],
        )

    @workflow.update
    async def retry_now(self, request: RetryNowRequest) -> CaseView:
        """Retries the case's in-flight activities now, as new activities at attempt 1.

        An attempt that is running is allowed to finish (never duplicated); one waiting
        out its retry backoff is cancelled at once and started again.
        """
        st = self._st
        assert st is not None
        flights = list(self._inflight)
        names = [f.name for f in flights]
        for flight in flights:
            flight.restart = True
            flight.handle.cancel()
        # Recorded on its own step while the step that is in flight stays unrecorded.
        st.step += 1
        await self._record(
            st.step,
            Event("retry_now", f"retry_now:{st.step}"),
            {"event": "retry_now"},
            [],
            None,
            [],
            Changes(
                AuditView(
                    "retry_now",
                    request.actor,
                    request.reason,
                    before={"state": st.state, "activities": names},
                    after={"state": st.state, "restarted": names},
                )
            ),
            audit_only=True,
        )
        return self.case()

    @retry_now.validator
    def _validate_retry_now(self, request: RetryNowRequest) -> None:
        if self._st is None or not self._ready:
            raise ValueError("the case is still starting; try again in a moment")
        if not request.actor.strip():
            raise ValueError("actor must name who retries")
        if not request.reason.strip():
            raise ValueError("a reason is required: say why, for the audit trail")
        if not self._inflight:
            raise ValueError(
                "nothing to retry: no activity of this case is running or waiting to retry"
            )

    # The operator actions, from one table: each update is carried out by the main loop
    # as one step of the case and refused, before it is accepted, by one validator.
    resolve_escalation = _operator_action(
        CaseUpdate.RESOLVE_ESCALATION, ResolveEscalationRequest, "Resolves an open escalation."
    )
    amend_deadline = _operator_action(
        CaseUpdate.AMEND_DEADLINE,
        AmendDeadlineRequest,
        "Proposes moving a deadline (at once without a second approver); the answer's "
        "amendment_id names the new amendment.",
    )
    decide_amendment = _operator_action(
        CaseUpdate.DECIDE_AMENDMENT,
        DecideAmendmentRequest,
        "Approves (the deadline and its timer move) or rejects a pending amendment.",
    )
    close_case = _operator_action(
        CaseUpdate.CLOSE_CASE,
        CloseCaseRequest,
        "Closes the case as withdrawn or cancelled: deadlines stop, held notices are dropped.",
    )
    reassign_owner = _operator_action(
        CaseUpdate.REASSIGN_OWNER,
        ReassignOwnerRequest,
        "Hands the case to another owner; later notices to the owner go to them.",
    )
    revise_held_notice = _operator_action(
        CaseUpdate.REVISE_HELD_NOTICE,
        ReviseHeldNoticeRequest,
        "Corrects the facts a held notice was written from; it is written again, still held.",
    )

    @workflow.update
    async def ready(self) -> CaseView:
        """Waits until the case's first step is decided and recorded, then returns it."""
        await workflow.wait_condition(lambda: self._ready)
        return self.case()

    @workflow.update
    async def approve_notice(self, request: ApproveNoticeRequest) -> CaseView:
        """Releases a held notice: it is sent as it was rendered and previewed."""
        ev = Event(
            "notice_approved",
            f"approved:{request.notice_key}",
            {"notice": self._st.held_notices[request.notice_key].notice} if self._st else {},
            approval=request,
        )
        self._queue.append(ev)
        await workflow.wait_condition(lambda: ev.done)
        return self.case()

    @approve_notice.validator
    def _validate_approve_notice(self, request: ApproveNoticeRequest) -> None:
        st = self._st
        if st is None or request.notice_key not in st.held_notices:
            held = ", ".join(st.held_notices) if st else ""
            raise ValueError(
                f"no notice {request.notice_key!r} is waiting for approval"
                + (f" (waiting: {held})" if held else "")
            )
        if not request.approved_by.strip():
            raise ValueError("approved_by must name who approves the notice")
        if any(e.approval and e.approval.notice_key == request.notice_key for e in self._queue):
            raise ValueError(f"notice {request.notice_key!r} is already being approved")
        if any(isinstance(e.action, CloseCaseRequest) for e in self._queue):
            raise ValueError("the case is being closed; its held notices are discarded")

    @workflow.signal
    def delivery_failed(self, failure: DeliveryFailure) -> None:
        """The provider could not deliver a notice; the rules decide (escalate by default)."""
        if self._st is None or self._st.closed:
            return
        # The provider retries its webhooks: one failure of one notice is handled once.
        key = f"{failure.notice_key}:{failure.event}"
        if key in self._st.delivery_failures:
            return
        self._st.delivery_failures.append(key)
        self._queue.append(
            Event(
                "notice_failed",
                f"notice_failed:{failure.notice_key}:{failure.event}",
                {"notice": failure.notice, "delivery_event": failure.event},
                failure=failure,
            )
        )

    @workflow.signal(name=AGREEMENT_ENDED)
    def agreement_ended(self, ended: AgreementEnded) -> None:
        """The contract says the agreement has ended and this clause does not survive it:
        the case closes as an operator's close would (deadlines stop, held notices are
        discarded and listed), with the contract's reason."""
        st = self._st
        if st is None or st.closed:
            return
        if any(isinstance(e.action, CloseCaseRequest) for e in self._queue):
            return  # closing already; the first close says why
        close = CloseCaseRequest(
            ENDED_WITH_AGREEMENT, f"contract {ended.contract_id}", ended.reason, by_contract=True
        )
        self._queue.append(Event("agreement_ended", "agreement_ended", action=close))

    @workflow.signal(name=CONTRACT_FACT)
    def contract_fact(self, told: ContractFact) -> None:
        """The contract tells the case to record a fact: another case's event it reacts
        to, or the agreement's end (its rulebook's ``agreement``). Checked as a person's
        fact would be; one the case cannot take is escalated to a person, never lost."""
        inp, st = self._input, self._st
        if inp is None or st is None or st.closed:
            return
        if told.offer is not None:
            # A case its contract offers for a person to confirm: escalated here.
            offered = Event("contract_offer", f"offer:{told.offer}", error=told.reason)
            self._queue.append(offered)
            return
        refusal = self._fact_refusal(told.fact, told.values)
        request = RecordFactRequest(
            told.fact, told.values, f"contract {told.contract_id}", told.reason
        )
        ev = Event(
            "fact_recorded",
            f"fact:{told.fact}",
            {"fact": told.fact, **scalar_values(told.values)},
            request,
        )
        if refusal is not None:
            ev.request = None
            ev.error = f"its contract told it to record {told.fact} ({told.reason}): {refusal}"
        self._queue.append(ev)

    @workflow.update
    async def record_fact(self, request: RecordFactRequest) -> CaseView:
        """Records a fact (e.g. a withdrawal agreed in writing) and applies the rules."""
        ev = Event(
            "fact_recorded",
            f"fact:{request.fact}",
            {"fact": request.fact, **scalar_values(request.values)},
            request,
        )
        self._queue.append(ev)
        await workflow.wait_condition(lambda: ev.done)
        return self.case()

    @record_fact.validator
    def _validate_record_fact(self, request: RecordFactRequest) -> None:
        inp, st = self._input, self._st
        if inp is None or st is None or not self._ready:
            raise ValueError("the case is still starting; try again in a moment")
        if st.closed or any(isinstance(e.action, CloseCaseRequest) for e in self._queue):
            raise ValueError(f"the case is closed ({st.state}); no facts can be recorded")
        if not request.recorded_by.strip():
            raise ValueError("recorded_by must name who records the fact")
        refusal = self._fact_refusal(request.fact, request.values)
        if refusal is not None:
            raise ValueError(refusal)

    def _fact_refusal(self, fact: str, values: dict[str, Any]) -> str | None:
        """Why ``fact`` cannot be recorded on the case as it is now (None: it can), by
        the checks the API makes too, whoever records it: a person or the contract."""
        inp, st = self._input, self._st
        assert inp is not None and st is not None
        return refusal_of_fact(
            st.summary,
            inp.terms,
            self._zone(),
            workflow.now(),
            state=st.state,
            facts=st.facts,
            deadlines=st.deadlines,
            fact=fact,
            values=values,
        )
