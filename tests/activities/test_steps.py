"""One activity a step: the step's record and its notices in one transaction, from an
input that carries ids and what changed; the rest is read from the store."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from activities import notices, steps
from activities.rulebooks import compute_deadlines
from activities.steps import hand_over_notice, record_step_and_notices, terms_digest
from activities.types import (
    ComputeDeadlinesInput,
    DecisionView,
    HandOverInput,
    NoticeOrder,
    StepRecordInput,
    TransitionView,
)
from contracts.calendar import describe_day
from rules.render import RenderError
from store.db import get_engine
from store.models import Case, Deadline, DecisionRecord, Notice, TermSnapshot
from tests.support.fixtures import sendgrid_mock_fixture  # noqa: F401  (the sendgrid_mock fixture)
from tests.support.sendgrid_mock import SendGridMock
from tests.workflows.helpers import seed_reference_contract
from workers.seed import reference_term_sheet

CLAUSE = "termination_for_convenience"
VERSION = 3


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _facts(now: dt.datetime) -> dict[str, Any]:
    received = (now - dt.timedelta(days=2)).isoformat().replace("+00:00", "Z")
    return {"notice_received_at": received, "given_by": "provider"}


def first_step(case_id: str, now: dt.datetime, **changes: Any) -> StepRecordInput:
    """The case's first record: every fact, every deadline, the terms, the acknowledgement."""
    terms = reference_term_sheet().model_dump(mode="json")
    facts = _facts(now)
    deadlines = compute_deadlines(
        ComputeDeadlinesInput(CLAUSE, VERSION, terms, facts, ["effective_date", "reminder"])
    ).deadlines
    inp = StepRecordInput(
        case_id=case_id,
        contract_id="ctr_reference_msa",
        clause=CLAUSE,
        rulebook_version=VERSION,
        step=1,
        event="started",
        at=now,
        state="notice_period_running",
        closed=False,
        opened_at=now,
        owner_email=None,
        facts_seen={"event": "case_started", "given_by_us": False},
        decisions=[
            DecisionView("acknowledge_termination_notice", "transition", "notice_period_running"),
            DecisionView("acknowledge_termination_notice", "send_notice", "acknowledgement"),
        ],
        facts=facts,
        deadlines=deadlines,
        terms=terms,
        transition=TransitionView(None, "notice_period_running", "acknowledge_termination_notice"),
        notices=[
            NoticeOrder("acknowledgement", "acknowledgement:started", "acknowledge_termination")
        ],
    )
    return dataclasses.replace(inp, **changes)


def later_step(case_id: str, now: dt.datetime, step: int = 2) -> StepRecordInput:
    """A reminder reached: nothing changed but that deadline's status."""
    return StepRecordInput(
        case_id=case_id,
        contract_id="ctr_reference_msa",
        clause=CLAUSE,
        rulebook_version=VERSION,
        step=step,
        event="deadline:reminder_60:x",
        at=now,
        state="notice_period_running",
        closed=False,
        opened_at=now,
        owner_email=None,
        facts_seen={"event": "deadline_reached", "deadline": "reminder_60"},
        decisions=[
            DecisionView("remind_owner_before_effective_date", "send_notice", "owner_reminder")
        ],
        deadline_status={"reminder_60": "reached"},
        notices=[NoticeOrder("owner_reminder", "owner_reminder:deadline:reminder_60:x", "remind")],
    )


def _count(model: Any, **where: Any) -> int:
    with Session(get_engine()) as s:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(s.exec(query).one())


def _row(model: Any, key: Any) -> Any:
    with Session(get_engine()) as s:
        return s.get(model, key)


def test_the_step_and_its_notice_are_written_together_and_a_retry_writes_neither_again(
    db_url: str,
) -> None:
    seed_reference_contract()
    now = _now()
    first = record_step_and_notices(first_step("case_s", now))
    again = record_step_and_notices(first_step("case_s", now))
    assert [o.status for o in first.notices] == ["outboxed"]
    assert [(o.status, o.error) for o in again.notices] == [("outboxed", None)]
    assert _count(Notice, case_id="case_s") == 1
    assert _count(DecisionRecord, case_id="case_s") == 2
    assert _row(Case, "case_s").last_step == 1


def test_a_failure_while_writing_the_notice_leaves_the_step_unrecorded_too(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_reference_contract()
    now = _now()

    def broken(*args: Any) -> Notice:
        raise RuntimeError("the database went away mid-transaction")

    monkeypatch.setattr(steps, "new_notice_row", broken)
    with pytest.raises(RuntimeError):
        record_step_and_notices(first_step("case_t", now))
    # One transaction: no step without its notice.
    assert _row(Case, "case_t") is None and _count(DecisionRecord, case_id="case_t") == 0
    monkeypatch.undo()
    record_step_and_notices(first_step("case_t", now))
    assert _row(Case, "case_t").last_step == 1 and _count(Notice, case_id="case_t") == 1


def test_a_later_step_reads_the_facts_deadlines_and_terms_from_the_store(db_url: str) -> None:
    seed_reference_contract()
    now = _now()
    record_step_and_notices(first_step("case_u", now))
    outcome = record_step_and_notices(later_step("case_u", now))
    assert [o.status for o in outcome.notices] == ["outboxed"]
    case = _row(Case, "case_u")
    assert case.last_step == 2 and case.facts == _facts(now)  # kept from the first record
    with Session(get_engine()) as s:
        where = Deadline.case_id == "case_u"
        stored = {d.name: d for d in s.exec(select(Deadline).where(where))}
        reminder = s.exec(
            select(Notice).where(Notice.case_id == "case_u", Notice.notice == "owner_reminder")
        ).one()
    assert stored["reminder_60"].status == "reached"
    assert stored["effective_date"].status == "pending"
    # Written from the stored deadlines and terms: the effective date, in the contract's words.
    effective = stored["effective_date"].last_day
    assert effective is not None and describe_day(effective) in reminder.subject
    assert reference_term_sheet().owner.email in reminder.to


def _statements(record: Callable[[], Any]) -> list[str]:
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.lstrip())

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        record()
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    return statements


def test_a_step_reads_the_case_row_once(db_url: str) -> None:
    """Its look-ups of the case row (the facts, write_step, the term sheet, the notices'
    terms) find the row the step read first: each lost one was a query, in the step's
    write transaction. A first step, with no row yet, reads no deadlines either."""
    seed_reference_contract()
    now = _now()
    first = _statements(lambda: record_step_and_notices(first_step("case_q", now)))
    later = _statements(lambda: record_step_and_notices(later_step("case_q", now)))
    for statements in (first, later):
        case_reads = [s for s in statements if s.startswith('SELECT "case".')]
        assert len(case_reads) == 1, case_reads
    assert not [s for s in first if s.startswith("SELECT deadline.")]
    assert len([s for s in later if s.startswith("SELECT deadline.")]) == 1
    # ... and still names the case's term sheet on its row.
    sent = first_step("case_q", now).terms
    assert sent is not None and _row(Case, "case_q").terms_sha256 == terms_digest(sent)


def test_two_cases_keeping_one_term_sheet_at_the_same_moment_both_record_their_step(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second looked for the sheet before the first had committed it: its insert
    finds the row there and does nothing, where it failed on the key (CI's chaos run saw
    concurrent first steps retried for it)."""
    seed_reference_contract()
    now = _now()
    record_step_and_notices(first_step("case_k1", now))
    real_get = Session.get

    def before_the_first_committed(self: Session, model: Any, key: Any, **kw: Any) -> Any:
        return None if model is TermSnapshot else real_get(self, model, key, **kw)

    monkeypatch.setattr(Session, "get", before_the_first_committed)
    outcome = record_step_and_notices(first_step("case_k2", now))
    monkeypatch.undo()
    assert [o.status for o in outcome.notices] == ["outboxed"]
    assert _count(TermSnapshot) == 1
    assert _row(Case, "case_k2").terms_sha256 == _row(Case, "case_k1").terms_sha256


def test_the_term_sheet_is_kept_once_however_many_cases_run_on_it(db_url: str) -> None:
    seed_reference_contract()
    now = _now()
    for case_id in ("case_a", "case_b"):
        record_step_and_notices(first_step(case_id, now))
    digest = terms_digest(reference_term_sheet().model_dump(mode="json"))
    assert _count(TermSnapshot) == 1
    assert _row(Case, "case_a").terms_sha256 == _row(Case, "case_b").terms_sha256 == digest


def test_a_notice_whose_template_fails_is_an_outcome_and_the_step_is_recorded(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_reference_contract()
    now = _now()

    def fails(*args: Any) -> Any:
        raise RenderError("'deadlines.effective_date' is undefined")

    monkeypatch.setattr(notices, "render_notice", fails)
    [outcome] = record_step_and_notices(first_step("case_v", now)).notices
    assert outcome.status == "not_written" and "could not be rendered" in (outcome.error or "")
    assert _row(Case, "case_v").last_step == 1 and _count(Notice, case_id="case_v") == 0


def test_a_notice_for_sendgrid_is_written_in_the_step_and_handed_over_once(
    db_url: str, sendgrid_mock: SendGridMock
) -> None:
    seed_reference_contract()
    now = _now()
    [outcome] = record_step_and_notices(first_step("case_w", now)).notices
    assert outcome.status == "retry"  # written, not yet handed over
    assert sendgrid_mock.sends == []
    sent = hand_over_notice(HandOverInput("case_w", "acknowledgement:started", now))
    again = hand_over_notice(HandOverInput("case_w", "acknowledgement:started", now))
    assert sent.status == "sent" and again.already_sent
    assert len(sendgrid_mock.sends) == 1


def test_a_first_record_naming_terms_the_store_lacks_asks_for_them_and_writes_nothing(
    db_url: str,
) -> None:
    seed_reference_contract()
    now = _now()
    terms = reference_term_sheet().model_dump(mode="json")
    other = {**terms, "reference": "side letter"}
    asked = record_step_and_notices(
        first_step("case_x", now, terms=None, terms_sha256=terms_digest(other))
    )
    assert asked.terms_needed and asked.notices == []
    assert _row(Case, "case_x") is None and _count(Notice, case_id="case_x") == 0
    # The contract's own terms, named by their digest, need not be sent.
    known = record_step_and_notices(
        first_step("case_y", now, terms=None, terms_sha256=terms_digest(terms))
    )
    assert not known.terms_needed and [o.status for o in known.notices] == ["outboxed"]
    assert _row(Case, "case_y").terms_sha256 == terms_digest(terms)
