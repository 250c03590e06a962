"""One activity a step: the step's record and its notices, written in one transaction.

A case opened since issue 14 records each step here. Its input carries ids and what the
step changed (activities.types.StepRecordInput); the case's facts, deadlines and term
sheet come from the store, as the step's own earlier records left them. In one
transaction the step is recorded (activities/records.py) and each of its notices is
written from the case as it now stands (held for approval, in the outbox, or marked to
be sent). Only then, after the commit, does a notice go to SendGrid, through the same
state machine as ever (activities/notices.py): exactly once per (case, notice key).

A retry finds the step recorded and the notices written, and carries each notice on from
its state. A notice that cannot be written (its template fails) or sent (SendGrid refuses
it for good, or cannot say whether it took it) is answered as an outcome with its reason,
for the case to escalate; the step and the other notices go ahead.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlmodel import Session, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.faults import crash_if
from activities.notices import approval_changes, carry_on, new_notice_row, notice_id_for
from activities.records import CASE_ROW, DEADLINE_ROWS, observe_step, write_step
from activities.types import (
    CaseSnapshot,
    DeadlineView,
    HandOverInput,
    NoticeOrder,
    NoticeOutcome,
    RecordStepInput,
    SendNoticeInput,
    SendNoticeResult,
    StepRecordInput,
    StepRecordResult,
)
from store.db import insert_if_absent, session_scope
from store.models import Case, Contract, Deadline, Notice, TermSnapshot


def terms_digest(terms: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(terms, sort_keys=True).encode()).hexdigest()


def _keep_terms(session: Session, case: Case, terms: dict[str, Any], digest: str, at: Any) -> None:
    """Keeps the term sheet (once per content) and names it on the case row."""
    if session.get(TermSnapshot, digest) is None:
        # Another case may keep the same sheet at this moment: neither fails on the key.
        values = {"sha256": digest, "terms": terms, "first_seen_at": at}
        insert_if_absent(session, TermSnapshot.__table__, values, ["sha256"])  # type: ignore[attr-defined]
    if case.terms_sha256 != digest:
        case.terms_sha256 = digest
        session.add(case)


#: Term sheets read from the store, by their SHA-256: content-addressed, so never stale.
_TERMS: dict[str, dict[str, Any]] = {}


def _by_digest(session: Session, digest: str, contract_id: str | None) -> dict[str, Any] | None:
    """The term sheet with this SHA-256: kept already, or the contract's own (a case
    opened through the API runs on its contract's terms), else None."""
    terms = _TERMS.get(digest)
    if terms is None:
        snapshot = session.get(TermSnapshot, digest)
        if snapshot is not None:
            terms = snapshot.terms
        elif contract_id is not None:
            contract = session.get(Contract, contract_id)
            if contract is not None and terms_digest(contract.terms) == digest:
                terms = contract.terms
        if terms is not None:
            if len(_TERMS) >= 256:
                _TERMS.clear()
            _TERMS[digest] = terms
    return terms


def _terms_of(session: Session, inp: StepRecordInput) -> dict[str, Any]:
    """The case's term sheet, for its notices: sent, or kept with the case."""
    if inp.terms is not None:
        return inp.terms
    digest = inp.terms_sha256
    if digest is None:
        case = session.get(Case, inp.case_id)
        digest = case.terms_sha256 if case is not None else None
    terms = _by_digest(session, digest, None) if digest else None
    if terms is None:
        # The first record of every run names the terms: a case without them here was
        # not recorded by this code. Retrying cannot help; the case's task shows it.
        raise ApplicationError(
            f"case {inp.case_id} has no term sheet in the store", non_retryable=True
        )
    return terms


def _as_recorded(session: Session, inp: StepRecordInput) -> tuple[RecordStepInput, Case | None]:
    """The step as records.write_step takes it: the case as it stands after the step,
    from the store and the step's changes; and the case's row, as the store has it.

    The caller holds on to that row for the transaction: the session keeps its rows by
    weak reference, and each later look-up of a row let go is a query again.
    """
    row = session.get(Case, inp.case_id)
    facts = {**(row.facts if row is not None else {}), **inp.facts}
    deadlines: dict[str, DeadlineView] = {}
    if not inp.audit_only:
        # No case row yet, no deadlines either (they belong to it).
        where = Deadline.case_id == inp.case_id
        rows = [] if row is None else list(session.exec(select(Deadline).where(where)))
        # records.write_step compares them with the step's deadlines: read once.
        session.info[DEADLINE_ROWS] = rows
        for d in rows:
            deadlines[d.name] = DeadlineView(
                d.name, d.group, d.label, d.due_at, d.last_day, list(d.explanation), d.status
            )
    for name, status in inp.deadline_status.items():
        deadlines[name].status = status
    for dl in inp.deadlines:
        deadlines[dl.name] = dl
    record = RecordStepInput(
        case=CaseSnapshot(
            case_id=inp.case_id,
            contract_id=inp.contract_id,
            clause=inp.clause,
            rulebook_version=inp.rulebook_version,
            state=inp.state,
            closed=inp.closed,
            owner_email=inp.owner_email,
            facts=facts,
            opened_at=inp.opened_at,
            deadlines=deadlines,
            open_escalations=inp.open_escalations,
        ),
        step=inp.step,
        event=inp.event,
        at=inp.at,
        facts_seen=inp.facts_seen,
        decisions=inp.decisions,
        transition=inp.transition,
        escalations=inp.escalations,
        actor=inp.actor,
        reason=inp.reason,
        values=inp.values,
        audit=inp.audit,
        audit_only=inp.audit_only,
        resolved_escalations=inp.resolved_escalations,
        amendments=inp.amendments,
        discarded_notices=inp.discarded_notices,
        caught_up=inp.caught_up,
    )
    return record, row


def _notice_input(
    inp: StepRecordInput, record: RecordStepInput, order: NoticeOrder, terms: dict[str, Any]
) -> SendNoticeInput:
    return SendNoticeInput(
        case_id=inp.case_id,
        clause=inp.clause,
        rulebook_version=inp.rulebook_version,
        notice=order.notice,
        notice_key=order.key,
        rule=order.rule,
        at=inp.at,
        state=inp.state,
        terms=terms,
        facts=record.case.facts,
        deadlines=record.case.deadlines,
        hold_for_approval=order.hold,
        approved_by=order.approved_by,
        owner_email=inp.owner_email,
    )


#: Notice statuses after the step's transaction that still need SendGrid's hand-over.
TO_HAND_OVER = ("retry", "sending")


def _write_notice(session: Session, inp: SendNoticeInput) -> NoticeOutcome:
    """Writes the step's notice in the step's transaction (or approves a held one).

    A row of that key may be there already (a retry, a held notice approved, a row an
    earlier attempt wrote): it is carried on from its state, never written twice.
    """
    row = session.get(Notice, notice_id_for(inp.case_id, inp.notice_key))
    if row is None:
        try:
            row = new_notice_row(inp)
        except ApplicationError as exc:  # its template cannot be written from the facts
            return NoticeOutcome(inp.notice_key, "not_written", str(exc))
        session.add(row)
    elif row.status == "awaiting_approval" and not inp.hold_for_approval:
        for field, value in approval_changes(inp).items():
            setattr(row, field, value)
        session.add(row)
    if row.status == "failed":
        return NoticeOutcome(inp.notice_key, row.status, f"notice could not be sent: {row.error}")
    return NoticeOutcome(inp.notice_key, row.status)


@activity.defn
def record_step_and_notices(inp: StepRecordInput) -> StepRecordResult:
    """Records a case step and writes its notices, in one transaction.

    A notice in the outbox (or held for approval) is done when this returns; one for
    SendGrid is answered ``retry`` and the case hands it over (``hand_over_notice``):
    a SendGrid outage then delays that notice, never the step or the case's answer.
    """
    if inp.notices:
        crash_if("before_notice_row")
    with session_scope() as session:
        kept: dict[str, Any] | None = inp.terms
        if kept is None and inp.terms_sha256 is not None and not inp.audit_only:
            kept = _by_digest(session, inp.terms_sha256, inp.contract_id)
            if kept is None:
                return StepRecordResult(terms_needed=True)  # nothing written yet
        # ``row`` is held to the end: _terms_of finds it without a query.
        record, row = _as_recorded(session, inp)
        wrote = write_step(session, record, row)
        if kept is not None and not inp.audit_only:
            case = session.info.get(CASE_ROW) or row
            if case is not None:
                # Found by its digest, it is not hashed again.
                found_by = inp.terms_sha256 if inp.terms is None else None
                digest = found_by or terms_digest(kept)
                _keep_terms(session, case, kept, digest, inp.at)
        terms = (kept or _terms_of(session, inp)) if inp.notices else {}
        outcomes = [
            _write_notice(session, _notice_input(inp, record, order, terms))
            for order in inp.notices
        ]
    if inp.notices:
        crash_if("after_notice_row")
    if wrote and not inp.audit_only:
        observe_step(record)
    return StepRecordResult(outcomes)


@activity.defn
def hand_over_notice(inp: HandOverInput) -> SendNoticeResult:
    """Hands a written notice to SendGrid, exactly once (activities/notices.py)."""
    with session_scope() as session:
        row = session.get(Notice, notice_id_for(inp.case_id, inp.notice_key))
        if row is None:
            raise ApplicationError(
                f"notice {inp.notice_key} was never written",
                type="NoticeNotWritten",
                non_retryable=True,
            )
        case = session.get(Case, inp.case_id)
        snapshot = (
            session.get(TermSnapshot, case.terms_sha256) if case and case.terms_sha256 else None
        )
        terms = snapshot.terms if snapshot is not None else {}
    return carry_on(
        row,
        SendNoticeInput(
            case_id=inp.case_id,
            clause=row.clause,
            rulebook_version=0,  # not read: the notice is written already
            notice=row.notice,
            notice_key=row.notice_key,
            rule=row.rule,
            at=inp.at,
            state=row.case_state,
            terms=terms,
            facts={},
            deadlines={},
        ),
    )
