"""The generic case workflow: runs one clause of one contract by its rulebook.

The workflow holds the case's time and state. On every event (the case starting, a
deadline being reached, a fact being recorded) it asks the pinned rulebook version
which decisions follow, applies them (transition, set or cancel deadlines, notices,
escalation, close) and has activities record them. It is deterministic and does no
I/O itself.

Operators act on a running case through updates, each with a validator whose
ValueError message the API shows them: ``retry_now``, ``resolve_escalation``,
``amend_deadline`` and ``decide_amendment`` (a second person approves by default),
``close_case`` and ``reassign_owner``. Except ``retry_now``, which acts on the
activities in flight, each is queued and carried out by the main loop as one step of
the case, which ``record_step`` writes with an audit entry (who, why, before, after)
keyed ``"{case_id}:{step}:{action}"``.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ActivityCancellationType, ActivityHandle

with workflow.unsafe.imports_passed_through():
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
        DecideResult,
        DecisionView,
        DeriveContext,
        DescribeRulebookInput,
        EscalationView,
        OpenEscalation,
        RecordedFactInput,
        RecordStepInput,
        ResolvedEscalationView,
        RulebookSummary,
        Scalar,
        SendNoticeInput,
        TransitionView,
        local_date,
    )
    from contracts.calendar import describe_instant
    from rules.rulebook import COULD_NOT_START, COULD_NOT_START_LABEL
    from workflows.late_facts import catch_up, refusal_of_fact, story_began

CONTRACT_ID = SearchAttributeKey.for_keyword("ContractId")
CLAUSE = SearchAttributeKey.for_keyword("Clause")
CASE_STATE = SearchAttributeKey.for_keyword("CaseState")

_LOCAL_TIMEOUT = dt.timedelta(seconds=30)
# Records and notices retry without limit: a database or mail outage delays a case,
# it never loses a step or a notice.
_RECORD_RETRY = RetryPolicy(maximum_interval=dt.timedelta(minutes=1))


def _notice_retry(max_interval_seconds: float) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=dt.timedelta(seconds=2),
        backoff_coefficient=2.0,
        maximum_interval=dt.timedelta(seconds=max_interval_seconds),
    )


#: Labels of the outcomes an operator closes a case with, when its rulebook has no such state.
_CLOSED_BY_OPERATOR = {
    "withdrawn": "Withdrawn by an operator",
    "cancelled": "Cancelled by an operator",
}

#: Deadlines whose moment had passed when they were set: reminders are skipped and
#: notices to a party held for approval (cases before this change sent them at once).
_CATCH_UP_PATCH = "late-deadlines-caught-up"


@dataclass
class RecordedFact:
    """A fact a person recorded while the case ran."""

    fact: str
    values: dict[str, Any]
    recorded_by: str
    reason: str | None
    step: int
    at: dt.datetime


@dataclass
class HeldNotice:
    """A notice rendered and waiting for a person's approval before it goes out."""

    notice: str
    rule: str
    held_at: dt.datetime


@dataclass
class CaseState:
    """All of a case's workflow state; carried across continue-as-new."""

    summary: RulebookSummary
    opened_at: dt.datetime
    state: str = "opened"
    closed: bool = False
    step: int = 0
    facts: dict[str, Any] = field(default_factory=dict)
    deadlines: dict[str, DeadlineView] = field(default_factory=dict)
    recorded_facts: list[RecordedFact] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    escalations: list[str] = field(default_factory=list)
    held_notices: dict[str, HeldNotice] = field(default_factory=dict)
    delivery_failures: list[str] = field(default_factory=list)
    #: The case's owner now (CaseInput.owner_email until an operator reassigns it).
    owner_email: str | None = None
    #: Escalations no one has resolved yet; ``escalations`` keeps every reason ever given.
    open_escalations: list[OpenEscalation] = field(default_factory=list)
    #: False in state carried over from runs that did not track open escalations.
    escalations_tracked: bool = False
    #: Deadline amendments by id: pending ones wait for a second person.
    amendments: dict[str, AmendmentView] = field(default_factory=dict)
    #: Deadlines an operator moved: nothing recomputes them afterwards.
    amended_deadlines: list[str] = field(default_factory=list)


@dataclass
class CaseInput:
    """What a case starts with. ``state`` is set only when continuing as new."""

    case_id: str
    contract_id: str
    clause: str
    rulebook_version: int
    terms: dict[str, Any]
    facts: dict[str, Any]
    owner_email: str | None = None
    history_limit: int = 10_000
    #: How long one attempt to send a notice may take before Temporal retries it.
    notice_timeout_seconds: float = 60.0
    #: How long one attempt to record a step may take before Temporal retries it.
    record_timeout_seconds: float = 30.0
    #: The longest wait between two attempts to send a notice (the backoff's cap).
    notice_retry_max_seconds: float = 600.0
    #: What the case does with deadlines that have passed by the time it sets them (its
    #: facts came in late): "catch_up" skips their reminders and holds notices to a party
    #: for a person's approval; "as_scheduled" acts on them at once, as if on time (for
    #: benchmarks and chaos runs that open cases in the past on purpose).
    past_deadlines: str = "catch_up"
    state: CaseState | None = None


@dataclass
class CaseView:
    """The case as the query and the updates return it."""

    case_id: str
    contract_id: str
    clause: str
    rulebook_version: int
    state: str
    state_label: str
    closed: bool
    step: int
    facts: dict[str, Any]
    deadlines: list[DeadlineView]
    notices: list[str]
    escalations: list[str]
    held_notices: list[str] = field(default_factory=list)
    owner_email: str | None = None
    open_escalations: list[OpenEscalation] = field(default_factory=list)
    pending_amendments: list[AmendmentView] = field(default_factory=list)
    #: Names of the activities running or waiting to retry (what retry_now would restart).
    inflight_activities: list[str] = field(default_factory=list)
    #: Set only in the answer to amend_deadline: the id of the amendment it created.
    amendment_id: str | None = None


@dataclass
class RecordFactRequest:
    """A fact a person records: which fact, its values, who and why."""

    fact: str
    values: dict[str, Any]
    recorded_by: str
    reason: str | None = None


@dataclass
class ApproveNoticeRequest:
    """A person approves a held notice so that it goes out."""

    notice_key: str
    approved_by: str
    reason: str | None = None


@dataclass
class DeliveryFailure:
    """The mail provider reported that a notice was not delivered (bounce, block, drop)."""

    notice_key: str
    notice: str
    event: str
    reason: str


@dataclass
class RetryNowRequest:
    """An operator retries the case's failing activity now instead of after the backoff."""

    actor: str
    reason: str


@dataclass
class ResolveEscalationRequest:
    """An operator resolves the escalation a rule raised at ``step`` (the Escalation row)."""

    step: int
    rule: str
    note: str
    actor: str


@dataclass
class AmendDeadlineRequest:
    """An operator asks to move a deadline to ``due_at`` (timezone-aware)."""

    deadline: str
    due_at: dt.datetime
    reason: str
    actor: str
    #: By default the deadline moves only when a second person approves.
    second_approver_required: bool = True
    #: Who is behind the actor's credential (one person may hold several); None in
    #: histories recorded before it was carried.
    person: str | None = None


@dataclass
class DecideAmendmentRequest:
    """A person approves (the deadline moves) or rejects a pending amendment."""

    amendment_id: str
    approve: bool
    actor: str
    reason: str
    #: As in AmendDeadlineRequest: the person, not the credential, must differ.
    person: str | None = None


@dataclass
class CloseCaseRequest:
    """An operator closes the case: ``outcome`` is "withdrawn" or "cancelled"."""

    outcome: str
    actor: str
    reason: str


@dataclass
class ReassignOwnerRequest:
    """An operator hands the case to another owner; later owner notices go to them."""

    owner_email: str
    actor: str
    reason: str


@dataclass
class ReviseHeldNoticeRequest:
    """A person corrects the facts a held notice was written from, before approving it.

    ``values`` replace facts the case already has (text a person recorded, such as a
    report's root cause); the notice is written again from them and stays held.
    """

    notice_key: str
    values: dict[str, str]
    actor: str
    reason: str


#: The operator actions that go through the main loop, one step each.
_Action = (
    ResolveEscalationRequest
    | AmendDeadlineRequest
    | DecideAmendmentRequest
    | CloseCaseRequest
    | ReassignOwnerRequest
    | ReviseHeldNoticeRequest
)


@dataclass
class CaseResult:
    case_id: str
    state: str
    closed_at: dt.datetime


@dataclass
class _Event:
    kind: str  # case_started, deadline_reached, fact_recorded
    key: str  # stable name of the event within the case, used in notice keys
    facts: dict[str, Scalar] = field(default_factory=dict)
    request: RecordFactRequest | None = None
    approval: ApproveNoticeRequest | None = None
    failure: DeliveryFailure | None = None
    action: _Action | None = None
    done: bool = False
    #: Why an action could not be carried out after all (the case changed meanwhile).
    error: str | None = None
    #: What an action created (an amendment id).
    result: str | None = None


@dataclass
class _InFlight:
    """An activity the workflow is waiting for; retry_now cancels it and starts it again."""

    name: str
    handle: ActivityHandle[Any]
    restart: bool = False


@dataclass
class _Changes:
    """What an operator action changed, for record_step."""

    audit: AuditView
    transition: TransitionView | None = None
    resolved: list[ResolvedEscalationView] = field(default_factory=list)
    amendments: list[AmendmentView] = field(default_factory=list)
    discarded: list[str] = field(default_factory=list)


@workflow.defn(name="CaseWorkflow")
class CaseWorkflow:
    """Interprets a clause's rulebook for the life of one case."""

    def __init__(self) -> None:
        self._input: CaseInput | None = None
        self._st: CaseState | None = None
        self._queue: list[_Event] = []
        self._ready = False
        self._inflight: list[_InFlight] = []

    # -- the main loop -------------------------------------------------------------

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseResult:
        self._input = inp
        if inp.state is None:
            summary = await workflow.execute_local_activity(
                "describe_rulebook",
                DescribeRulebookInput(inp.clause, inp.rulebook_version),
                result_type=RulebookSummary,
                start_to_close_timeout=_LOCAL_TIMEOUT,
            )
            self._st = CaseState(
                summary=summary,
                opened_at=workflow.now(),
                facts=dict(inp.facts),
                owner_email=inp.owner_email,
                escalations_tracked=True,
            )
            await self._take_step(_Event("case_started", "started"))
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
                    workflow.continue_as_new(
                        CaseInput(
                            case_id=inp.case_id,
                            contract_id=inp.contract_id,
                            clause=inp.clause,
                            rulebook_version=inp.rulebook_version,
                            terms=inp.terms,
                            facts=inp.facts,
                            owner_email=inp.owner_email,
                            history_limit=inp.history_limit,
                            notice_timeout_seconds=inp.notice_timeout_seconds,
                            record_timeout_seconds=inp.record_timeout_seconds,
                            notice_retry_max_seconds=inp.notice_retry_max_seconds,
                            past_deadlines=inp.past_deadlines,
                            state=st,
                        )
                    )
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
                    _Event(
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

    # -- one event -------------------------------------------------------------------

    async def _take_step(self, ev: _Event) -> None:
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

    async def _refuse_step(self, ev: _Event, reason: str) -> None:
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
        refused = _Event("step_refused", f"refused:{ev.key}:{st.step}")
        await self._record(st.step, refused, {"event": ev.kind}, [], transition, [escalation])
        if transition is not None:
            workflow.upsert_search_attributes([CASE_STATE.value_set(st.state)])
        self._ready = True

    def _engine_facts(self, ev: _Event) -> dict[str, Scalar]:
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

    async def _handle(self, ev: _Event) -> None:
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
        decided = await workflow.execute_local_activity(
            "decide",
            DecideInput(seen, context),
            result_type=DecideResult,
            start_to_close_timeout=_LOCAL_TIMEOUT,
        )
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
            computed = await workflow.execute_local_activity(
                "compute_deadlines",
                ComputeDeadlinesInput(
                    inp.clause,
                    inp.rulebook_version,
                    inp.terms,
                    st.facts,
                    to_set,
                    {k: v for k, v in st.deadlines.items()},
                ),
                result_type=ComputeDeadlinesResult,
                start_to_close_timeout=_LOCAL_TIMEOUT,
            )
            for dl in computed.deadlines:
                st.deadlines[dl.name] = dl
            # Passed after the case's story began but before the case learned of it: the
            # case is late, not the deadline's own business (a short maintenance notice).
            began = story_began(st.summary, st.facts, st.opened_at)
            late = [d for d in computed.deadlines if began < d.due_at <= workflow.now()]
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

    async def _activity(
        self,
        name: str,
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
            flight = _InFlight(
                name,
                workflow.start_activity(
                    name,
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
        ev: _Event,
        seen: dict[str, Scalar],
        decisions: list[DecisionView],
        transition: TransitionView | None,
        escalations: list[EscalationView],
        changes: _Changes | None = None,
        audit_only: bool = False,
        caught_up: list[CatchUpView] | None = None,
    ) -> None:
        inp, st = self._input, self._st
        assert inp is not None and st is not None
        await self._activity(
            "record_step",
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
            retry_policy=_RECORD_RETRY,
        )

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
        ev: _Event,
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
                "send_notice",
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
                _Event("notice_failed", f"notice_failed:{key}"),
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

    # -- operator actions ------------------------------------------------------------

    def _zone(self) -> str:
        assert self._input is not None
        return str(self._input.terms.get("time_zone") or "UTC")

    async def _operate(self, ev: _Event) -> None:
        """Carries out an operator's action as one step of the case, and records it."""
        st, action = self._st, ev.action
        assert st is not None and action is not None
        # The validator accepted it, but an earlier queued event may have changed the case.
        ev.error = self._refusal(action)
        if ev.error is not None:
            return
        revised = None
        if isinstance(action, ReviseHeldNoticeRequest):
            # Written again before the step is taken: a notice that cannot be written
            # from the corrected facts leaves the case as it was.
            revised, ev.error = await self._rewrite_held_notice(action)
            if ev.error is not None:
                return
        st.step += 1
        step = st.step
        if revised is not None:
            changes = revised
        elif isinstance(action, ResolveEscalationRequest):
            changes = self._resolve_escalation(action)
        elif isinstance(action, AmendDeadlineRequest):
            changes = self._amend_deadline(action, f"amd-{step}")
            ev.result = f"amd-{step}"
        elif isinstance(action, DecideAmendmentRequest):
            changes = self._decide_amendment(action)
        elif isinstance(action, CloseCaseRequest):
            changes = self._close_case(action)
        else:
            assert isinstance(action, ReassignOwnerRequest)
            changes = self._reassign_owner(action)
        applied = [a for a in changes.amendments if a.status == "applied"]
        # Cases that amended a deadline before this change kept its reminders where they were.
        if applied and workflow.patched("amended-deadline-moves-its-reminders"):
            for a in applied:
                await self._move_dependents(a)
        ev.key = f"{changes.audit.action}:{step}"
        await self._record(
            step,
            ev,
            {"event": changes.audit.action},
            [],
            changes.transition,
            [],
            changes,
        )
        if changes.transition is not None:
            workflow.upsert_search_attributes([CASE_STATE.value_set(st.state)])

    def _resolve_escalation(self, req: ResolveEscalationRequest) -> _Changes:
        st = self._st
        assert st is not None
        item = next(e for e in st.open_escalations if (e.step, e.rule) == (req.step, req.rule))
        st.open_escalations.remove(item)
        escalation = {"step": item.step, "rule": item.rule, "reason": item.reason}
        return _Changes(
            AuditView(
                "resolve_escalation",
                req.actor,
                req.note,
                before={"escalation": escalation, "resolved": False},
                after={
                    "escalation": escalation,
                    "resolved": True,
                    "open_escalations": len(st.open_escalations),
                },
            ),
            resolved=[
                ResolvedEscalationView(req.step, req.rule, req.actor, req.note, workflow.now())
            ],
        )

    def _amend_deadline(self, req: AmendDeadlineRequest, amendment_id: str) -> _Changes:
        st = self._st
        assert st is not None
        dl = st.deadlines[req.deadline]
        amendment = AmendmentView(
            id=amendment_id,
            deadline=req.deadline,
            from_due_at=dl.due_at,
            to_due_at=req.due_at.astimezone(dt.UTC),
            reason=req.reason,
            proposed_by=req.actor,
            proposed_at=workflow.now(),
            proposed_by_person=req.person,
        )
        before = {"deadline": dl.name, "due_at": dl.due_at.isoformat()}
        if req.second_approver_required:
            st.amendments[amendment_id] = amendment
        else:
            self._apply_amendment(amendment, req.actor, "no second approver required")
        return _Changes(
            AuditView(
                "amend_deadline",
                req.actor,
                req.reason,
                before=before,
                after={
                    "deadline": dl.name,
                    "due_at": dl.due_at.isoformat(),
                    "amendment": amendment_id,
                    "proposed_due_at": amendment.to_due_at.isoformat(),
                    "status": amendment.status,
                },
            ),
            amendments=[amendment],
        )

    def _apply_amendment(self, a: AmendmentView, decided_by: str, reason: str) -> None:
        """Moves the deadline (the main loop's timer follows) and explains the move."""
        st = self._st
        assert st is not None
        dl = st.deadlines[a.deadline]
        zone = self._zone()
        old = dl.due_at
        dl.due_at = a.to_due_at
        dl.last_day = local_date(a.to_due_at, zone)
        approved = (
            f", approved by {decided_by}"
            if decided_by != a.proposed_by
            else " (no second approver required)"
        )
        dl.explanation = [
            *dl.explanation,
            f"Amended on {describe_instant(workflow.now(), zone)} by {a.proposed_by}{approved}: "
            f"moved from {describe_instant(old, zone)} to {describe_instant(a.to_due_at, zone)}. "
            f"Reason: {a.reason}",
        ]
        a.status = "applied"
        a.decided_by, a.decided_at, a.decision_reason = decided_by, workflow.now(), reason
        st.amendments.pop(a.id, None)
        if a.deadline not in st.amended_deadlines:
            st.amended_deadlines.append(a.deadline)

    async def _move_dependents(self, a: AmendmentView) -> None:
        """Moves the pending deadlines counted from an amended one (e.g. its reminders).

        A deadline an operator amended itself keeps its own time.
        """
        inp, st = self._input, self._st
        assert inp is not None and st is not None
        computed = await workflow.execute_local_activity(
            "compute_deadlines",
            ComputeDeadlinesInput(
                inp.clause,
                inp.rulebook_version,
                inp.terms,
                st.facts,
                [],
                dict(st.deadlines),
                dependents_of=a.deadline,
            ),
            result_type=ComputeDeadlinesResult,
            start_to_close_timeout=_LOCAL_TIMEOUT,
        )
        zone = self._zone()
        amended = st.deadlines[a.deadline]
        for dl in computed.deadlines:
            current = st.deadlines.get(dl.name)
            if current is None or current.status != "pending" or dl.name in st.amended_deadlines:
                continue
            if dl.due_at == current.due_at:
                continue
            dl.explanation = [
                *dl.explanation,
                f"Moved from {describe_instant(current.due_at, zone)} because the deadline "
                f"it counts from ({amended.label.lower()}) was amended on "
                f"{describe_instant(workflow.now(), zone)}.",
            ]
            st.deadlines[dl.name] = dl

    def _decide_amendment(self, req: DecideAmendmentRequest) -> _Changes:
        st = self._st
        assert st is not None
        a = st.amendments[req.amendment_id]
        dl = st.deadlines[a.deadline]
        before = {
            "amendment": a.id,
            "deadline": a.deadline,
            "due_at": dl.due_at.isoformat(),
            "proposed_due_at": a.to_due_at.isoformat(),
            "proposed_by": a.proposed_by,
            "status": a.status,
        }
        if req.approve:
            self._apply_amendment(a, req.actor, req.reason)
        else:
            a.status = "rejected"
            a.decided_by, a.decided_at, a.decision_reason = req.actor, workflow.now(), req.reason
            st.amendments.pop(a.id)
        return _Changes(
            AuditView(
                "approve_amendment" if req.approve else "reject_amendment",
                req.actor,
                req.reason,
                before=before,
                after={**before, "due_at": dl.due_at.isoformat(), "status": a.status},
            ),
            amendments=[a],
        )

    def _close_case(self, req: CloseCaseRequest) -> _Changes:
        st = self._st
        assert st is not None
        before: dict[str, Any] = {
            "state": st.state,
            "closed": st.closed,
            "pending_deadlines": sorted(
                d.name for d in st.deadlines.values() if d.status == "pending"
            ),
            "held_notices": sorted(st.held_notices),
        }
        transition = None
        if not st.closed:
            transition = TransitionView(st.state, req.outcome, "operator:close_case")
            st.state = req.outcome
            st.closed = True
        for dl in st.deadlines.values():
            if dl.status == "pending":
                dl.status = "cancelled"
        # Held notices are never sent now; without them pending the run can end.
        discarded = sorted(st.held_notices)
        st.held_notices.clear()
        rejected = []
        for a in st.amendments.values():
            a.status = "rejected"
            a.decided_by, a.decided_at = req.actor, workflow.now()
            a.decision_reason = f"the case was closed ({req.outcome})"
            rejected.append(a)
        st.amendments.clear()
        return _Changes(
            AuditView(
                "close_case",
                req.actor,
                req.reason,
                before=before,
                after={
                    "state": st.state,
                    "closed": True,
                    "cancelled_deadlines": before["pending_deadlines"],
                    "discarded_notices": discarded,
                },
            ),
            transition=transition,
            amendments=rejected,
            discarded=discarded,
        )

    async def _rewrite_held_notice(
        self, req: ReviseHeldNoticeRequest
    ) -> tuple[_Changes | None, str | None]:
        """Writes the held notice again from the corrected facts; (changes, None) or
        (None, why it could not be)."""
        inp, st = self._input, self._st
        assert inp is not None and st is not None
        held = st.held_notices[req.notice_key]
        before = {k: st.facts.get(k) for k in req.values}
        facts = {**st.facts, **req.values}
        try:
            await self._activity(
                "rewrite_held_notice",
                self._notice_input(held.notice, req.notice_key, held.rule, facts, hold=True),
                start_to_close_timeout=dt.timedelta(seconds=inp.record_timeout_seconds),
                retry_policy=_RECORD_RETRY,
            )
        except ActivityError as err:
            return None, f"the notice could not be written from these values: {err.cause or err}"
        st.facts = facts
        return (
            _Changes(
                AuditView(
                    "revise_held_notice",
                    req.actor,
                    req.reason,
                    before={"notice": req.notice_key, "facts": before},
                    after={"notice": req.notice_key, "facts": dict(req.values)},
                )
            ),
            None,
        )

    def _reassign_owner(self, req: ReassignOwnerRequest) -> _Changes:
        st = self._st
        assert st is not None
        before = st.owner_email
        st.owner_email = req.owner_email
        return _Changes(
            AuditView(
                "reassign_owner",
                req.actor,
                req.reason,
                before={"owner_email": before},
                after={"owner_email": req.owner_email},
            )
        )

    def _refusal(self, action: _Action) -> str | None:
        """Why the action cannot be carried out on the case as it is now (None: it can)."""
        st = self._st
        if st is None or not self._ready:
            return "the case is still starting; try again in a moment"
        if not action.actor.strip():
            return "actor must name who acts"
        why = action.note if isinstance(action, ResolveEscalationRequest) else action.reason
        if not why.strip():
            what = "note" if isinstance(action, ResolveEscalationRequest) else "reason"
            return f"a {what} is required: say why, for the audit trail"
        if isinstance(action, ReviseHeldNoticeRequest):
            return self._revise_refusal(action)
        if isinstance(action, CloseCaseRequest):
            if action.outcome not in _CLOSED_BY_OPERATOR:
                return f"outcome must be withdrawn or cancelled, not {action.outcome!r}"
            if st.closed and not st.held_notices:
                return f"the case is already closed ({st.state})"
            return None
        if st.closed:
            return f"the case is closed ({st.state})"
        if isinstance(action, ResolveEscalationRequest):
            if not any((e.step, e.rule) == (action.step, action.rule) for e in st.open_escalations):
                return (
                    f"the case has no open escalation by rule {action.rule!r} at step "
                    f"{action.step} (it may be resolved already)"
                )
        elif isinstance(action, AmendDeadlineRequest):
            return self._amend_refusal(action)
        elif isinstance(action, DecideAmendmentRequest):
            return self._decide_refusal(action)
        elif isinstance(action, ReassignOwnerRequest):
            email = action.owner_email.strip()
            if "@" not in email or " " in email:
                return f"owner_email {action.owner_email!r} is not an email address"
            if email == st.owner_email:
                return f"{email} already owns the case"
        return None

    def _revise_refusal(self, req: ReviseHeldNoticeRequest) -> str | None:
        """A held notice (even of a closed case) may be corrected from text facts only."""
        st = self._st
        assert st is not None
        if req.notice_key not in st.held_notices:
            return f"no notice {req.notice_key!r} is waiting for approval"
        if not req.values:
            return "values must name at least one fact to correct"
        # The free text a person recorded with the fact the notice was written on; dates
        # and amounts that deadlines and money were computed from are not corrected here.
        specs = st.summary.recordable_facts
        fact = fact_behind(req.notice_key)
        chosen = [specs[fact]] if fact in specs else []
        revisable = {f for spec in chosen for f in spec.text_fields} & {
            k for k, v in st.facts.items() if isinstance(v, str)
        }
        for key, value in req.values.items():
            if key not in revisable:
                known = ", ".join(sorted(revisable)) or "none"
                return f"values.{key} cannot be corrected here (correctable: {known})"
            if not isinstance(value, str) or not value.strip():
                return f"values.{key} must be non-empty text"
        return None

    def _amend_refusal(self, req: AmendDeadlineRequest) -> str | None:
        st = self._st
        assert st is not None
        dl = st.deadlines.get(req.deadline)
        if dl is None:
            known = ", ".join(sorted(d for d, v in st.deadlines.items() if v.status == "pending"))
            return f"the case has no deadline {req.deadline!r} (pending: {known or 'none'})"
        if dl.status != "pending":
            return f"the {dl.label.lower()} is {dl.status}; only a pending deadline can be amended"
        if req.due_at.tzinfo is None or req.due_at.utcoffset() is None:
            return "due_at must include a time zone offset"
        zone = self._zone()
        if req.due_at <= workflow.now():
            return f"the new time {describe_instant(req.due_at, zone)} is not in the future"
        if req.due_at == dl.due_at:
            return f"the {dl.label.lower()} is already at {describe_instant(dl.due_at, zone)}"
        for a in st.amendments.values():
            if a.deadline == req.deadline:
                return (
                    f"amendment {a.id} of the {dl.label.lower()} by {a.proposed_by} is waiting "
                    "for approval; approve or reject it first"
                )
        return None

    def _decide_refusal(self, req: DecideAmendmentRequest) -> str | None:
        st = self._st
        assert st is not None
        a = st.amendments.get(req.amendment_id)
        if a is None:
            pending = ", ".join(st.amendments) or "none"
            return (
                f"no amendment {req.amendment_id!r} is waiting for a decision (pending: {pending})"
            )
        if not req.approve:
            return None  # anyone, the proposer too, may withdraw or refuse a proposal
        if req.actor.strip() == a.proposed_by:
            return f"{a.proposed_by} proposed amendment {a.id}; a second person must approve it"
        # Without both persons (older histories) the names decide, as they always did.
        if req.person and req.person == a.proposed_by_person:
            return (
                f"{a.proposed_by} proposed amendment {a.id}; a second person must approve it, "
                f"and {req.actor.strip()} is the same person"
            )
        dl = st.deadlines[a.deadline]
        if dl.status != "pending":
            return f"the {dl.label.lower()} is {dl.status}; the amendment can only be rejected"
        if a.to_due_at <= workflow.now():
            when = describe_instant(a.to_due_at, self._zone())
            return f"the proposed time {when} has passed; reject it and propose a new one"
        return None

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
            label = _CLOSED_BY_OPERATOR.get(st.state, st.state)
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

    async def _carry_out(self, action: _Action) -> _Event:
        """Queues an operator action for the main loop and waits until it is recorded."""
        ev = _Event("operator_action", type(action).__name__, action=action)
        self._queue.append(ev)
        await workflow.wait_condition(lambda: ev.done)
        if ev.error is not None:
            raise ApplicationError(ev.error, type="ActionRefused", non_retryable=True)
        return ev

    def _validate_action(self, action: _Action) -> None:
        """Refuses (ValueError, shown to the operator) what the case cannot do now."""
        for ev in self._queue:
            queued = ev.action
            if isinstance(queued, CloseCaseRequest):
                raise ValueError("the case is being closed")
            if queued is not None and _same_target(queued, action):
                raise ValueError("the same action on this case is already being carried out")
        refusal = self._refusal(action)
        if refusal is not None:
            raise ValueError(refusal)

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
            _Event("retry_now", f"retry_now:{st.step}"),
            {"event": "retry_now"},
            [],
            None,
            [],
            _Changes(
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

    @workflow.update
    async def resolve_escalation(self, request: ResolveEscalationRequest) -> CaseView:
        """Resolves an open escalation with the operator's note."""
        await self._carry_out(request)
        return self.case()

    @resolve_escalation.validator
    def _validate_resolve_escalation(self, request: ResolveEscalationRequest) -> None:
        self._validate_action(request)

    @workflow.update
    async def amend_deadline(self, request: AmendDeadlineRequest) -> CaseView:
        """Proposes moving a deadline (applied at once without a second approver).

        Returns the case with ``amendment_id`` set to the new amendment's id.
        """
        ev = await self._carry_out(request)
        view = self.case()
        view.amendment_id = ev.result
        return view

    @amend_deadline.validator
    def _validate_amend_deadline(self, request: AmendDeadlineRequest) -> None:
        self._validate_action(request)

    @workflow.update
    async def decide_amendment(self, request: DecideAmendmentRequest) -> CaseView:
        """Approves (the deadline and its timer move) or rejects a pending amendment."""
        await self._carry_out(request)
        return self.case()

    @decide_amendment.validator
    def _validate_decide_amendment(self, request: DecideAmendmentRequest) -> None:
        self._validate_action(request)

    @workflow.update
    async def close_case(self, request: CloseCaseRequest) -> CaseView:
        """Closes the case as withdrawn or cancelled: deadlines stop, held notices are dropped."""
        await self._carry_out(request)
        return self.case()

    @close_case.validator
    def _validate_close_case(self, request: CloseCaseRequest) -> None:
        self._validate_action(request)

    @workflow.update
    async def reassign_owner(self, request: ReassignOwnerRequest) -> CaseView:
        """Hands the case to another owner; later notices to the owner go to them."""
        await self._carry_out(request)
        return self.case()

    @reassign_owner.validator
    def _validate_reassign_owner(self, request: ReassignOwnerRequest) -> None:
        self._validate_action(request)

    @workflow.update
    async def ready(self) -> CaseView:
        """Waits until the case's first step is decided and recorded, then returns it."""
        await workflow.wait_condition(lambda: self._ready)
        return self.case()

    @workflow.update
    async def approve_notice(self, request: ApproveNoticeRequest) -> CaseView:
        """Releases a held notice: it is sent as it was rendered and previewed."""
        ev = _Event(
            "notice_approved",
            f"approved:{request.notice_key}",
            {"notice": self._st.held_notices[request.notice_key].notice} if self._st else {},
            approval=request,
        )
        self._queue.append(ev)
        await workflow.wait_condition(lambda: ev.done)
        return self.case()

    @workflow.update
    async def revise_held_notice(self, request: ReviseHeldNoticeRequest) -> CaseView:
        """Corrects the facts a held notice was written from; it is written again, still held."""
        await self._carry_out(request)
        return self.case()

    @revise_held_notice.validator
    def _validate_revise_held_notice(self, request: ReviseHeldNoticeRequest) -> None:
        if any(e.approval and e.approval.notice_key == request.notice_key for e in self._queue):
            raise ValueError(f"notice {request.notice_key!r} is already being approved")
        self._validate_action(request)

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
            _Event(
                "notice_failed",
                f"notice_failed:{failure.notice_key}:{failure.event}",
                {"notice": failure.notice, "delivery_event": failure.event},
                failure=failure,
            )
        )

    @workflow.update
    async def record_fact(self, request: RecordFactRequest) -> CaseView:
        """Records a fact (e.g. a withdrawal agreed in writing) and applies the rules."""
        ev = _Event(
            "fact_recorded",
            f"fact:{request.fact}",
            {"fact": request.fact, **_scalars(request.values)},
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
        refusal = refusal_of_fact(
            st.summary,
            inp.terms,
            self._zone(),
            workflow.now(),
            state=st.state,
            facts=st.facts,
            deadlines=st.deadlines,
            fact=request.fact,
            values=request.values,
        )
        if refusal is not None:
            raise ValueError(refusal)


def fact_behind(notice_key: str) -> str | None:
    """The recorded fact whose event wrote the notice ("final_report" for the key
    "final_report:fact:final_report:4"), or None for a notice of another event."""
    parts = notice_key.split(":")
    return parts[2] if len(parts) > 2 and parts[1] == "fact" else None


def _scalars(values: dict[str, Any]) -> dict[str, Scalar]:
    return {k: v for k, v in values.items() if isinstance(v, str | int | float | bool)}


def _same_target(a: _Action, b: _Action) -> bool:
    """Whether two operator actions act on the same thing (one must wait for the other)."""
    if isinstance(a, ResolveEscalationRequest) and isinstance(b, ResolveEscalationRequest):
        return (a.step, a.rule) == (b.step, b.rule)
    if isinstance(a, AmendDeadlineRequest) and isinstance(b, AmendDeadlineRequest):
        return a.deadline == b.deadline
    if isinstance(a, DecideAmendmentRequest) and isinstance(b, DecideAmendmentRequest):
        return a.amendment_id == b.amendment_id
    if isinstance(a, ReviseHeldNoticeRequest) and isinstance(b, ReviseHeldNoticeRequest):
        return a.notice_key == b.notice_key
    return type(a) is type(b) and isinstance(a, CloseCaseRequest | ReassignOwnerRequest)
