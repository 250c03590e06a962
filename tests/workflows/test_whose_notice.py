"""Whose notice: every clause's scenario paths, run as cases from the side each names.

Across all of them, no notice goes out whose sender is the other party: each one sent is
ours or internal. Each notice of the other party's is expected instead, never written,
and one the contract times is due by a deadline of the case, with its explanation.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from contracts.terms import TermSheet
from rules.rulebook import Rulebook, default_registry
from rules.scenarios import CasePath, Step, load_scenarios, resolve_facts, scenarios_path
from rules.senders import whose
from store.db import get_engine
from store.models import ExpectedNotice
from tests.workflows.helpers import (
    case_row,
    deadlines,
    eventually,
    in_state,
    notices,
    seed_reference_contract,
    start_case,
    travel_to,
)
from workers.seed import reference_term_sheet
from workflows.case import ApproveNoticeRequest, CaseInput, CaseWorkflow, RecordFactRequest


def _paths() -> list[Any]:
    """Every path that happens now (a recorded history's replays its own version)."""
    out = []
    for clause in default_registry().clauses():
        for case in load_scenarios(scenarios_path(clause)).paths:
            if case.at is None:
                side = case.our_side or "customer"
                out.append(pytest.param(clause, case, id=f"{clause} as {side}: {case.name}"))
    return out


def _paths_of(clause: str) -> list[CasePath]:
    return [p.values[1] for p in _paths() if p.values[0] == clause]


def test_every_clause_has_paths_from_both_sides() -> None:
    sides: dict[str, set[str]] = {}
    for param in _paths():
        clause, case = param.values
        sides.setdefault(clause, set()).add(case.our_side or "customer")
    assert {c: s for c, s in sides.items() if s != {"customer", "provider"}} == {}
    assert set(sides) == set(default_registry().clauses())


def test_the_current_rulebook_of_every_clause_says_whose_each_notice_is() -> None:
    registry = default_registry()
    assert [c for c in registry.clauses() if not registry.latest(c).declares_senders] == []


def _expected(case_id: str) -> list[ExpectedNotice]:
    with Session(get_engine()) as s:
        return list(s.exec(select(ExpectedNotice).where(ExpectedNotice.case_id == case_id)))


async def _run(
    env: WorkflowEnvironment,
    queue: str,
    rb: Rulebook,
    terms: TermSheet,
    case: CasePath,
    now: dt.datetime,
) -> str:
    """Runs the path's case to its end: its facts recorded in their states, the clock
    moved to each next deadline, notices held for approval approved as they come; its
    relative dates count from ``now``, the server's clock."""

    def resolved(facts: dict[str, Any]) -> dict[str, Any]:
        return resolve_facts(facts, now=now, time_zone=terms.time_zone)

    case_id = f"case_{uuid.uuid4().hex}"
    start = CaseInput(
        case_id,
        "ctr_reference_msa",
        rb.clause,
        rb.version,
        terms.model_dump(mode="json"),
        resolved(case.start),
    )
    start = dataclasses.replace(start, owner_email=terms.owner.email, past_deadlines="as_scheduled")
    client: Client = env.client
    handle = await client.start_workflow(CaseWorkflow.run, start, id=case_id, task_queue=queue)
    await handle.execute_update(CaseWorkflow.ready)
    for step in case.steps:
        assert isinstance(step, Step), f"{case.name}: a step this test cannot take"
        await in_state(handle, step.in_state)
        await handle.execute_update(
            CaseWorkflow.record_fact,
            RecordFactRequest(step.fact, resolved(step.values), "owner", "path step"),
        )
    if not case.closed:
        await in_state(handle, case.end_state)
        return case_id
    for _ in range(200):
        view = await handle.query(CaseWorkflow.case)
        for key in view.held_notices if case.approve_held else []:
            await handle.execute_update(
                CaseWorkflow.approve_notice, ApproveNoticeRequest(key, "owner", "path step")
            )
        if view.closed:
            break
        pending = [d.due_at for d in view.deadlines if d.status == "pending"]
        assert pending or view.held_notices, f"{case.name}: stuck in {view.state}"
        at = await env.get_current_time()
        step_to = max(min(pending, default=at) - at, dt.timedelta()) + dt.timedelta(seconds=1)
        await env.sleep(step_to)
    assert (await handle.result()).state == case.end_state
    return case_id


@pytest.mark.parametrize("clause", default_registry().clauses())
async def test_only_our_notices_go_out_and_theirs_are_expected(
    time_env: WorkflowEnvironment, worker: Client, task_queue: str, clause: str
) -> None:
    """The clause's paths one after another on one server (a server per path would
    cost a second each), each from its own side and dated from the server's clock."""
    seed_reference_contract()
    rb = default_registry().latest(clause)
    for case in _paths_of(clause):
        side = case.our_side or "customer"
        terms = reference_term_sheet().model_copy(update={"our_side": side})
        now = await time_env.get_current_time()
        case_id = await _run(time_env, task_queue, rb, terms, case, now)
        where = f"{clause} as {side}, path {case.name!r}"
        facts = resolve_facts(case.start, now=now, time_zone=terms.time_zone)
        for n in notices(case_id):
            assert whose(rb.notices[n.notice], side, facts) != "theirs", (
                f"{where}: {n.notice} was written in the other party's name"
            )
        set_deadlines = deadlines(case_id)
        for x in _expected(case_id):
            spec = rb.notices[x.notice]
            assert whose(spec, side, facts) == "theirs" and x.sender != side, (where, x.notice)
            if spec.expected_by is not None:
                due = set_deadlines.get(spec.expected_by)
                assert due is not None, f"{where}: {x.notice} expected by {spec.expected_by}, unset"
                assert x.due_at == due.due_at and due.explanation, (where, x.notice)


# ------------------------------------------------------------------ the cases


async def test_an_invoice_from_the_customers_side_sends_nothing_until_we_dispute(
    time_env: WorkflowEnvironment, worker: Client, task_queue: str
) -> None:
    seed_reference_contract()
    now = await time_env.get_current_time()
    facts = {
        "invoice_received_at": (now - dt.timedelta(hours=1)).isoformat(),
        "invoice_number": "INV-7",
        "invoice_amount": "25000.00",
    }
    version = default_registry().latest("invoice_payment").version
    handle = await start_case(worker, task_queue, "invoice_payment", facts, version=version)
    view = await handle.execute_update(CaseWorkflow.ready)
    assert view.state == "awaiting_payment"
    # The invoice is the Provider's: expected (it opened the case), never written by us.
    assert notices(handle.id) == []
    assert [x.notice for x in _expected(handle.id)] == ["invoice_received"]

    received = await time_env.get_current_time()
    await handle.execute_update(
        CaseWorkflow.record_fact,
        RecordFactRequest(
            "dispute_raised",
            {"contested_amount": "5000.00", "reason": "usage overbilled"},
            "owner",
            "our dispute",
        ),
    )
    # Our dispute is ours to give: written, held for a person's approval, to the Provider.
    sent = {n.notice: n for n in notices(handle.id)}
    assert set(sent) == {"invoice_dispute", "dispute_acknowledged"}
    dispute = sent["invoice_dispute"]
    assert dispute.status == "awaiting_approval"
    provider = reference_term_sheet().provider
    assert dispute.to == [provider.notice_email, *provider.copy_to]
    assert "Given by Example Enterprise Inc." in dispute.body_text
    assert sent["dispute_acknowledged"].to == [reference_term_sheet().owner.email]
    assert received >= now


async def test_a_late_maintenance_notice_makes_the_window_downtime_in_the_months_review(
    time_env: WorkflowEnvironment, worker: Client, task_queue: str
) -> None:
    seed_reference_contract()
    now = await time_env.get_current_time()
    starts, ends = now + dt.timedelta(hours=100), now + dt.timedelta(hours=104)
    window = {
        "window_starts_at": starts.isoformat(),
        "window_ends_at": ends.isoformat(),
        "description": "core router upgrade",
    }
    version = default_registry().latest("scheduled_maintenance").version
    handle = await start_case(worker, task_queue, "scheduled_maintenance", window, version=version)
    view = await handle.execute_update(CaseWorkflow.ready)
    # From the Customer's side the notice is the Provider's: expected by notice_due.
    assert view.state == "awaiting_notice"
    [expected] = _expected(handle.id)
    due = deadlines(handle.id)["notice_due"]
    assert (expected.notice, expected.due_at) == ("maintenance_notice", due.due_at)
    assert due.due_at == starts - dt.timedelta(hours=72)

    # It arrives two hours after it was due; a person records when.
    await travel_to(time_env, due.due_at + dt.timedelta(hours=2))
    arrived = await time_env.get_current_time()
    view = await handle.execute_update(
        CaseWorkflow.record_fact,
        RecordFactRequest(
            "maintenance_notice_received",
            {"received_at": arrived.isoformat(), "notice_text": "We will upgrade routers."},
            "owner",
            "the Provider's email came in",
        ),
    )
    assert view.state == "notice_given_late"
    assert [x.status for x in _expected(handle.id)] == ["received"]

    # The month's review, told of the window and when its notice arrived, counts it.
    first = starts.astimezone(reference_term_sheet().zone).date().replace(day=1)
    review = default_registry().latest("monthly_sla_review").version
    month = await start_case(
        worker, task_queue, "monthly_sla_review", {"first_month": first.isoformat()}, version=review
    )
    await month.execute_update(CaseWorkflow.ready)
    await month.execute_update(
        CaseWorkflow.record_fact,
        RecordFactRequest(
            "maintenance_window_recorded",
            {
                "starts_at": starts.isoformat(),
                "ends_at": ends.isoformat(),
                "notice_given_at": arrived.isoformat(),
            },
            "owner",
            "from the maintenance case",
        ),
    )
    await travel_to(time_env, ends + dt.timedelta(minutes=1))
    await in_state(handle, "counted_in_uptime")
    # Nothing went to the Provider: the outcome is for our own people.
    assert {n.notice for n in notices(handle.id)} <= {"maintenance_reminder", "window_outcome"}
    month_end = deadlines(month.id)["month_end"]
    await travel_to(time_env, month_end.due_at + dt.timedelta(minutes=1))
    facts = await eventually(
        lambda: (c := case_row(month.id)) and "downtime_minutes" in (c.facts or {}) and c.facts
    )
    assert Decimal(facts["downtime_minutes"]) >= 240  # the whole four-hour window
    assert facts["credit_due"] is True


async def test_our_termination_notice_is_held_for_approval_and_their_acknowledgement_awaited(
    time_env: WorkflowEnvironment, worker: Client, task_queue: str
) -> None:
    seed_reference_contract()
    now = await time_env.get_current_time()
    facts = {
        "notice_received_at": (now - dt.timedelta(hours=1)).isoformat(),
        "given_by": "customer",
    }
    version = default_registry().latest("termination_for_convenience").version
    handle = await start_case(
        worker, task_queue, "termination_for_convenience", facts, version=version
    )
    view = await handle.execute_update(CaseWorkflow.ready)
    assert view.state == "notice_period_running"
    # Ours: written from its template and held until a person approves it.
    [ours] = await eventually(lambda: notices(handle.id))
    assert (ours.notice, ours.status) == ("termination_notice", "awaiting_approval")
    provider = reference_term_sheet().provider
    assert ours.to == [provider.notice_email, *provider.copy_to]
    # Theirs: the acknowledgement is expected by its follow-up date, never written.
    [ack] = _expected(handle.id)
    assert (ack.notice, ack.sender, ack.status) == ("acknowledgement", "provider", "expected")
    assert ack.due_at == deadlines(handle.id)["acknowledgement_due"].due_at
    # The row is written before the case hears back from the activity that held it.
    for _ in range(200):
        if ours.notice_key in (await handle.query(CaseWorkflow.case)).held_notices:
            break
        await asyncio.sleep(0.05)
    await handle.execute_update(
        CaseWorkflow.approve_notice, ApproveNoticeRequest(ours.notice_key, "owner", "signed off")
    )
    # Approved, it goes out (to the outbox here: the tests have no SendGrid key).
    await eventually(lambda: [n.status for n in notices(handle.id)] == ["outboxed"])
    await handle.execute_update(
        CaseWorkflow.record_fact,
        RecordFactRequest(
            "acknowledgement_received",
            {"received_at": (await time_env.get_current_time()).isoformat()},
            "owner",
            "their letter",
        ),
    )
    assert [x.status for x in _expected(handle.id)] == ["received"]
    assert [n.notice for n in notices(handle.id)] == ["termination_notice"]  # nothing else
