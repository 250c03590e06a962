"""Decision application: one event of a case, through its rulebook, to its new state,
its step record and its notices.

``CaseSteps`` holds the case (its input, its state in one dataclass, the events waiting
and the activities in flight) and takes one step at a time; the operator actions
(workflows/operator.py) and the main loop (workflows/case.py) build on it. Workflow
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
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ActivityCancellationType, ActivityHandle

with workflow.unsafe.imports_passed_through():
    from activities.notices import send_notice
    from activities.records import record_step
    from activities.rulebooks import compute_deadlines, decide, take_step
    from activities.steps import TO_HAND_OVER, hand_over_notice, record_step_and_notices
    from activities.types import (
        INVALID_FACTS,
        AmendmentView,
        AuditView,
        CaseSnapshot,
        CatchUpView,
        ComputeDeadlinesInput,
        ComputeDeadlinesResult,
        DeadlineView,
        DecideInput,
        DecisionView,
        DeriveContext,
        EscalationView,
        HandOverInput,
        NoticeOrder,
        NoticeOutcome,
        OpenEscalation,
        RecordedFactInput,
        RecordStepInput,
        ResolvedEscalationView,
        Scalar,
        SendNoticeInput,
        StepRecordInput,
        StepRecordResult,
        TakeStepInput,
        TakeStepResult,
        TransitionView,
    )
    from rules.rulebook import COULD_NOT_START
    from workflows.late_facts import catch_up, story_began
    from workflows.messages import (
        CASE_STATE,
        ApproveNoticeRequest,
        CaseInput,
        CaseState,
        DeliveryFailure,
        HeldNotice,
        OperatorAction,
        RecordedFact,
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


#: Deadlines whose moment had passed when they were set: reminders are skipped and
#: notices to a party held for approval (cases before this change sent them at once).
_CATCH_UP_PATCH = "late-deadlines-caught-up"

#: One local activity an event (decide and compute the deadlines), and one activity a
#: step (its record and its notices, in one transaction) whose input carries ids and
#: what changed. Runs that began before it replay the activities they recorded (a
#: decide and a compute_deadlines; a record_step and a send_notice a notice); the
#: marker is set, and read, once per run, when the run starts.
LEAN_STEPS_PATCH = "one-activity-a-step"


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


class CaseSteps:
    """One case's state and the machinery of its steps."""

    def __init__(self, inp: CaseInput) -> None:
        self._input: CaseInput | None = inp
        self._st: CaseState | None = None
        self._queue: list[Event] = []
        self._ready = False
        self._inflight: list[InFlight] = []
        #: LEAN_STEPS_PATCH, decided when the run starts.
        self._lean = False
        #: The facts and deadlines the store holds for this case, as this run last
        #: recorded them (None: nothing recorded yet in this run).
        self._stored_facts: dict[str, Any] | None = None
        self._stored_deadlines: dict[str, DeadlineView] = {}

    async def _take_step(self, ev: Event) -> None:
        """Handles one event. Facts the case cannot run (a calculation they break) fail the
        step visibly, with the reason, instead of retrying it for ever."""
        st = self._st
        assert st is not None
        # The summary never changes in a step; the rest is put back if the step fails.
        before = copy.deepcopy({k: v for k, v in vars(st).items() if k != "summary"})
        try:
            await self._handle(ev)
        except (ActivityError, ApplicationError) as err:
            # A local activity's failure may arrive as the activity's own error.
            cause = err.cause if isinstance(err, ActivityError) else err
            if not (isinstance(cause, ApplicationError) and cause.type == INVALID_FACTS):
                raise
            # Nothing of the step was recorded: the case is as it was before the event.
            vars(st).update(before)
            await self._refuse_step(ev, cause.message)

    async def _refuse_step(self, ev: Event, reason: str) -> None:
        """Records that the case could not act on ``ev``, and escalates it to a person.

        A case that cannot take its first step is in the state "could_not_start" until
        someone closes it; a later event leaves the case as it was.
        """
        st = self._st
        assert st is not None
        st.step += 1
        transition = None
        if ev.kind == "case_started":
            rule, why = COULD_NOT_START, f"the case could not take its first step: {reason}"
            transition = TransitionView(st.state, COULD_NOT_START, COULD_NOT_START)
            st.state = COULD_NOT_START
        else:
            rule, why = "step_refused", f"the case could not act on {ev.kind}: {reason}"
        escalation = EscalationView(rule, why)
        st.escalations.append(why)
        st.open_escalations.append(OpenEscalation(st.step, rule, why, workflow.now()))
        refused = Event("step_refused", f"refused:{ev.key}:{st.step}")
        await self._record(st.step, refused, {"event": ev.kind}, [], transition, [escalation])
        if transition is not None:
            workflow.upsert_search_attributes([CASE_STATE.value_set(st.state)])
        self._ready = True

    def _engine_facts(self, ev: Event) -> dict[str, Scalar]:
        assert self._input is not None and self._st is not None
        facts: dict[str, Scalar] = {
            k: v for k, v in self._st.facts.items() if isinstance(v, str | int | float | bool)
        }
        now = workflow.now()
        for d in self._st.deadlines.values():
            # Rules may ask whether a deadline is still running, e.g. a dispute window.
            facts[f"{d.name}_status"] = d.status
            facts[f"{d.name}_passed"] = now >= d.due_at
        facts.update(
            clause=self._input.clause,
            rulebook_version=self._input.rulebook_version,
            event=ev.kind,
            state=self._st.state,
        )
        facts.update(ev.facts)
        return facts

    async def _handle(self, ev: Event) -> None:
        inp, st = self._input, self._st
        assert inp is not None and st is not None
        st.step += 1
        step = st.step
        if ev.request is not None:
            ev.key = f"{ev.key}:{step}"
            # Recorded values become case facts: later rules and notices can use them.
            st.facts.update(ev.request.values)
        seen = self._engine_facts(ev)
        context = DeriveContext(
            terms=inp.terms,
            facts=st.facts,
            recorded=[RecordedFactInput(r.fact, r.values, r.at) for r in st.recorded_facts]
            + (
                [RecordedFactInput(ev.request.fact, ev.request.values, workflow.now())]
                if ev.request
                else []
            ),
            deadlines=st.deadlines,
            now=workflow.now(),
            opened_at=st.opened_at,
        )
        decided: TakeStepResult
        if self._lean:
            reached_name = str(ev.facts["deadline"]) if ev.kind == "deadline_reached" else None
            decided = await workflow.execute_local_activity(
                take_step,
                TakeStepInput(seen, context, reached=reached_name),
                start_to_close_timeout=LOCAL_TIMEOUT,
            )
        else:
            old = await workflow.execute_local_activity(
                decide,
                DecideInput(seen, context),
                start_to_close_timeout=LOCAL_TIMEOUT,
            )
            decided = TakeStepResult(old.decisions, old.derived)
        decisions = list(decided.decisions)
        if ev.failure is not None and not decisions:
            # No rule says otherwise: written notice that was not delivered needs a person.
            decisions.append(
                DecisionView(
                    "written_notice_not_delivered",
                    "escalate",
                    f"written notice {ev.failure.notice} was not delivered "
                    f"({ev.failure.event}): {ev.failure.reason}",
                )
            )
        st.facts.update(decided.derived)
        seen.update(
            {k: v for k, v in decided.derived.items() if isinstance(v, str | int | float | bool)}
        )

        reached = st.deadlines[str(ev.facts["deadline"])] if ev.kind == "deadline_reached" else None
        if reached is not None:
            reached.status = "reached"
        transition: TransitionView | None = None
        set_late: list[DeadlineView] = []
        to_set: list[str] = []
        notices: list[tuple[str, str]] = []
        escalations: list[EscalationView] = []
        for d in decisions:
            if d.action == "transition":
                transition = TransitionView(
                    transition.from_state if transition else st.state, d.value, d.rule
                )
                st.state = d.value
            elif d.action == "set_deadlines":
                to_set.extend(d.value)
            elif d.action == "cancel_deadlines":
                for dl in st.deadlines.values():
                    if dl.status == "pending" and (
                        d.value == "all" or dl.name in d.value or dl.group in d.value
                    ):
                        dl.status = "cancelled"
            elif d.action == "send_notice":
                notices.append((d.value, d.rule))
            elif d.action == "expect_notice":
                pass  # the other party's notice: recorded with the step, never sent
            elif d.action == "escalate":
                escalations.append(EscalationView(d.rule, str(d.value)))
            elif d.action == "record":
                st.facts.update(d.value)
            elif d.action == "close":
                st.closed = True
            else:
                raise ApplicationError(f"unknown decision action {d.action!r}", non_retryable=True)
        if ev.request is not None:
            st.recorded_facts.append(
                RecordedFact(
                    ev.request.fact,
                    ev.request.values,
                    ev.request.recorded_by,
                    ev.request.reason,
                    step,
                    workflow.now(),
                )
            )
        if to_set:
            if self._lean:
                computed = decided.deadlines
            else:
                computed = (await self._compute_deadlines(to_set)).deadlines
            for dl in computed:
                st.deadlines[dl.name] = dl
            # Passed after the case's story began but before the case learned of it: the
            # case is late, not the deadline's own business (a short maintenance notice).
            began = story_began(st.summary, st.facts, st.opened_at)
            late = [d for d in computed if began < d.due_at <= workflow.now()]
            if late and inp.past_deadlines == "catch_up" and workflow.patched(_CATCH_UP_PATCH):
                for dl in late:
                    dl.passed_when_set = True
                set_late = late
        if st.closed:
            for dl in st.deadlines.values():
                if dl.status == "pending":
                    dl.status = "cancelled"
        st.escalations.extend(e.reason for e in escalations)
        st.open_escalations.extend(
            OpenEscalation(step, e.rule, e.reason, workflow.now()) for e in escalations
        )

        outgoing, caught_up = catch_up(
            st.summary, self._zone(), notices, reached, set_late, decisions
        )
        if self._lean:
            await self._lean_step(
                step, ev, seen, decisions, transition, escalations, caught_up, outgoing
            )
            return
        await self._record(step, ev, seen, decisions, transition, escalations, caught_up=caught_up)
        if transition is not None:
            workflow.upsert_search_attributes([CASE_STATE.value_set(st.state)])
        self._ready = True
        # A notice discarded (the case was closed) after its approval was queued stays unsent.
        held = st.held_notices.pop(ev.approval.notice_key, None) if ev.approval else None
        if ev.approval is not None and held is not None:
            await self._send_notice(
                held.notice, held.rule, ev, key=ev.approval.notice_key, approval=ev.approval
            )
        for notice, rule, hold in outgoing:
            await self._send_notice(notice, rule, ev, hold=hold)

    async def _compute_deadlines(
        self, names: list[str], dependents_of: str | None = None
    ) -> ComputeDeadlinesResult:
        """Computes the ``names`` deadlines (and those counted from ``dependents_of``) on
        the case's facts and the deadlines it has, as a local activity."""
        inp, st = self._input, self._st
        assert inp is not None and st is not None
        return await workflow.execute_local_activity(
            compute_deadlines,
            ComputeDeadlinesInput(
                inp.clause,
                inp.rulebook_version,
                inp.terms,
                st.facts,
                names,
                dict(st.deadlines),
                dependents_of=dependents_of,
            ),
            start_to_close_timeout=LOCAL_TIMEOUT,
        )

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
        while True:
            flight = InFlight(
                activity.__name__,  # the activity's name: operators see it, retry_now lists it
                workflow.start_activity(
                    activity,
                    arg,
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
                # retry_now cancelled it: start it again, now, as a new activity.
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
                actor=ev.request.recorded_by
                if ev.request
                else (ev.approval.approved_by if ev.approval else None),
                reason=ev.request.reason
                if ev.request
                else (ev.approval.reason if ev.approval else None),
                values=ev.request.values if ev.request else None,
                audit=changes.audit if changes else None,
                audit_only=audit_only,
                resolved_escalations=changes.resolved if changes else [],
                amendments=changes.amendments if changes else [],
                discarded_notices=changes.discarded if changes else [],
                caught_up=caught_up or [],
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
        self._ready = True
        for order, outcome in zip(orders, result.notices, strict=True):
            await self._notice_outcome(order, outcome)

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
        result: StepRecordResult = await self._activity(
            record_step_and_notices,
            StepRecordInput(
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
                terms=inp.terms if first and not audit_only else None,
                open_escalations=list(st.open_escalations) if st.escalations_tracked else None,
                transition=transition,
                escalations=escalations,
                actor=ev.request.recorded_by
                if ev.request
                else (ev.approval.approved_by if ev.approval else None),
                reason=ev.request.reason
                if ev.request
                else (ev.approval.reason if ev.approval else None),
                values=ev.request.values if ev.request else None,
                audit=changes.audit if changes else None,
                audit_only=audit_only,
                resolved_escalations=changes.resolved if changes else [],
                amendments=changes.amendments if changes else [],
                discarded_notices=changes.discarded if changes else [],
                caught_up=caught_up or [],
                notices=notices,
            ),
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


def scalar_values(values: dict[str, Any]) -> dict[str, Scalar]:
    return {k: v for k, v in values.items() if isinstance(v, str | int | float | bool)}
