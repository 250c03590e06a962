"""The hand-written workflow's one activity: a notice and its step record, once.

It renders the notice with Clauseflow's renderer (rules/render.py, the case's rulebook
version and its templates) and writes, in one transaction of Clauseflow's store:

- the notice, as Clauseflow writes an outboxed one (writing the row is the delivery);
- the step record: the case row (state, next deadline, last step; created by the first
  step with the case's deadlines), the reached deadline, the rule's decision
  (DecisionRecord) and, when the state changes, the transition.

Idempotent by the notice key: (case id, notice key) is unique in the store, so an attempt
after one that committed (a retry whose answer was lost, a timed-out attempt still
running) finds the notice and writes nothing; two attempts at once cannot both commit.
The outbox only: sending through SendGrid is a second step this baseline leaves out,
as the benchmark runs Clauseflow on its outbox too.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from bench.handwritten.shared import ACTIVITY_NAME, CLAUSE, NoticeInput, NoticeResult
from contracts.terms import TermSheet
from rules.render import NoticeRequest, RenderError, render_notice
from rules.rulebook import default_registry
from runtime.settings import get_settings
from store.db import session_scope
from store.models import Case, Contract, Deadline, DecisionRecord, Notice, Transition


def notice_id(case_id: str, notice_key: str) -> str:
    """The notice's id, the same on every attempt."""
    return "ntc_" + hashlib.sha256(f"{case_id}\x00{notice_key}".encode()).hexdigest()[:24]


def _written(session: Session, case_id: str, notice_key: str) -> Notice | None:
    return session.exec(
        select(Notice).where(Notice.case_id == case_id, Notice.notice_key == notice_key)
    ).first()


@activity.defn(name=ACTIVITY_NAME)
def send_termination_notice(inp: NoticeInput) -> NoticeResult:
    """Renders the step's notice and writes it with the step record, at most once."""
    nid = notice_id(inp.case_id, inp.notice_key)
    try:
        with session_scope() as session:
            if _written(session, inp.case_id, inp.notice_key) is not None:
                return NoticeResult(nid, written=False)
            _write_step(session, inp, nid)
    except IntegrityError:
        # Another attempt committed first: its notice stands, and this one wrote nothing.
        with session_scope() as session:
            if _written(session, inp.case_id, inp.notice_key) is not None:
                return NoticeResult(nid, written=False)
        raise
    return NoticeResult(nid, written=True)


def _write_step(session: Session, inp: NoticeInput, nid: str) -> None:
    # Reads and rendering first, then every write: SQLite's write lock is held briefly.
    case = session.get(Case, inp.case_id)
    if case is not None:
        contract_id = case.contract_id
    elif inp.opening is not None:
        contract_id = inp.opening.contract_id
    else:
        raise ApplicationError(
            f"case {inp.case_id} has no row and step {inp.step} does not open it",
            type="NoCase",
            non_retryable=True,
        )
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise ApplicationError(f"no contract {contract_id}", type="NoContract", non_retryable=True)
    terms = TermSheet.model_validate(contract.terms)
    if case is None:
        case, rows = _new_case(inp, terms.owner.email)
    else:
        rows = list(session.exec(select(Deadline).where(Deadline.case_id == case.id)))
    deadlines: dict[str, Any] = {d.name: d for d in rows}
    rb = default_registry().get(case.clause, case.rulebook_version)
    if inp.reached is not None:
        deadlines[inp.reached].status = "reached"
        deadlines[inp.reached].updated_at = inp.at
    try:
        rendered = render_notice(
            rb,
            terms,
            NoticeRequest(
                case_id=case.id,
                notice=inp.notice,
                state=inp.state,
                at=inp.at,
                facts=case.facts,
                deadlines=deadlines,
                owner_email=case.owner_email,
            ),
        )
    except RenderError as exc:
        raise ApplicationError(
            f"notice {inp.notice} could not be rendered: {exc}",
            type="NoticeTemplate",
            non_retryable=True,
        ) from exc

    pending = sorted((d for d in rows if d.status == "pending"), key=lambda d: d.due_at)
    if inp.from_state is not None:
        case.state_entered_at = inp.at
        session.add(
            Transition(
                case_id=case.id,
                step=inp.step,
                from_state=inp.from_state,
                to_state=inp.state,
                rule=inp.rule,
                at=inp.at,
            )
        )
    case.state, case.state_label = inp.state, rb.states[inp.state].label
    case.closed = inp.closed
    case.closed_at = inp.at if inp.closed else None
    case.next_deadline_at = pending[0].due_at if pending and not inp.closed else None
    case.next_deadline_name = pending[0].name if pending and not inp.closed else None
    case.last_step, case.updated_at = inp.step, inp.at
    session.add(case)
    session.add_all(rows)
    event = f"deadline:{inp.reached}" if inp.reached else "started"
    session.add(
        DecisionRecord(
            case_id=case.id,
            step=inp.step,
            seq=0,
            event=event,
            rule=inp.rule,
            rulebook_version=case.rulebook_version,
            action="send_notice",
            value=inp.notice,
            facts={"event": event},
            at=inp.at,
        )
    )
    deemed = (contract.terms.get("notices") or {}).get("deemed_receipt") == "sent"
    session.add(
        Notice(
            id=nid,
            case_id=case.id,
            notice_key=inp.notice_key,
            notice=inp.notice,
            clause=case.clause,
            channel="outbox",
            status="outboxed",
            due_at=inp.at,
            created_at=inp.at,
            sent_at=inp.at,
            deemed_received_at=inp.at if deemed else None,
            from_email=get_settings().notice_from_email,
            rule=inp.rule,
            case_state=inp.state,
            text_sha256=hashlib.sha256(rendered.body_text.encode()).hexdigest(),
            html_sha256=hashlib.sha256(rendered.body_html.encode()).hexdigest(),
            **dataclasses.asdict(rendered),
        )
    )


def _new_case(inp: NoticeInput, owner_email: str) -> tuple[Case, list[Deadline]]:
    """The case row and its deadlines, as the case's first step writes them."""
    opening = inp.opening
    assert opening is not None
    case = Case(
        id=inp.case_id,
        contract_id=opening.contract_id,
        clause=CLAUSE,
        rulebook_version=opening.rulebook_version,
        state="opened",
        state_label="Opened",
        facts=dict(opening.facts),
        opened_at=opening.opened_at,
        owner_email=owner_email,
        updated_at=inp.at,
    )
    rows = [
        Deadline(
            case_id=inp.case_id,
            name=d.name,
            group=d.group,
            label=d.label,
            due_at=d.due_at,
            last_day=d.last_day,
            explanation=d.explanation,
            status=d.status,
            set_at_step=inp.step,
            updated_at=inp.at,
        )
        for d in opening.deadlines
    ]
    return case, rows
