"""The hand-written termination workflow (bench/handwritten), the throughput bench's baseline:
one case on the time-skipping server writes its five notices once each with their step
records, retried or not, on the deadlines Clauseflow's rulebook computes.

Dates count from the test server's clock (a notice received the day before it), so the
reminders and the effective date lie ahead and each notice waits on its timer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from bench.handwritten.activities import send_termination_notice
from bench.handwritten.deadlines import termination_deadlines
from bench.handwritten.shared import (
    ACTIVITY_NAME,
    CLAUSE,
    NoticeInput,
    NoticeResult,
    TerminationInput,
    TerminationTerms,
)
from bench.handwritten.worker import build_worker
from bench.handwritten.workflow import TerminationWorkflow
from rules.deadlines import compute_deadlines
from rules.rulebook import default_registry
from store.db import get_engine
from store.models import AuditEntry, Case, Deadline, DecisionRecord, Notice, Transition
from tests.workflows.helpers import seed_reference_contract
from workers.seed import REFERENCE_CONTRACT_ID, reference_term_sheet
from workflows.contract import ContractInput, ContractWorkflow

KEYS = [
    "acknowledgement:started",
    "owner_reminder:reminder_60",
    "owner_reminder:reminder_30",
    "owner_reminder:reminder_7",
    "termination_effective:effective_date",
]


def _input(received: dt.datetime, given_by: str = "provider") -> TerminationInput:
    """A case of the reference MSA, whose our_side is the customer: the provider's notice."""
    return TerminationInput(
        case_id=f"case_{uuid.uuid4().hex}",
        contract_id=REFERENCE_CONTRACT_ID,
        notice_received_at=received,
        given_by=given_by,
        terms=TerminationTerms.of(reference_term_sheet()),
        rulebook_version=default_registry().latest(CLAUSE).version,
    )


def _rows(model: Any, case_id: str, order: Any) -> list[Any]:
    with Session(get_engine()) as s:
        return list(s.exec(select(model).where(model.case_id == case_id).order_by(order)))


@pytest.fixture
async def run_case(
    time_env: WorkflowEnvironment, db_url: str, task_queue: str
) -> AsyncIterator[Callable[..., Any]]:
    """Runs one case to its end on a worker with the given activities; returns its input."""
    seed_reference_contract()

    async def run(
        activities: list[Callable[..., Any]] | None = None, contract_workflow: str | None = None
    ) -> TerminationInput:
        received = await time_env.get_current_time() - dt.timedelta(days=1)
        inp = dataclasses.replace(_input(received), contract_workflow=contract_workflow)
        worker = build_worker(time_env.client, task_queue, activities=activities)
        async with worker:
            result = await time_env.client.execute_workflow(
                TerminationWorkflow.run, inp, id=inp.case_id, task_queue=task_queue
            )
        assert result.state == "terminated" and result.notice_keys == KEYS
        return inp

    yield run


def test_its_deadlines_are_the_ones_the_rulebook_computes() -> None:
    sheet = reference_term_sheet()
    received = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=3)
    mine = termination_deadlines(received, TerminationTerms.of(sheet))
    facts = {"notice_received_at": received.isoformat(), "given_by": "provider"}
    rb = default_registry().latest(CLAUSE)
    theirs = compute_deadlines(rb, sheet, facts, ["effective_date", "reminder"])

    def seen(d: Any) -> tuple[Any, ...]:
        return (d.name, d.group, d.label, d.due_at, d.last_day, d.explanation, d.status)

    assert sorted(map(seen, mine)) == sorted(map(seen, theirs))


async def test_one_case_writes_its_five_notices_once_each_with_their_step_records(
    run_case: Callable[..., Any],
) -> None:
    inp = await run_case()
    notices = _rows(Notice, inp.case_id, col(Notice.created_at))
    assert [n.notice_key for n in notices] == KEYS
    assert all(n.status == "outboxed" and n.channel == "outbox" for n in notices)
    deadlines = {d.name: d for d in _rows(Deadline, inp.case_id, col(Deadline.due_at))}
    assert {d.status for d in deadlines.values()} == {"reached"}
    # Each reminder and the termination notice went out when its timer fired, not before.
    for notice in notices[1:]:
        assert notice.created_at >= deadlines[notice.notice_key.split(":")[1]].due_at
    # Written with Clauseflow's renderer and the rulebook's templates.
    ack = notices[0]
    assert ack.to == ["notices@provider.example.com", "legal@provider.example.com"]
    effective = deadlines["effective_date"]
    assert effective.explanation[0] in ack.body_text

    decisions = _rows(DecisionRecord, inp.case_id, col(DecisionRecord.step))
    assert [(d.step, d.action, d.value) for d in decisions] == [
        (step, "send_notice", n.notice) for step, n in enumerate(notices, 1)
    ]
    transitions = _rows(Transition, inp.case_id, col(Transition.step))
    assert [(t.step, t.from_state, t.to_state) for t in transitions] == [
        (1, "opened", "notice_period_running"),
        (5, "notice_period_running", "terminated"),
    ]
    with Session(get_engine()) as s:
        case = s.get(Case, inp.case_id)
    assert case is not None
    assert (case.state, case.closed, case.last_step, case.next_deadline_at) == (
        "terminated",
        True,
        5,
        None,
    )


async def test_a_retried_activity_does_not_write_its_notice_again(
    run_case: Callable[..., Any],
) -> None:
    answers: list[tuple[str, int, bool]] = []

    # Every first attempt writes its notice and then loses its answer, as a worker that
    # dies after the commit would: Temporal runs the activity again.
    @activity.defn(name=ACTIVITY_NAME)
    def answer_lost_once(inp: NoticeInput) -> NoticeResult:
        result = send_termination_notice(inp)
        attempt = activity.info().attempt
        answers.append((inp.notice_key, attempt, result.written))
        if attempt == 1:
            raise RuntimeError("the worker died after the commit")
        return result

    inp = await run_case([answer_lost_once])
    assert answers == [(key, a, a == 1) for key in KEYS for a in (1, 2)]
    notices = _rows(Notice, inp.case_id, col(Notice.created_at))
    assert [n.notice_key for n in notices] == KEYS
    decisions = _rows(DecisionRecord, inp.case_id, col(DecisionRecord.step))
    assert [d.step for d in decisions] == [1, 2, 3, 4, 5]
    assert len(_rows(Transition, inp.case_id, col(Transition.step))) == 2


async def test_a_notice_we_gave_is_not_covered_and_fails_at_once(
    time_env: WorkflowEnvironment, db_url: str, task_queue: str
) -> None:
    inp = _input(await time_env.get_current_time(), given_by="customer")
    async with build_worker(time_env.client, task_queue):
        with pytest.raises(WorkflowFailureError):
            await time_env.client.execute_workflow(
                TerminationWorkflow.run, inp, id=inp.case_id, task_queue=task_queue
            )


async def test_asked_to_it_tells_its_contract_the_agreement_is_terminating(
    run_case: Callable[..., Any], time_env: WorkflowEnvironment, task_queue: str
) -> None:
    # As Clauseflow's case does under termination v4: the throughput bench asks for it.
    await time_env.client.start_workflow(
        ContractWorkflow.run,
        ContractInput(REFERENCE_CONTRACT_ID),
        id=REFERENCE_CONTRACT_ID,
        task_queue=task_queue,
    )
    inp = await run_case(contract_workflow=REFERENCE_CONTRACT_ID)
    effective = next(
        d
        for d in termination_deadlines(inp.notice_received_at, inp.terms)
        if d.name == "effective_date"
    )
    with Session(get_engine()) as s:
        told = s.exec(
            select(AuditEntry).where(
                AuditEntry.contract_id == REFERENCE_CONTRACT_ID,
                AuditEntry.action == "agreement_terminating",
            )
        ).one()
    assert told.case_id == inp.case_id
    assert told.after["ends_at"] == effective.due_at.isoformat()
