"""Writes what a case step changed into the store.

Each step is written in one transaction and is idempotent: a retried or replayed
activity for a step that is already recorded changes nothing.
"""

from __future__ import annotations

from sqlmodel import Session, select
from temporalio import activity

from activities.types import RecordStepInput
from rules.rulebook import default_registry
from store.db import session_scope
from store.models import AuditEntry, Case, Deadline, DecisionRecord, Escalation, Transition


def _upsert_case(session: Session, inp: RecordStepInput) -> Case:
    snap = inp.case
    rb = default_registry().get(snap.clause, snap.rulebook_version)
    state = rb.states.get(snap.state)
    pending = sorted(
        (d for d in snap.deadlines.values() if d.status == "pending"), key=lambda d: d.due_at
    )
    case = session.get(Case, snap.case_id)
    if case is None:
        case = Case(
            id=snap.case_id,
            contract_id=snap.contract_id,
            clause=snap.clause,
            rulebook_version=snap.rulebook_version,
            state=snap.state,
            state_label=state.label if state else snap.state,
            facts=snap.facts,
            opened_at=snap.opened_at,
            owner_email=snap.owner_email,
            updated_at=inp.at,
        )
    case.state = snap.state
    case.state_label = state.label if state else snap.state
    case.closed = snap.closed
    case.closed_at = inp.at if snap.closed else None
    case.facts = snap.facts
    case.owner_email = snap.owner_email
    case.next_deadline_at = pending[0].due_at if pending else None
    case.next_deadline_name = pending[0].name if pending else None
    case.escalated = case.escalated or bool(inp.escalations)
    case.last_step = inp.step
    case.updated_at = inp.at
    session.add(case)
    session.flush()
    return case


@activity.defn
def record_step(inp: RecordStepInput) -> None:
    """Records a case step: the case row, transition, decisions, deadlines, escalations."""
    from workers.observability import observe_deadline_lateness

    with session_scope() as session:
        existing = session.get(Case, inp.case.case_id)
        if existing is not None and existing.last_step >= inp.step:
            return  # already recorded by an earlier attempt
        _upsert_case(session, inp)
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
        rows = {
            r.name: r for r in session.exec(select(Deadline).where(Deadline.case_id == cid)).all()
        }
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
                row.status, row.due_at, row.last_day = dl.status, dl.due_at, dl.last_day
                row.explanation = dl.explanation
                row.updated_at = inp.at
            session.add(row)
        for e in inp.escalations:
            session.add(
                Escalation(case_id=cid, step=inp.step, rule=e.rule, reason=e.reason, at=inp.at)
            )
        if inp.actor is not None:
            session.add(
                AuditEntry(
                    at=inp.at,
                    actor=inp.actor,
                    action=inp.event.split(":", 1)[0],
                    contract_id=inp.case.contract_id,
                    case_id=cid,
                    reason=inp.reason,
                    before={"state": inp.transition.from_state} if inp.transition else None,
                    after={"state": inp.case.state, "event": inp.event, "values": inp.values},
                )
            )
    # Observability (issue 6): how late the case acted on a deadline, observed once, after
    # the step is committed (a retry of a recorded step returned above). The event key is
    # "deadline:<name>:<day>"; ``at`` is the workflow's time when it handled the deadline.
    if inp.event.startswith("deadline:"):
        reached = inp.case.deadlines.get(inp.event.split(":", 2)[1])
        if reached is not None:
            observe_deadline_lateness(
                reached.due_at, inp.at, clause=inp.case.clause, deadline=reached.group
            )
