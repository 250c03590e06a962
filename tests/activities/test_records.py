"""Recording a case step twice (a retried activity) changes nothing the second time."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlmodel import Session, func, select

from activities.records import record_step
from activities.types import (
    CaseSnapshot,
    DeadlineView,
    DecisionView,
    EscalationView,
    RecordStepInput,
    TransitionView,
)
from store.cases import OPENING_LABEL, OPENING_STATE, write_opening_row
from store.db import get_engine
from store.models import Case, Deadline, DecisionRecord, Escalation, Transition
from tests.workflows.helpers import seed_reference_contract

AT = dt.datetime(2026, 12, 1, 15, tzinfo=dt.UTC)


def step_input(step: int = 1, status: str = "pending") -> RecordStepInput:
    deadline = DeadlineView(
        "effective_date",
        "effective_date",
        "Termination takes effect",
        dt.datetime(2027, 3, 1, 5, tzinfo=dt.UTC),
        dt.date(2027, 3, 1),
        ["line"],
        status,
    )
    return RecordStepInput(
        case=CaseSnapshot(
            "case_r",
            "ctr_reference_msa",
            "termination_for_convenience",
            1,
            "notice_period_running",
            False,
            "owner@example.com",
            {"given_by": "customer"},
            AT,
            {"effective_date": deadline},
        ),
        step=step,
        event="started",
        at=AT,
        facts_seen={"event": "case_started"},
        decisions=[
            DecisionView("acknowledge_termination_notice", "transition", "notice_period_running")
        ],
        transition=TransitionView(
            "opened", "notice_period_running", "acknowledge_termination_notice"
        ),
        escalations=[EscalationView("r", "needs a look")] if step == 1 else [],
    )


def count(model: type) -> int:
    with Session(get_engine()) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_recording_the_same_step_twice_writes_it_once(db_url: str) -> None:
    seed_reference_contract()
    record_step(step_input())
    record_step(step_input())
    assert [count(m) for m in (Case, Transition, DecisionRecord, Deadline, Escalation)] == [
        1,
        1,
        1,
        1,
        1,
    ]
    with Session(get_engine()) as s:
        case = s.get(Case, "case_r")
        assert case is not None and case.escalated and case.next_deadline_name == "effective_date"


def test_a_later_step_updates_the_case_and_its_deadlines(db_url: str) -> None:
    seed_reference_contract()
    record_step(step_input())
    record_step(step_input(step=2, status="reached"))
    with Session(get_engine()) as s:
        case = s.get(Case, "case_r")
        assert case is not None and case.last_step == 2 and case.next_deadline_at is None
        assert s.exec(select(Deadline)).one().status == "reached"


def test_the_first_step_fills_in_the_row_written_before_the_workflow_started(
    db_url: str,
) -> None:
    seed_reference_contract()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    api_opened = now - dt.timedelta(seconds=30)
    assert write_opening_row(
        Case(
            id="case_r",
            contract_id="ctr_reference_msa",
            clause="termination_for_convenience",
            rulebook_version=1,
            state=OPENING_STATE,
            state_label=OPENING_LABEL,
            facts={"given_by": "customer"},
            owner_email="owner@example.com",
            opened_at=api_opened,
            updated_at=api_opened,
        )
    )
    first = step_input()
    workflow_opened = now - dt.timedelta(seconds=10)
    record_step(replace(first, at=now, case=replace(first.case, opened_at=workflow_opened)))
    with Session(get_engine()) as s:
        case = s.get(Case, "case_r")
        assert case is not None
        assert (case.state, case.last_step) == ("notice_period_running", 1)
        assert case.state_label.startswith("Notice period running")
        # The workflow's own opening wins; it entered its first state at its first step.
        assert case.opened_at == workflow_opened
        assert case.state_entered_at == now and case.updated_at == now
        assert case.next_deadline_name == "effective_date" and case.escalated
    assert [count(m) for m in (Case, Transition, DecisionRecord, Deadline, Escalation)] == [
        1,
        1,
        1,
        1,
        1,
    ]
