"""Writes what a case step changed into the store.

Each step is written in one transaction and is idempotent: a retried or replayed
activity for a step that is already recorded changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlmodel import Session, select
from temporalio import activity

from activities.failures import forget_failure
from activities.types import RecordStepInput
from rules.agreement import ENDED_WITH_AGREEMENT, ENDED_WITH_AGREEMENT_LABEL
from rules.rulebook import COULD_NOT_START, COULD_NOT_START_LABEL, default_registry
from rules.rulebook.vocabulary import EXPECT_NOTICE
from rules.senders import UnknownSender, sender_party
from store.db import session_scope
from store.models import (
    AuditEntry,
    Case,
    Deadline,
    DeadlineAmendment,
    DecisionRecord,
    Escalation,
    ExpectedNotice,
    Notice,
    Transition,
)

#: How the states an operator closes a case with read, when its rulebook has no such state,
#: and the engine's own state for a case whose first step cannot be taken.
_CLOSED_BY_OPERATOR = {
    "withdrawn": "Withdrawn by an operator",
    "cancelled": "Cancelled by an operator",
    COULD_NOT_START: COULD_NOT_START_LABEL,
    ENDED_WITH_AGREEMENT: ENDED_WITH_AGREEMENT_LABEL,
}

#: A session's ``info`` key for the case's deadline rows, when the caller read them
#: already in the same transaction (activities/steps.py).
DEADLINE_ROWS = "clauseflow.deadline_rows"

#: A session's ``info`` key for the case row a step wrote: held there for the rest of the
#: transaction, which finds it again without a query (the session's own map of rows
#: holds them by weak reference).
CASE_ROW = "clauseflow.case_row"

#: ``write_step``'s ``existing`` when the caller has not read the case row.
UNREAD: Any = object()

#: Who the audit trail names for what the case decided on its own.
CLAUSEFLOW = "Clauseflow"


def _state_label(inp: RecordStepInput) -> str:
    snap = inp.case
    state = default_registry().get(snap.clause, snap.rulebook_version).states.get(snap.state)
    if state is not None:
        return state.label
    return _CLOSED_BY_OPERATOR.get(snap.state, snap.state)


def _upsert_case(session: Session, inp: RecordStepInput, case: Case | None) -> Case:
    snap = inp.case
    rb = default_registry().get(snap.clause, snap.rulebook_version)
    state = rb.states.get(snap.state)
    label = _state_label(inp)
    pending = sorted(
        (d for d in snap.deadlines.values() if d.status == "pending"), key=lambda d: d.due_at
    )
    if case is None:
        case = Case(
            id=snap.case_id,
            contract_id=snap.contract_id,
            clause=snap.clause,
            rulebook_version=snap.rulebook_version,
            state=snap.state,
            state_label=label,
            facts=snap.facts,
            opened_at=snap.opened_at,
            owner_email=snap.owner_email,
            updated_at=inp.at,
        )
    elif case.last_step == 0:
        # The row the API wrote before it started the workflow: the workflow's own
        # opening instant wins.
        case.opened_at = snap.opened_at
    # Stuck detection: when the case entered its state, and when it has stayed too long.
    if case.state_entered_at is None or case.state != snap.state:
        case.state_entered_at = inp.at
    dwell = state.expected_dwell_days if state else None
    case.dwell_overdue_at = (
        case.state_entered_at + dt.timedelta(days=dwell)
        if dwell is not None and not snap.closed
        else None
    )
    case.state = snap.state
    case.state_label = label
    case.closed = snap.closed
    case.closed_at = inp.at if snap.closed else None
    case.facts = snap.facts
    case.owner_email = snap.owner_email
    case.next_deadline_at = pending[0].due_at if pending else None
    case.next_deadline_name = pending[0].name if pending else None
    if snap.open_escalations is None:
        case.escalated = case.escalated or bool(inp.escalations)
        if inp.escalations:
            case.escalation_reason = inp.escalations[-1].reason
    else:
        # Escalated while a rule's escalation is open; resolving the last one clears it.
        case.escalated = bool(snap.open_escalations)
        latest = max(snap.open_escalations, key=lambda e: (e.at, e.step), default=None)
        case.escalation_reason = latest.reason if latest else None
    case.last_step = inp.step
    case.updated_at = inp.at
    session.add(case)
    session.flush()
    return case


def _audit_entry(session: Session, inp: RecordStepInput) -> None:
    """The step's audit entry, written once per (case, step, action)."""
    cid = inp.case.case_id
    if inp.audit is not None:
        action, actor, reason = inp.audit.action, inp.audit.actor, inp.audit.reason
        before: Any = inp.audit.before
        after: Any = inp.audit.after
    elif inp.actor is not None:
        action, actor, reason = inp.event.split(":", 1)[0], inp.actor, inp.reason
        before = {"state": inp.transition.from_state} if inp.transition else None
        after = {"state": inp.case.state, "event": inp.event, "values": inp.values}
    else:
        return
    key = f"{cid}:{inp.step}:{action}"
    if session.exec(select(AuditEntry.id).where(AuditEntry.idempotency_key == key)).first():
        return
    session.add(
        AuditEntry(
            at=inp.at,
            actor=actor,
            action=action,
            contract_id=inp.case.contract_id,
            case_id=cid,
            reason=reason,
            before=before,
            after=after,
            idempotency_key=key,
        )
    )


def _catch_up_entry(session: Session, inp: RecordStepInput) -> None:
    """What a late step skipped and held, and why, once per step."""
    if not inp.caught_up:
        return
    cid = inp.case.case_id
    key = f"{cid}:{inp.step}:catch_up"
    if session.exec(select(AuditEntry.id).where(AuditEntry.idempotency_key == key)).first():
        return
    skipped = [c.notice for c in inp.caught_up if c.outcome == "skipped"]
    held = [c.notice for c in inp.caught_up if c.outcome == "held"]
    session.add(
        AuditEntry(
            at=inp.at,
            actor=CLAUSEFLOW,
            action="catch_up",
            contract_id=inp.case.contract_id,
            case_id=cid,
            reason="; ".join(f"{c.notice} {c.reason}" for c in inp.caught_up),
            before={"event": inp.event},
            after={"skipped": skipped, "held_for_approval": held},
            idempotency_key=key,
        )
    )


def _record_deadlines(session: Session, inp: RecordStepInput) -> None:
    cid = inp.case.case_id
    amended = {a.deadline for a in inp.amendments if a.status == "applied"}
    loaded = session.info.pop(DEADLINE_ROWS, None)
    if loaded is None:
        loaded = session.exec(select(Deadline).where(Deadline.case_id == cid)).all()
    rows = {r.name: r for r in loaded}
    for dl in inp.case.deadlines.values():
        row = rows.get(dl.name)
        if row is None:
            row = Deadline(
                case_id=cid,
                name=dl.name,
                group=dl.group,
                label=dl.label,
                due_at=dl.due_at,
                last_day=dl.last_day,
                explanation=dl.explanation,
                status=dl.status,
                set_at_step=inp.step,
                updated_at=inp.at,
            )
        elif (row.status, row.due_at, row.explanation) != (
            dl.status,
            dl.due_at,
            dl.explanation,
        ):
            if row.due_at != dl.due_at:
                # Calendar feeds send the revision, so subscribed calendars move the event.
                row.revision += 1
                if dl.name in amended and row.original_due_at is None:
                    row.original_due_at = row.due_at
            row.status, row.due_at, row.last_day = dl.status, dl.due_at, dl.last_day
            row.explanation = dl.explanation
            row.updated_at = inp.at
        session.add(row)


def _record_amendments(session: Session, inp: RecordStepInput) -> None:
    cid = inp.case.case_id
    for a in inp.amendments:
        row = session.exec(
            select(DeadlineAmendment).where(
                DeadlineAmendment.case_id == cid, DeadlineAmendment.amendment_id == a.id
            )
        ).first()
        if row is None:
            row = DeadlineAmendment(
                case_id=cid,
                amendment_id=a.id,
                deadline=a.deadline,
                from_due_at=a.from_due_at,
                to_due_at=a.to_due_at,
                reason=a.reason,
                proposed_by=a.proposed_by,
                proposed_at=a.proposed_at,
                status=a.status,
            )
        row.status = a.status
        row.decided_by, row.decided_at = a.decided_by, a.decided_at
        row.decision_reason = a.decision_reason
        session.add(row)


def _record_resolutions(session: Session, inp: RecordStepInput) -> None:
    cid = inp.case.case_id
    for r in inp.resolved_escalations:
        row = session.exec(
            select(Escalation).where(
                Escalation.case_id == cid, Escalation.step == r.step, Escalation.rule == r.rule
            )
        ).first()
        if row is not None and row.resolved_at is None:
            row.resolved_at, row.resolved_by, row.resolution_note = r.at, r.resolved_by, r.note
            session.add(row)
    for key in inp.discarded_notices:
        notice = session.exec(
            select(Notice).where(Notice.case_id == cid, Notice.notice_key == key)
        ).first()
        if notice is not None and notice.status == "awaiting_approval":
            notice.status = "discarded"
            session.add(notice)


def _forget_retried_failure(session: Session, inp: RecordStepInput) -> None:
    """retry_now starts the failing activity again at attempt 1: its count starts over.

    A failure recorded after the retry (its new first attempt failed already) stays.
    """
    case = session.get(Case, inp.case.case_id)
    restarted = (inp.audit.after or {}).get("restarted", []) if inp.audit else []
    if (
        case is not None
        and case.failing_activity in restarted
        and (case.last_failure_at is None or case.last_failure_at <= inp.at)
    ):
        forget_failure(case)
        session.add(case)


def write_step(session: Session, inp: RecordStepInput, existing: Case | None = UNREAD) -> bool:
    """Writes a case step in ``session``: the case row, transition, decisions, deadlines,
    escalations, and the operator's actions of the step.

    ``existing`` is the case row (or None: there is none yet) when the caller read it in
    this transaction. The row written is held in ``session.info[CASE_ROW]``.

    Returns False, writing nothing, when the step is recorded already (a retry).
    """
    if inp.audit_only:
        _audit_entry(session, inp)
        if inp.audit is not None and inp.audit.action == "retry_now":
            _forget_retried_failure(session, inp)
        return True
    if existing is UNREAD:
        existing = session.get(Case, inp.case.case_id)
    if existing is not None and existing.last_step >= inp.step:
        return False  # already recorded by an earlier attempt
    session.info[CASE_ROW] = _upsert_case(session, inp, existing)
    cid = inp.case.case_id
    if inp.transition is not None:
        session.add(
            Transition(
                case_id=cid,
                step=inp.step,
                from_state=inp.transition.from_state,
                to_state=inp.transition.to_state,
                rule=inp.transition.rule,
                at=inp.at,
            )
        )
    for seq, d in enumerate(inp.decisions):
        session.add(
            DecisionRecord(
                case_id=cid,
                step=inp.step,
                seq=seq,
                event=inp.event,
                rule=d.rule,
                rulebook_version=inp.case.rulebook_version,
                action=d.action,
                value=d.value,
                facts=dict(inp.facts_seen),
                at=inp.at,
            )
        )
    _record_deadlines(session, inp)
    for e in inp.escalations:
        session.add(Escalation(case_id=cid, step=inp.step, rule=e.rule, reason=e.reason, at=inp.at))
    _record_amendments(session, inp)
    _record_resolutions(session, inp)
    _record_expected_notices(session, inp)
    _audit_entry(session, inp)
    _catch_up_entry(session, inp)
    return True


def observe_step(inp: RecordStepInput) -> None:
    """Observability (issue 6): how late the case acted on a deadline, observed once,
    after the step is committed. The event key is "deadline:<name>:<day>"; ``at`` is the
    workflow's time when it handled the deadline."""
    from runtime.observability import observe_deadline_lateness

    if inp.event.startswith("deadline:"):
        reached = inp.case.deadlines.get(inp.event.split(":", 2)[1])
        if reached is not None:
            observe_deadline_lateness(
                reached.due_at, inp.at, clause=inp.case.clause, deadline=reached.group
            )


@activity.defn
def record_step(inp: RecordStepInput) -> None:
    """Records a case step: the case row, transition, decisions, deadlines, escalations.

    Also the operator's actions of the step: its audit entry (keyed
    ``"{case_id}:{step}:{action}"``, so it is written once), resolved escalations,
    deadline amendments and discarded held notices. An ``audit_only`` step writes just
    its audit entry: it is an action taken while another step may still be in flight.
    (Cases opened since issue 14 record through activities.steps.record_step_and_notices.)
    """
    with session_scope() as session:
        wrote = write_step(session, inp)
    if wrote and not inp.audit_only:
        observe_step(inp)


def _record_expected_notices(session: Session, inp: RecordStepInput) -> None:
    """The other party's notices the step expects, and the one a person recorded as
    received (the notice's ``received_as`` fact, with its date and text)."""
    expected = [d for d in inp.decisions if d.action == EXPECT_NOTICE]
    fact = inp.facts_seen.get("fact") if inp.facts_seen.get("event") == "fact_recorded" else None
    if not expected and fact is None:
        return
    rb = default_registry().get(inp.case.clause, inp.case.rulebook_version)
    cid = inp.case.case_id
    rows = {
        r.notice: r
        for r in session.exec(select(ExpectedNotice).where(ExpectedNotice.case_id == cid))
    }

    def row_for(notice: str, rule: str) -> ExpectedNotice | None:
        if notice in rows:
            return rows[notice]
        spec = rb.notices[notice]
        try:
            sender = sender_party(spec, inp.case.facts)
        except UnknownSender:
            return None
        deadline = inp.case.deadlines.get(spec.expected_by) if spec.expected_by else None
        row = ExpectedNotice(
            case_id=cid,
            notice=notice,
            clause=rb.clause,
            label=spec.label or notice.replace("_", " "),
            sender=sender or "",
            rule=rule,
            step=inp.step,
            expected_at=inp.at,
            expected_by=spec.expected_by,
            due_at=deadline.due_at if deadline else None,
            status="expected",
        )
        session.add(row)
        rows[notice] = row
        return row

    for d in expected:
        row_for(str(d.value), d.rule)
    received = [n for n, spec in rb.notices.items() if fact and spec.received_as == fact]
    values = inp.values or {}
    for notice in received:
        # Only a notice the case expected is the other party's to give: the same fact may
        # record our own (the decision we took, as the Provider, on the defence).
        row = rows.get(notice)
        if row is None or row.status == "received":
            continue
        row.status = "received"
        at = values.get("received_at")
        row.received_at = dt.datetime.fromisoformat(str(at)) if at else inp.at
        row.recorded_by = inp.actor
        text = values.get("notice_text")
        if text:
            row.notice_text = str(text)
            row.text_sha256 = hashlib.sha256(str(text).encode()).hexdigest()
