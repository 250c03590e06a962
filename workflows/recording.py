"""Recording a case's steps: each step's record and its notices, through activities.

``CaseRecords`` holds a case's input and state, the activities in flight and what the
store holds of the case, and records a step: since one activity a step
(``LEAN_STEPS_PATCH``) in ``record_step_and_notices``, whose input carries ids and what
changed since the run's last record, then a SendGrid hand-over per notice; runs that
began before replay their ``record_step`` and one ``send_notice`` a notice. Workflow
code: deterministic, no I/O but through activities.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError
from temporalio.workflow import ActivityCancellationType, ActivityHandle

with workflow.unsafe.imports_passed_through():
    from activities.failures import retried_activity_id
    from activities.notices import send_notice
    from activities.records import record_step
    from activities.steps import (
        TO_HAND_OVER,
        hand_over_notice,
        record_step_and_notices,
        terms_digest,
    )
    from activities.types import (
        AgreementEmitInfo,
        AmendmentView,
        AuditView,
        CaseSnapshot,
        CatchUpView,
        DeadlineView,
        DecisionView,
        EscalationView,
        HandOverInput,
        NoticeOrder,
        NoticeOutcome,
        OpenEscalation,
        RecordStepInput,
        ResolvedEscalationView,
        Scalar,
        SendNoticeInput,
        StepRecordInput,
        StepRecordResult,
        TransitionView,
    )
    from workflows.messages import (
        AGREEMENT_EVENT,
        CASE_STATE,
        ApproveNoticeRequest,
        CaseInput,
        CaseState,
        ContractEvent,
        DeliveryFailure,
        HeldNotice,
        OperatorAction,
        RecordFactRequest,
    )
LOCAL_TIMEOUT = dt.timedelta(seconds=30)
# Records and notices retry without limit: a database or mail outage delays a case,
# it never loses a step or a notice.
RECORD_RETRY = RetryPolicy(maximum_interval=dt.timedelta(minutes=1))


def _notice_retry(max_interval_seconds: float) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=dt.timedelta(seconds=2),
        backoff_coefficient=2.0,
        maximum_interval=dt.timedelta(seconds=max_interval_seconds),
    )


#: One local activity an event (decide and compute the deadlines), and one activity a
#: step (its record and its notices, in one transaction) whose input carries ids and
#: what changed. Runs that began before it replay the activities they recorded (a
#: decide and a compute_deadlines; a record_step and a send_notice a notice); the
#: marker is set, and read, once per run, when the run starts.
LEAN_STEPS_PATCH = "one-activity-a-step"
#: An activity that retry_now starts again carries an id that says so
#: (activities/failures.py ``retried_activity_id``); runs that retried before keep the
#: server's sequence ids.
RETRIED_ID_PATCH = "retried-activity-id"


@dataclass
class Event:
    kind: str  # case_started, deadline_reached, fact_recorded
    key: str  # stable name of the event within the case, used in notice keys
    facts: dict[str, Scalar] = field(default_factory=dict)
    request: RecordFactRequest | None = None
    approval: ApproveNoticeRequest | None = None
    failure: DeliveryFailure | None = None
    action: OperatorAction | None = None
    done: bool = False
    #: Why an action could not be carried out after all (the case changed meanwhile).
    error: str | None = None
    #: What an action created (an amendment id).
    result: str | None = None


@dataclass
class InFlight:
    """An activity the workflow is waiting for; retry_now cancels it and starts it again."""

    name: str
    handle: ActivityHandle[Any]
    restart: bool = False


@dataclass
class Changes:
    """What an operator action changed, for record_step."""

    audit: AuditView
    transition: TransitionView | None = None
    resolved: list[ResolvedEscalationView] = field(default_factory=list)
    amendments: list[AmendmentView] = field(default_factory=list)
    discarded: list[str] = field(default_factory=list)


def _who_and_what(
    ev: Event, changes: Changes | None, audit_only: bool, caught_up: list[CatchUpView] | None
) -> dict[str, Any]:
    """What a step's record says of who acted, and what an operator changed: the same in
    ``record_step`` and ``record_step_and_notices``."""
    request, approval = ev.request, ev.approval
    return {
        "actor": request.recorded_by if request else (approval.approved_by if approval else None),
        "reason": request.reason if request else (approval.reason if approval else None),
        "values": request.values if request else None,
        "audit": changes.audit if changes else None,
        "audit_only": audit_only,
        "resolved_escalations": changes.resolved if changes else [],
        "amendments": changes.amendments if changes else [],
        "discarded_notices": changes.discarded if changes else [],
        "caught_up": caught_up or [],
    }


class CaseRecords:
    """A case's input and state, and the recording of its steps."""

    def __init__(self, inp: CaseInput) -> None:
        self._input: CaseInput | None = inp
        self._st: CaseState | None = None
        self._queue: list[Event] = []
        self._ready = False
        self._inflight: list[InFlight] = []
        #: Activities retry_now started again in this run (their ids stay unique).
        self._retried = 0
        #: LEAN_STEPS_PATCH, decided when the run starts.
        self._lean = False
        #: The facts and deadlines the store holds for this case, as this run last
        #: recorded them (None: nothing recorded yet in this run).
        self._stored_facts: dict[str, Any] | None = None
        self._stored_deadlines: dict[str, DeadlineView] = {}

    async def _activity(
        self,
        activity: Callable[[Any], Any],
        arg: Any,
        *,
        start_to_close_timeout: dt.timedelta,
        retry_policy: RetryPolicy,
    ) -> Any:
        """Runs a regular activity, which retry_now may restart at attempt 1.

        The same ScheduleActivityTask command as ``execute_activity`` (recorded histories
        replay), but the handle is kept so that retry_now can cancel it. Cancellation
        waits for a running attempt to finish, so an attempt is never run twice at once;
        an activity waiting out its retry backoff is cancelled by the server at once.
        """
        activity_id: str | None = None
        while True:
            flight = InFlight(
                activity.__name__,  # the activity's name: operators see it, retry_now lists it
                workflow.start_activity(
                    activity,
                    arg,
                    activity_id=activity_id,
                    start_to_close_timeout=start_to_close_timeout,
                    retry_policy=retry_policy,
                    cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                ),
            )
            self._inflight.append(flight)
            try:
                return await flight.handle
            except ActivityError:
                if not flight.restart:
                    raise
                # retry_now cancelled it: start it again, now, as a new activity. Its id
                # tells the worker that a success at attempt 1 ends a failure the row
                # may still show: an attempt running at the retry finished (and failed)
                # before this one started, after the retry's record had cleared the row.
                if workflow.patched(RETRIED_ID_PATCH):
                    self._retried += 1
                    activity_id = retried_activity_id(flight.name, self._retried)
            finally:
                self._inflight.remove(flight)

    async def _record(
        self,
        step: int,
        ev: Event,
        seen: dict[str, Scalar],
        decisions: list[DecisionView],
        transition: TransitionView | None,
        escalations: list[EscalationView],
        changes: Changes | None = None,
        audit_only: bool = False,
        caught_up: list[CatchUpView] | None = None,
    ) -> None:
        if self._lean:
            await self._record_step(
                step, ev, seen, decisions, transition, escalations, changes, audit_only, caught_up
            )
            return
        inp, st = self._input, self._st
        assert inp is not None and st is not None
        await self._activity(
            record_step,
            RecordStepInput(
                case=CaseSnapshot(
                    case_id=inp.case_id,
                    contract_id=inp.contract_id,
                    clause=inp.clause,
                    rulebook_version=inp.rulebook_version,
                    state=st.state,
                    closed=st.closed,
                    owner_email=st.owner_email,
                    facts=st.facts,
                    opened_at=st.opened_at,
                    deadlines=st.deadlines,
                    open_escalations=list(st.open_escalations) if st.escalations_tracked else None,
                ),
                step=step,
                event=ev.key,
                at=workflow.now(),
                facts_seen=seen,
                decisions=decisions,
                transition=transition,
                escalations=escalations,
                **_who_and_what(ev, changes, audit_only, caught_up),
            ),
            start_to_close_timeout=dt.timedelta(seconds=inp.record_timeout_seconds),
            retry_policy=RECORD_RETRY,
        )

    async def _lean_step(
        self,
        step: int,
        ev: Event,
        seen: dict[str, Scalar],
        decisions: list[DecisionView],
        transition: TransitionView | None,
        escalations: list[EscalationView],
        caught_up: list[CatchUpView],
        outgoing: list[tuple[str, str, bool]],
    ) -> None:
        """Records the step and writes its notices in one activity, then applies what
        became of each notice: sent, held for approval, or escalated."""
        st = self._st
        assert st is not None
        orders: list[NoticeOrder] = []
        # A notice discarded (the case was closed) after its approval was queued stays unsent.
        held = st.held_notices.pop(ev.approval.notice_key, None) if ev.approval else None
        if ev.approval is not None and held is not None:
            orders.append(
                NoticeOrder(
                    held.notice,
                    ev.approval.notice_key,
                    held.rule,
                    approved_by=ev.approval.approved_by,
                )
            )
        for notice, rule, hold in outgoing:
            hold = hold or notice in st.summary.notices_requiring_approval
            orders.append(NoticeOrder(notice, f"{notice}:{ev.key}", rule, hold=hold))
        result = await self._record_step(
            step, ev, seen, decisions, transition, escalations, caught_up=caught_up, notices=orders
        )
        if transition is not None:
            workflow.upsert_search_attributes([CASE_STATE.value_set(st.state)])
            await self._tell_contract()
        for order in orders:
            told = st.summary.agreement_events_with_notice.get(order.notice)
            if told is not None:
                await self._signal_contract(told)
        self._ready = True
        for order, outcome in zip(orders, result.notices, strict=True):
            await self._notice_outcome(order, outcome)

    async def _tell_contract(self, closed_from: str | None = None) -> None:
        """Tells the case's contract what its rulebook says the state it entered means
        for the agreement (``agreement.emits``): terminating, ended, or in force again.

        Only rulebook versions that declare it emit (none did before), so runs recorded
        before replay as they were. A contract without its workflow (registered before
        contracts had one) is not told: the case goes on and says so in the worker's log.
        """
        inp, st = self._input, self._st
        assert inp is not None and st is not None
        emit = st.summary.agreement_events.get(st.state)
        if emit is None and closed_from is not None:
            # An operator closed a case whose notice was ending the agreement: it no
            # longer is, as if the notice were withdrawn.
            was = st.summary.agreement_events.get(closed_from)
            if was is not None and was.event == "agreement_terminating":
                emit = dataclasses.replace(was, event="termination_withdrawn", dated_by=None)
        if emit is not None:
            await self._signal_contract(emit)

    async def _signal_contract(self, emit: AgreementEmitInfo) -> None:
        inp, st = self._input, self._st
        assert inp is not None and st is not None
        dated = st.deadlines.get(emit.dated_by) if emit.dated_by else None
        event = ContractEvent(
            emit.event,
            inp.case_id,
            emit.route,
            dated.due_at if dated else workflow.now(),
            {name: st.facts.get(fact) for name, fact in emit.values.items()},
        )
        try:
            await workflow.get_external_workflow_handle(inp.contract_id).signal(
                AGREEMENT_EVENT, event
            )
        except Exception as err:  # the signal failed: no such workflow (see above)
            workflow.logger.warning(
                "case %s could not tell contract %s that %s: %s",
                inp.case_id,
                inp.contract_id,
                emit.event,
                err,
            )

    async def _notice_outcome(self, order: NoticeOrder, outcome: NoticeOutcome) -> None:
        """Hands a notice for SendGrid over; then the notice is sent or held, or the case
        escalates because it cannot go out."""
        inp, st = self._input, self._st
        assert inp is not None and st is not None
        error = outcome.error
        if error is None and outcome.status in TO_HAND_OVER:
            try:
                await self._activity(
                    hand_over_notice,
                    HandOverInput(inp.case_id, order.key, workflow.now()),
                    start_to_close_timeout=dt.timedelta(seconds=inp.notice_timeout_seconds),
                    retry_policy=_notice_retry(inp.notice_retry_max_seconds),
                )
            except ActivityError as err:
                error = str(err.cause or err)
        if error is None:
            if order.hold:
                st.held_notices[order.key] = HeldNotice(order.notice, order.rule, workflow.now())
            else:
                st.notices.append(order.key)
            return
        # A notice that cannot go out must not pass silently: escalate the case.
        reason = f"notice {order.notice} could not be sent: {error}"
        st.step += 1
        st.escalations.append(reason)
        st.open_escalations.append(OpenEscalation(st.step, order.rule, reason, workflow.now()))
        await self._record(
            st.step,
            Event("notice_failed", f"notice_failed:{order.key}"),
            {"event": "notice_failed", "notice": order.notice},
            [],
            None,
            [EscalationView(order.rule, reason)],
        )

    async def _record_step(
        self,
        step: int,
        ev: Event,
        seen: dict[str, Scalar],
        decisions: list[DecisionView],
        transition: TransitionView | None,
        escalations: list[EscalationView],
        changes: Changes | None = None,
        audit_only: bool = False,
        caught_up: list[CatchUpView] | None = None,
        notices: list[NoticeOrder] | None = None,
    ) -> StepRecordResult:
        """Records a step through record_step_and_notices: ids and what changed since
        this run's last record (everything, with the terms, on its first)."""
        inp, st = self._input, self._st
        assert inp is not None and st is not None
        first = self._stored_facts is None
        facts: dict[str, Any] = {}
        deadlines: list[DeadlineView] = []
        statuses: dict[str, str] = {}
        if first and not audit_only:
            facts, deadlines = dict(st.facts), list(st.deadlines.values())
        elif not audit_only:
            stored = self._stored_facts or {}
            facts = {k: v for k, v in st.facts.items() if k not in stored or stored[k] != v}
            for name, d in st.deadlines.items():
                was = self._stored_deadlines.get(name)
                if was is not None and dataclasses.replace(was, status=d.status) == d:
                    if was.status != d.status:
                        statuses[name] = d.status
                elif was != d:
                    deadlines.append(d)
        notices = notices or []
        record = StepRecordInput(
            case_id=inp.case_id,
            contract_id=inp.contract_id,
            clause=inp.clause,
            rulebook_version=inp.rulebook_version,
            step=step,
            event=ev.key,
            at=workflow.now(),
            state=st.state,
            closed=st.closed,
            opened_at=st.opened_at,
            owner_email=st.owner_email,
            # The rules' view of the facts is kept with each decision: the audit trail.
            facts_seen=seen if decisions else _event_facts(seen),
            decisions=decisions,
            facts=facts,
            deadlines=deadlines,
            deadline_status=statuses,
            # The first record names the terms; the store has them, or asks for them.
            terms_sha256=terms_digest(inp.terms) if first and not audit_only else None,
            open_escalations=list(st.open_escalations) if st.escalations_tracked else None,
            transition=transition,
            escalations=escalations,
            **_who_and_what(ev, changes, audit_only, caught_up),
            notices=notices,
        )
        result: StepRecordResult = await self._activity(
            record_step_and_notices,
            record,
            start_to_close_timeout=dt.timedelta(seconds=inp.record_timeout_seconds),
            retry_policy=RECORD_RETRY,
        )
        if result.terms_needed:
            result = await self._activity(
                record_step_and_notices,
                dataclasses.replace(record, terms=inp.terms),
                start_to_close_timeout=dt.timedelta(seconds=inp.record_timeout_seconds),
                retry_policy=RECORD_RETRY,
            )
        if not audit_only:
            self._stored_facts = copy.deepcopy(st.facts)
            self._stored_deadlines = copy.deepcopy(st.deadlines)
        return result

    def _notice_input(
        self,
        notice: str,
        key: str,
        rule: str,
        facts: dict[str, Any],
        *,
        hold: bool = False,
        approved_by: str | None = None,
    ) -> SendNoticeInput:
        """What the notice activities need to write a notice of this case as it is now."""
        inp, st = self._input, self._st
        assert inp is not None and st is not None
        return SendNoticeInput(
            case_id=inp.case_id,
            clause=inp.clause,
            rulebook_version=inp.rulebook_version,
            notice=notice,
            notice_key=key,
            rule=rule,
            at=workflow.now(),
            state=st.state,
            terms=inp.terms,
            facts=facts,
            deadlines=st.deadlines,
            hold_for_approval=hold,
            approved_by=approved_by,
            owner_email=st.owner_email,
        )

    async def _send_notice(
        self,
        notice: str,
        rule: str,
        ev: Event,
        key: str | None = None,
        approval: ApproveNoticeRequest | None = None,
        hold: bool = False,
    ) -> None:
        inp, st = self._input, self._st
        assert inp is not None and st is not None
        key = key or f"{notice}:{ev.key}"
        hold = approval is None and (hold or notice in st.summary.notices_requiring_approval)
        try:
            await self._activity(
                send_notice,
                self._notice_input(
                    notice,
                    key,
                    rule,
                    st.facts,
                    hold=hold,
                    approved_by=approval.approved_by if approval else None,
                ),
                start_to_close_timeout=dt.timedelta(seconds=inp.notice_timeout_seconds),
                retry_policy=_notice_retry(inp.notice_retry_max_seconds),
            )
        except ActivityError as err:
            # A notice that cannot go out must not pass silently: escalate the case.
            cause = err.cause
            reason = f"notice {notice} could not be sent: {cause or err}"
            st.step += 1
            st.escalations.append(reason)
            st.open_escalations.append(OpenEscalation(st.step, rule, reason, workflow.now()))
            await self._record(
                st.step,
                Event("notice_failed", f"notice_failed:{key}"),
                {"event": "notice_failed", "notice": notice},
                [],
                None,
                [EscalationView(rule, reason)],
            )
        else:
            if hold:
                st.held_notices[key] = HeldNotice(notice, rule, workflow.now())
            else:
                st.notices.append(key)

    def _zone(self) -> str:
        assert self._input is not None
        return str(self._input.terms.get("time_zone") or "UTC")


def _event_facts(seen: dict[str, Scalar]) -> dict[str, Scalar]:
    """What a step without decisions keeps of the facts the rules saw: the event itself
    (the expected-notice bookkeeping reads ``event`` and ``fact``)."""
    return {k: seen[k] for k in ("event", "fact") if k in seen}
