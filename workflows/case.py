"""The generic case workflow: runs one clause of one contract by its rulebook.

The workflow holds the case's time and state. On every event (the case starting, a
deadline being reached, a fact being recorded) it asks the pinned rulebook version
which decisions follow, applies them (transition, set or cancel deadlines, notices,
escalation, close) and has activities record them. It is deterministic and does no
I/O itself.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.types import (
        CaseSnapshot,
        ComputeDeadlinesInput,
        ComputeDeadlinesResult,
        DeadlineView,
        DecideInput,
        DecideResult,
        DecisionView,
        DeriveContext,
        DescribeRulebookInput,
        EscalationView,
        RecordedFactInput,
        RecordStepInput,
        RulebookSummary,
        Scalar,
        SendNoticeInput,
        TransitionView,
    )
    from contracts.calendar import describe_instant

CONTRACT_ID = SearchAttributeKey.for_keyword("ContractId")
CLAUSE = SearchAttributeKey.for_keyword("Clause")
CASE_STATE = SearchAttributeKey.for_keyword("CaseState")

_LOCAL_TIMEOUT = dt.timedelta(seconds=30)
# Records and notices retry without limit: a database or mail outage delays a case,
# it never loses a step or a notice.
_RECORD_TIMEOUT = dt.timedelta(seconds=30)
_RECORD_RETRY = RetryPolicy(maximum_interval=dt.timedelta(minutes=1))
_NOTICE_RETRY = RetryPolicy(
    initial_interval=dt.timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=dt.timedelta(minutes=10),
)


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
    done: bool = False


@workflow.defn(name="CaseWorkflow")
class CaseWorkflow:
    """Interprets a clause's rulebook for the life of one case."""

    def __init__(self) -> None:
        self._input: CaseInput | None = None
        self._st: CaseState | None = None
        self._queue: list[_Event] = []
        self._ready = False

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
            self._st = CaseState(summary=summary, opened_at=workflow.now(), facts=dict(inp.facts))
            await self._handle(_Event("case_started", "started"))
        else:
            self._st = inp.state
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
                await self._handle(self._queue[0])
                self._queue.pop(0).done = True
            elif due is not None and workflow.now() >= due.due_at:
                # The key names the occurrence: a recurring deadline is reached again
                # and again, and each time may send its own notice.
                when = due.last_day.isoformat() if due.last_day else due.due_at.isoformat()
                await self._handle(
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

        if ev.kind == "deadline_reached":
            st.deadlines[str(ev.facts["deadline"])].status = "reached"
        transition: TransitionView | None = None
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
        if st.closed:
            for dl in st.deadlines.values():
                if dl.status == "pending":
                    dl.status = "cancelled"
        st.escalations.extend(e.reason for e in escalations)

        await self._record(step, ev, seen, decisions, transition, escalations)
        if transition is not None:
            workflow.upsert_search_attributes([CASE_STATE.value_set(st.state)])
        self._ready = True
        if ev.approval is not None:
            held = st.held_notices.pop(ev.approval.notice_key)
            await self._send_notice(
                held.notice, held.rule, ev, key=ev.approval.notice_key, approval=ev.approval
            )
        for notice, rule in notices:
            await self._send_notice(notice, rule, ev)

    async def _record(
        self,
        step: int,
        ev: _Event,
        seen: dict[str, Scalar],
        decisions: list[DecisionView],
        transition: TransitionView | None,
        escalations: list[EscalationView],
    ) -> None:
        inp, st = self._input, self._st
        assert inp is not None and st is not None
        await workflow.execute_activity(
            "record_step",
            RecordStepInput(
                case=CaseSnapshot(
                    case_id=inp.case_id,
                    contract_id=inp.contract_id,
                    clause=inp.clause,
                    rulebook_version=inp.rulebook_version,
                    state=st.state,
                    closed=st.closed,
                    owner_email=inp.owner_email,
                    facts=st.facts,
                    opened_at=st.opened_at,
                    deadlines=st.deadlines,
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
            ),
            start_to_close_timeout=_RECORD_TIMEOUT,
            retry_policy=_RECORD_RETRY,
        )

    async def _send_notice(
        self,
        notice: str,
        rule: str,
        ev: _Event,
        key: str | None = None,
        approval: ApproveNoticeRequest | None = None,
    ) -> None:
        inp, st = self._input, self._st
        assert inp is not None and st is not None
        key = key or f"{notice}:{ev.key}"
        hold = approval is None and notice in st.summary.notices_requiring_approval
        try:
            await workflow.execute_activity(
                "send_notice",
                SendNoticeInput(
                    case_id=inp.case_id,
                    clause=inp.clause,
                    rulebook_version=inp.rulebook_version,
                    notice=notice,
                    notice_key=key,
                    rule=rule,
                    at=workflow.now(),
                    state=st.state,
                    terms=inp.terms,
                    facts=st.facts,
                    deadlines=st.deadlines,
                    hold_for_approval=hold,
                    approved_by=approval.approved_by if approval else None,
                ),
                start_to_close_timeout=dt.timedelta(seconds=inp.notice_timeout_seconds),
                retry_policy=_NOTICE_RETRY,
            )
        except ActivityError as err:
            # A notice that cannot go out must not pass silently: escalate the case.
            cause = err.cause
            reason = f"notice {notice} could not be sent: {cause or err}"
            st.step += 1
            st.escalations.append(reason)
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

    # -- queries and updates -----------------------------------------------------------

    @workflow.query
    def case(self) -> CaseView:
        """The case's legal state, deadlines, notices and escalations."""
        inp, st = self._input, self._st
        if inp is None or st is None:
            raise ApplicationError("case is starting")
        label = st.summary.states[st.state].label if st.state in st.summary.states else st.state
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
        )

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
        st = self._st
        if st is None or not self._ready:
            raise ValueError("the case is still starting; try again in a moment")
        if st.closed:
            raise ValueError(f"the case is closed ({st.state}); no facts can be recorded")
        spec = st.summary.recordable_facts.get(request.fact)
        if spec is None:
            known = ", ".join(sorted(st.summary.recordable_facts)) or "none"
            raise ValueError(
                f"fact {request.fact!r} is not recordable in this case (known: {known})"
            )
        if spec.allowed_in and st.state not in spec.allowed_in:
            raise ValueError(
                f"fact {request.fact!r} can only be recorded in {', '.join(spec.allowed_in)}; "
                f"the case is {st.state}"
            )
        missing = [f for f in spec.required_fields if request.values.get(f) in (None, "")]
        if missing:
            raise ValueError(f"values.{missing[0]} is required for {request.fact}")
        if spec.allowed_before is not None:
            window = st.deadlines.get(spec.allowed_before)
            if window is not None and (
                window.status != "pending" or workflow.now() >= window.due_at
            ):
                assert self._input is not None
                closed = describe_instant(window.due_at, self._input.terms["time_zone"])
                raise ValueError(
                    f"{spec.label} is refused: the {window.label.lower()} ended at {closed}"
                )
        for req in spec.require_any_true:
            if not any(request.values.get(f) is True for f in req.fields):
                raise ValueError(req.message)
        if not request.recorded_by.strip():
            raise ValueError("recorded_by must name who records the fact")


def _scalars(values: dict[str, Any]) -> dict[str, Scalar]:
    return {k: v for k, v in values.items() if isinstance(v, str | int | float | bool)}
