"""Records case histories for the replay tests: `python -m tests.histories.record`.

Run it when a change to the workflow or a rulebook is *meant* to produce new
histories (a new rulebook version or a patched workflow). The histories already
committed stand for cases that are live in production: they must keep replaying,
so never re-record them to make a failing replay test pass.

Each history is a path of a clause's scenarios (``rules/clauses/<clause>/scenarios.yaml``,
docs/rulebooks.md "Scenarios") with a ``history`` name, run by :func:`run_path` on the
time-skipping test server, whose clock is pinned at 2037-11-27 12:00 UTC and moved to
each path's fixed moment (``at``); the path's relative dates resolve against that
moment, so a history recorded again has the same facts and dates. One history a path
cannot say is recorded by its own coroutine: ``notice_retried_now`` (the acknowledgement
fails at a scripted SendGrid mock until the case row counts two failed attempts).

Recording a name again must give an equivalent history. To check, record into another
folder and compare (tests/histories/compare.py; about four minutes for all of them)::

    .venv/bin/python -m tests.histories.record --out /tmp/h
    .venv/bin/python -m tests.histories.compare /tmp/h

    python -m tests.histories.record [--out FOLDER] [NAME ...]
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from rules.rulebook import default_registry
from rules.scenarios import (
    Act,
    CasePath,
    Reach,
    Scenarios,
    Step,
    Travel,
    load_scenarios,
    resolve,
    resolve_facts,
    scenarios_path,
)

HERE = Path(__file__).parent
#: The test server's clock at the start of every recording.
PINNED = dt.datetime(2037, 11, 27, 12, tzinfo=dt.UTC)
#: Who records and acts where a path does not say.
RECORDER = "recorder"
ALICE = "alice@customer.example.com"
NOTICE = {"notice_received_at": "2037-12-01T15:00:00Z", "given_by": "customer"}

Handle = WorkflowHandle[Any, Any]
Scenario = Callable[[WorkflowEnvironment, str], Awaitable[Handle]]


async def run_path(
    scenarios: Scenarios, case: CasePath, env: WorkflowEnvironment, queue: str
) -> Handle:
    """Runs ``case`` to its end on ``env``: the clock to its moment, the case started,
    then its steps in order; checks that it ends in its end state."""
    from tests.workflows.helpers import start_case
    from workers.seed import reference_term_sheet
    from workflows.case import CaseWorkflow

    assert case.at is not None and case.case_id is not None, f"{case.name}: no at or case_id"
    zone = reference_term_sheet().time_zone
    # The histories spell UTC "Z", as the API's clients do.
    resolved = functools.partial(resolve_facts, now=case.at, time_zone=zone, zulu=True)
    await _clock_to(env, case.at)
    handle = await start_case(
        env.client,
        queue,
        scenarios.clause,
        resolved(case.start),
        case_id=case.case_id,
        history_limit=case.history_limit or 10_000,
        version=case.rulebook_version or scenarios.rulebook_version,
        # The path's own side: the same rulebook runs for the Customer or the Provider.
        **({"terms": _side(case.our_side)} if case.our_side else {}),
    )
    # The case's last answer (an update's view) stands until the clock moves: a step
    # whose state it shows goes on at once, as hand-written recordings did (a query
    # before an update shifts where it lands, and with it a timer).
    view = await handle.execute_update(CaseWorkflow.ready) if case.ready else None
    amendment: str | None = None
    for step in case.steps:
        if isinstance(step, Travel):
            to = resolve(step.to, now=case.at, time_zone=zone)
            await _clock_to(env, dt.datetime.fromisoformat(to))
            view = None
        elif isinstance(step, Reach):
            view = await _until(handle, _come_due(step.deadline, await env.get_current_time()))
        elif isinstance(step, Step):
            await _until(handle, _in(step.in_state), view)
            view = await _record(handle, step, resolved(step.values))
        else:
            update, each = _actions()[step.action]
            view = await _until(handle, _ready_for(step), view)
            done: list[Any] = []
            # One update for each held notice or open escalation, asked again after each
            # (one approved may bring the next), or one.
            while (target := _next(view, each, done)) is not None:
                request = _request(step, target, resolved(step.values), amendment)
                view = await handle.execute_update(update, request)
                amendment = view.amendment_id or amendment
                done.append(target)
                if each:
                    view = await handle.query(CaseWorkflow.case)
    if case.approve_held:
        await _approve_held(handle)
    result = await handle.result()
    assert result.state == case.end_state, (
        f"{case.name}: ended {result.state}, not {case.end_state}"
    )
    return handle


def _side(our_side: str) -> dict[str, Any]:
    from workers.seed import reference_term_sheet

    return reference_term_sheet().model_copy(update={"our_side": our_side}).model_dump(mode="json")


async def _clock_to(env: WorkflowEnvironment, when: dt.datetime) -> None:
    from tests.workflows.helpers import travel_to

    # A path at the pinned moment itself starts where the clock already is.
    if when > await env.get_current_time():
        await travel_to(env, when)
    elif when < PINNED:
        raise AssertionError(f"{when.isoformat()} is before the recorder's clock")


async def _record(handle: Handle, step: Step, values: dict[str, Any]) -> Any:
    from workflows.case import CaseWorkflow, RecordFactRequest

    request = RecordFactRequest(step.fact, values, step.by or RECORDER, step.reason)
    return await handle.execute_update(CaseWorkflow.record_fact, request)


async def _approve_held(handle: Handle) -> None:
    from workflows.case import ApproveNoticeRequest, CaseWorkflow

    view = await _until(handle, lambda v: bool(v.held_notices))
    for key in view.held_notices:
        await handle.execute_update(
            CaseWorkflow.approve_notice, ApproveNoticeRequest(key, RECORDER, None)
        )


def _next(view: Any, each: str | None, done: list[Any]) -> Any:
    """What the action acts on next: a held notice's key or an open escalation not acted
    on yet (``each``), or the case, once; ``None`` once there is nothing left."""
    if each is None:
        return None if done else view.case_id
    return next((t for t in getattr(view, each) if t not in done), None)


def _request(step: Act, target: Any, values: dict[str, Any], amendment: str | None) -> Any:
    """The request of an operator's action on ``target`` (see :func:`_next`); ``values``
    are the request's fields."""
    from workflows.case import (
        AmendDeadlineRequest,
        ApproveNoticeRequest,
        CloseCaseRequest,
        DecideAmendmentRequest,
        ReassignOwnerRequest,
        ResolveEscalationRequest,
        ReviseHeldNoticeRequest,
    )

    by, reason = step.by or RECORDER, step.reason or ""
    action = step.action
    if action == "approve_notice":
        return ApproveNoticeRequest(target, by, step.reason)
    if action == "revise_held_notice":
        return ReviseHeldNoticeRequest(target, values, by, reason)
    if action == "resolve_escalation":
        return ResolveEscalationRequest(target.step, target.rule, reason, by)
    if action == "decide_amendment":
        return DecideAmendmentRequest(amendment or "", actor=by, reason=reason, **values)
    if action == "amend_deadline":
        due_at = dt.datetime.fromisoformat(values.pop("due_at"))
        return AmendDeadlineRequest(due_at=due_at, actor=by, reason=reason, **values)
    request = {"close_case": CloseCaseRequest, "reassign_owner": ReassignOwnerRequest}[action]
    return request(actor=by, reason=reason, **values)


def _ready_for(step: Act) -> Callable[[Any], bool]:
    """In the step's state, with the held notices or escalations it acts on there."""
    needs = _actions()[step.action][1]
    return lambda view: view.state == step.in_state and (not needs or bool(getattr(view, needs)))


def _actions() -> dict[str, tuple[Any, str | None]]:
    from workflows.case import CaseWorkflow

    # The update of each action, and what must be there for it to act on.
    return {
        "approve_notice": (CaseWorkflow.approve_notice, "held_notices"),
        "revise_held_notice": (CaseWorkflow.revise_held_notice, "held_notices"),
        "resolve_escalation": (CaseWorkflow.resolve_escalation, "open_escalations"),
        "amend_deadline": (CaseWorkflow.amend_deadline, None),
        "decide_amendment": (CaseWorkflow.decide_amendment, None),
        "close_case": (CaseWorkflow.close_case, None),
        "reassign_owner": (CaseWorkflow.reassign_owner, None),
    }


async def _until(
    handle: Handle,
    test: Callable[[Any], bool],
    known: Any = None,
    timeout: float = 20.0,
    ask: Any = None,
) -> Any:
    """Polls the case query (or ``ask``) until ``test(view)`` holds (timers fire as the
    clock moves), unless it holds for the view ``known`` already."""
    from workflows.case import CaseWorkflow

    if known is not None and test(known):
        return known
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        view = await handle.query(ask or CaseWorkflow.case)
        if test(view):
            return view
        if loop.time() > deadline:
            raise AssertionError(f"{handle.id} stuck: {view}")
        await asyncio.sleep(0.05)


def _in(state: str) -> Callable[[Any], bool]:
    return lambda view: view.state == state


def _come_due(name: str, clock: dt.datetime) -> Callable[[Any], bool]:
    """The deadline is set and none of that name is pending at or before ``clock`` (a
    recurring one is set again, later)."""

    def test(view: Any) -> bool:
        mine = [d for d in view.deadlines if d.name == name]
        return bool(mine) and not any(d.status == "pending" and d.due_at <= clock for d in mine)

    return test


async def _termination_notice_retried_now(
    env: WorkflowEnvironment, queue: str, case_id: str = "case_replay_notice_retried_now"
) -> Handle:
    """The acknowledgement fails twice at a SendGrid mock, then is retried now."""
    from runtime.settings import get_settings
    from tests.support.sendgrid_mock import SendGridMock
    from tests.workflows.helpers import case_row, start_case
    from workflows.case import CaseWorkflow, RetryNowRequest

    spec = HERE.parents[2] / "shared" / "sendgrid" / "tsg_mail_v3.json"
    with SendGridMock(spec) as mock:
        os.environ.update(SENDGRID_API_KEY=mock.api_key, SENDGRID_HOST=mock.url)
        get_settings.cache_clear()
        try:
            mock.script_send(500, 500)
            handle = await start_case(
                env.client,
                queue,
                "termination_for_convenience",
                NOTICE,
                case_id=case_id,
            )
            await handle.execute_update(CaseWorkflow.ready)
            loop = asyncio.get_running_loop()
            until = loop.time() + 30
            while not ((row := case_row(handle.id)) and row.failing_attempts >= 2):
                assert loop.time() < until, "the acknowledgement did not fail twice"
                await asyncio.sleep(0.1)
            await handle.execute_update(
                CaseWorkflow.retry_now, RetryNowRequest(ALICE, "SendGrid is back")
            )
            await _until(handle, lambda view: bool(view.notices))
        finally:
            os.environ.pop("SENDGRID_API_KEY")
            os.environ.pop("SENDGRID_HOST")
            get_settings.cache_clear()
    await handle.result()
    return handle


async def _agreement(
    env: WorkflowEnvironment, queue: str, *, withdrawn: bool = False, keep: str = "contract"
) -> Handle:
    """The agreement as a whole: the reference contract's own workflow; the Provider's
    notice of termination (rulebook v4 tells the contract); then either an invoice and the
    monthly review opened late in the notice period, the invoice closed and the reviews
    ended when the agreement ends on Tue 2 Mar 2038, or
    the notice withdrawn. ``keep`` names whose history is kept: contract, termination,
    invoice or review. The notice is received on 2 Dec, so the agreement ends at midnight
    on 2 Mar, not at a month's end: the review's month and the end never meet, and a
    history recorded again comes out the same."""
    from tests.workflows.helpers import at_ny, open_case
    from workflows.case import CaseWorkflow, RecordFactRequest
    from workflows.contract import ContractWorkflow

    # The recordings share one database: each starts from a contract never ended, and
    # with case ids of its own.
    suffix = f"{'withdrawn' if withdrawn else 'ended'}_{keep}"
    contract = await _fresh_contract(env, queue)
    await _clock_to(env, at_ny(2037, 12, 2, 11))
    termination = await open_case(
        env.client,
        queue,
        "termination_for_convenience",
        {"notice_received_at": "2037-12-02T15:00:00Z", "given_by": "provider"},
        case_id=f"case_replay_agreement_{suffix}",
        version=4,
    )
    kept = {"contract": contract, "termination": termination}
    if withdrawn:
        await _clock_to(env, at_ny(2037, 12, 10, 10))
        await termination.execute_update(
            CaseWorkflow.record_fact,
            RecordFactRequest(
                "withdrawal_agreed",
                {
                    "customer_signatory": "Dana Smith",
                    "provider_signatory": "Lee Jones",
                    "agreed_on": "2037-12-09",
                },
                ALICE,
            ),
        )
        await termination.result()
        await _until(
            contract, lambda view: view.legal_state == "in_force", ask=ContractWorkflow.agreement
        )
        await _settled(contract)
    else:
        await _clock_to(env, at_ny(2038, 2, 20, 10))
        kept["invoice"] = invoice = await open_case(
            env.client,
            queue,
            "invoice_payment",
            {
                "invoice_received_at": "2038-02-20T14:00:00Z",
                "invoice_amount": "25000.00",
                "invoice_number": "INV-2038-02",
            },
            case_id=f"case_replay_agreement_{suffix}_invoice",
            version=3,
        )
        kept["review"] = review = await open_case(
            env.client,
            queue,
            "monthly_sla_review",
            {"first_month": "2038-02-01"},
            case_id=f"case_replay_agreement_{suffix}_review",
            version=4,
        )
        await _clock_to(env, at_ny(2038, 3, 2, 12))
        await termination.result()
        assert (await invoice.result()).state == "ended_with_agreement"
        assert (await review.result()).state == "ended"
        await _until(contract, lambda view: bool(view.at_end), ask=ContractWorkflow.agreement)
        await _settled(contract)
    return kept[keep]


async def _non_payment(env: WorkflowEnvironment, queue: str, keep: str) -> Handle:
    """An invoice unpaid until the right to terminate arises; the Provider's notice of
    termination arrives (we are the Customer), the agreement ends at once, and the term's
    case closes. ``keep``: contract, invoice or term."""
    from tests.workflows.helpers import at_ny, open_case
    from workflows.case import CaseWorkflow, RecordFactRequest

    contract = await _fresh_contract(env, queue)
    term = await open_case(
        env.client,
        queue,
        "term_expiry",
        {"effective_date": "2037-06-01"},
        case_id=f"case_replay_non_payment_{keep}_term",
        version=4,
    )
    invoice = await open_case(
        env.client,
        queue,
        "invoice_payment",
        {"invoice_received_at": "2037-11-27T11:00:00Z", "invoice_amount": "900.00"},
        case_id=f"case_replay_non_payment_{keep}_invoice",
        version=4,
    )
    await _clock_to(env, at_ny(2038, 2, 1, 10))
    await _until(invoice, _in("termination_right_arisen"))
    await invoice.execute_update(
        CaseWorkflow.record_fact,
        RecordFactRequest(
            "termination_exercised",
            {"notice_given_on": "2038-02-01", "signatory": "Lee Jones"},
            ALICE,
        ),
    )
    assert (await invoice.result()).state == "terminated_for_non_payment"
    assert (await term.result()).state == "ended_with_agreement"
    await _settled(contract)
    return {"contract": contract, "invoice": invoice, "term": term}[keep]


async def _final_part_month(env: WorkflowEnvironment, queue: str) -> Handle:
    """The review (v5) of an agreement that ends inside a month: two hours down on
    1 Feb 2038, then the Provider's termination for non-payment at 10:00 that day; the
    review reports 1 February up to the end, claims its credit, and ends."""
    from tests.workflows.helpers import at_ny, open_case
    from workflows.case import CaseWorkflow, RecordFactRequest

    contract = await _fresh_contract(env, queue)
    review = await open_case(
        env.client,
        queue,
        "monthly_sla_review",
        {"first_month": "2037-11-01"},
        case_id="case_replay_final_part_month_review",
        version=5,
    )
    invoice = await open_case(
        env.client,
        queue,
        "invoice_payment",
        {"invoice_received_at": "2037-11-27T11:00:00Z", "invoice_amount": "900.00"},
        case_id="case_replay_final_part_month_invoice",
        version=4,
    )
    await _clock_to(env, at_ny(2038, 2, 1, 9))
    await _until(review, _come_due("month_end", at_ny(2038, 2, 1)))
    await review.execute_update(
        CaseWorkflow.record_fact,
        RecordFactRequest(
            "downtime_recorded",
            {
                "started_at": at_ny(2038, 2, 1, 1).isoformat(),
                "ended_at": at_ny(2038, 2, 1, 3).isoformat(),
            },
            ALICE,
        ),
    )
    await _clock_to(env, at_ny(2038, 2, 1, 10))
    await _until(invoice, _in("termination_right_arisen"))
    await invoice.execute_update(
        CaseWorkflow.record_fact,
        RecordFactRequest(
            "termination_exercised",
            {"notice_given_on": "2038-02-01", "signatory": "Lee Jones"},
            ALICE,
        ),
    )
    assert (await review.result()).state == "ended"
    await _settled(contract)
    return review


async def _incident_into_review(env: WorkflowEnvironment, queue: str, keep: str) -> Handle:
    """An incident that missed both targets, then resolved: the case tells its contract,
    which has the month's review record it. ``keep``: incident or review."""
    from tests.workflows.helpers import at_ny, open_case
    from workflows.case import CaseWorkflow, RecordFactRequest

    contract = await _fresh_contract(env, queue)
    review = await open_case(
        env.client,
        queue,
        "monthly_sla_review",
        {"first_month": "2037-11-01"},
        case_id=f"case_replay_incident_{keep}_review",
        version=4,
    )
    incident = await open_case(
        env.client,
        queue,
        "incident_response",
        {
            "reported_at": "2037-11-27T12:00:00Z",
            "severity": "high",
            "description": "calls drop after 30 seconds",
        },
        case_id=f"case_replay_incident_{keep}_incident",
        version=4,
    )
    await _clock_to(env, at_ny(2037, 11, 28, 10))
    for fact, values in (
        ("responded", {"responded_at": "2037-11-28T14:00:00Z", "responded_by": "NOC"}),
        ("resolved", {"resolved_at": "2037-11-28T14:30:00Z", "resolution": "trunk re-routed"}),
    ):
        await incident.execute_update(
            CaseWorkflow.record_fact, RecordFactRequest(fact, values, ALICE)
        )
    assert (await incident.result()).state == "resolved"
    await _until(review, lambda view: view.step >= 2)
    await _settled(contract)
    await _settled(review)
    return {"incident": incident, "review": review}[keep]


async def _sla_failure(
    env: WorkflowEnvironment, queue: str, keep: str, offer: bool = False
) -> Handle:
    """November 2037 below the uptime target: the review claims the credit and tells its
    contract, which opens a material breach case (§5), or, when the term sheet says a
    person confirms it, offers one on the review. ``keep``: contract, review or breach."""
    from sqlmodel import Session, select

    from store.db import get_engine
    from store.models import Case, Contract
    from tests.workflows.helpers import at_ny, open_case
    from workflows.case import CaseWorkflow, RecordFactRequest

    _reset_agreement("ctr_reference_msa")
    with Session(get_engine()) as s:
        row = s.get(Contract, "ctr_reference_msa")
        assert row is not None
        kept_terms = row.terms
        clauses = dict(row.terms["clauses"])
        clauses["termination_for_cause"] = {
            **clauses.get("termination_for_cause", {}),
            "sla_failure_opens_case": not offer,
        }
        row.terms = {**row.terms, "clauses": clauses}
        s.add(row)
        s.commit()
    try:
        contract = await _start_contract(env, queue)
        suffix = f"{'offered' if offer else 'opened'}_{keep}"
        review = await open_case(
            env.client,
            queue,
            "monthly_sla_review",
            {"first_month": "2037-11-01"},
            case_id=f"case_replay_sla_failure_{suffix}_review",
            version=4,
        )
        await review.execute_update(
            CaseWorkflow.record_fact,
            RecordFactRequest(
                "downtime_recorded",
                {"started_at": "2037-11-20T14:00:00Z", "ended_at": "2037-11-20T19:00:00Z"},
                ALICE,
            ),
        )
        await _clock_to(env, at_ny(2037, 12, 1, 2))
        if offer:
            await _until(review, lambda view: bool(view.open_escalations))
            await _settled(contract)
            await _settled(review)
            return {"contract": contract, "review": review}[keep]
        await _settled(contract)
        with Session(get_engine()) as s:
            opened = s.exec(
                select(Case).where(Case.clause == "material_breach", Case.closed == False)  # noqa: E712
            ).one()
        breach = env.client.get_workflow_handle(opened.id)
        await _until(breach, _in("cure_period_running"))
        await _settled(breach)
        await _settled(review)
        return {"contract": contract, "review": review, "breach": breach}[keep]
    finally:
        with Session(get_engine()) as s:
            row = s.get(Contract, "ctr_reference_msa")
            assert row is not None
            row.terms = kept_terms
            s.add(row)
            s.commit()


async def _maintenance_into_review(env: WorkflowEnvironment, queue: str, keep: str) -> Handle:
    """A maintenance window noticed in time and over: the case tells its contract, which
    has the month's review record it. ``keep``: contract, maintenance or review."""
    from tests.workflows.helpers import at_ny, open_case
    from workflows.case import CaseWorkflow, RecordFactRequest

    contract = await _fresh_contract(env, queue)
    review = await open_case(
        env.client,
        queue,
        "monthly_sla_review",
        {"first_month": "2037-11-01"},
        case_id=f"case_replay_maintenance_{keep}_review",
        version=4,
    )
    window = await open_case(
        env.client,
        queue,
        "scheduled_maintenance",
        {
            "window_starts_at": "2037-12-05T06:00:00Z",
            "window_ends_at": "2037-12-05T08:00:00Z",
            "description": "core router upgrade",
        },
        case_id=f"case_replay_maintenance_{keep}_window",
        version=4,
    )
    await window.execute_update(
        CaseWorkflow.record_fact,
        RecordFactRequest(
            "maintenance_notice_received", {"received_at": "2037-11-27T11:00:00Z"}, ALICE
        ),
    )
    await _clock_to(env, at_ny(2037, 12, 5, 4))
    assert (await window.result()).state == "excluded_from_uptime"
    # Its steps: the start, November's review (1 Dec), the window its contract told.
    await _until(review, lambda view: view.step >= 3)
    await _settled(contract)
    await _settled(review)
    return {"contract": contract, "maintenance": window, "review": review}[keep]


async def _settled(handle: Handle, timeout: float = 20.0) -> None:
    """Waits until the workflow has nothing in flight (no task, no activity), so that a
    workflow that never ends is recorded at the same point each time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        raw = (await handle.describe()).raw_description
        if not raw.pending_activities and not raw.HasField("pending_workflow_task"):
            return
        assert loop.time() < deadline, f"{handle.id} still busy"
        await asyncio.sleep(0.05)


async def _fresh_contract(env: WorkflowEnvironment, queue: str) -> Handle:
    """The reference contract's own workflow, on a contract that no recording ended."""
    _reset_agreement("ctr_reference_msa")
    return await _start_contract(env, queue)


async def _start_contract(env: WorkflowEnvironment, queue: str) -> Handle:
    from workflows.contract import ContractInput, ContractWorkflow

    return await env.client.start_workflow(
        ContractWorkflow.run,
        ContractInput("ctr_reference_msa"),
        id="ctr_reference_msa",
        task_queue=queue,
    )


def _reset_agreement(contract_id: str) -> None:
    from sqlmodel import Session, col, delete, update

    from activities.steps import terms_digest
    from store.db import get_engine, insert_if_absent
    from store.models import AuditEntry, Case, Contract, TermSnapshot
    from workers.seed import reference_term_sheet

    with Session(get_engine()) as s:
        row = s.get(Contract, contract_id)
        assert row is not None
        row.legal_state = row.end_route = row.ends_at = row.ended_by_case = None
        row.agreement_step = 0
        s.add(row)
        # Its steps are written once each (keyed by contract and step): begin them again.
        s.exec(delete(AuditEntry).where(col(AuditEntry.idempotency_key).startswith("agreement:")))  # type: ignore[call-overload]
        # The cases earlier recordings left open ran on another server: the contract
        # would look for them; they are closed here, as if they had ended.
        s.exec(update(Case).where(Case.contract_id == contract_id).values(closed=True))  # type: ignore[call-overload]
        # The cases' term sheet is kept already, whichever recording came first (one that
        # changes the contract's own terms would otherwise send it once more).
        terms = reference_term_sheet().model_dump(mode="json")
        values = {"sha256": terms_digest(terms), "terms": terms, "first_seen_at": PINNED}
        insert_if_absent(s, TermSnapshot.__table__, values, ["sha256"])  # type: ignore[attr-defined]
        s.commit()


def _paths() -> dict[str, Scenario]:
    """Every clause's recorded paths by history name, in the registry's order."""
    found: dict[str, Scenario] = {}
    for clause in default_registry().clauses():
        scenarios = load_scenarios(scenarios_path(clause))
        for case in scenarios.paths:
            for history in case.histories:
                version = case.rulebook_version or scenarios.rulebook_version
                name = f"{clause}.v{version}.{history}"
                found[name] = functools.partial(run_path, scenarios, case)
    return found


SCENARIOS: dict[str, Scenario] = {
    **_paths(),
    "termination_for_convenience.v1.notice_retried_now": _termination_notice_retried_now,
    # Recorded again since one activity a step (workflows/steps.py LEAN_STEPS_PATCH): the
    # acknowledgement is written with its step and handed to SendGrid on its own.
    "termination_for_convenience.v1.notice_retried_now_one_activity_a_step": functools.partial(
        _termination_notice_retried_now, case_id="case_replay_notice_retried_now_lean"
    ),
    # Recorded again since the activity retried now carries an id that says so
    # (workflows/recording.py RETRIED_ID_PATCH).
    "termination_for_convenience.v1.notice_retried_now_under_its_own_id": functools.partial(
        _termination_notice_retried_now, case_id="case_replay_notice_retried_now_own_id"
    ),
    # The agreement as a whole (workflows/contract.py): the contract's own workflow, the
    # notice that tells it, and a case its end closes.
    "contract.ended_closing_a_case": functools.partial(_agreement, keep="contract"),
    "contract.termination_withdrawn": functools.partial(
        _agreement, withdrawn=True, keep="contract"
    ),
    "termination_for_convenience.v4.tells_its_contract_then_terminated": functools.partial(
        _agreement, keep="termination"
    ),
    "termination_for_convenience.v4.tells_its_contract_then_withdrawn": functools.partial(
        _agreement, withdrawn=True, keep="termination"
    ),
    "invoice_payment.v3.closed_when_the_agreement_ended": functools.partial(
        _agreement, keep="invoice"
    ),
    "monthly_sla_review.v4.ended_with_the_agreement": functools.partial(_agreement, keep="review"),
    "contract.ended_at_once_for_non_payment": functools.partial(_non_payment, keep="contract"),
    "invoice_payment.v4.terminated_for_non_payment": functools.partial(
        _non_payment, keep="invoice"
    ),
    "term_expiry.v4.closed_when_the_agreement_ended": functools.partial(_non_payment, keep="term"),
    "incident_response.v4.tells_its_contract_resolved": functools.partial(
        _incident_into_review, keep="incident"
    ),
    "monthly_sla_review.v4.incident_from_its_contract": functools.partial(
        _incident_into_review, keep="review"
    ),
    "contract.sla_month_failed_opened_a_breach_case": functools.partial(
        _sla_failure, keep="contract"
    ),
    "monthly_sla_review.v4.month_below_target_tells_its_contract": functools.partial(
        _sla_failure, keep="review"
    ),
    "material_breach.v4.opened_by_its_contract": functools.partial(_sla_failure, keep="breach"),
    "monthly_sla_review.v4.breach_case_offered": functools.partial(
        _sla_failure, keep="review", offer=True
    ),
    "monthly_sla_review.v5.final_part_month_reviewed": _final_part_month,
    "contract.maintenance_window_passed_on": functools.partial(
        _maintenance_into_review, keep="contract"
    ),
    "scheduled_maintenance.v4.tells_its_contract_excluded": functools.partial(
        _maintenance_into_review, keep="maintenance"
    ),
    "monthly_sla_review.v4.maintenance_window_from_its_contract": functools.partial(
        _maintenance_into_review, keep="review"
    ),
}


async def record(names: list[str], out: Path = HERE) -> None:
    from runtime.settings import get_settings
    from runtime.temporal import DATA_CONVERTER, register_search_attributes
    from store.db import get_engine
    from store.migrate import upgrade
    from tests.workflows.helpers import seed_reference_contract, travel_to
    from workers.temporal import build_worker

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/record.db"
        get_settings.cache_clear()
        get_engine.cache_clear()
        upgrade(os.environ["DATABASE_URL"])
        seed_reference_contract()
        for name in names:
            env = await WorkflowEnvironment.start_time_skipping(
                data_converter=DATA_CONVERTER,
                test_server_existing_path=str(Path(sys.executable).parent / "temporal-test-server"),
            )
            try:
                await register_search_attributes(env.client)
                await travel_to(env, dt.datetime(2037, 11, 27, 12, tzinfo=dt.UTC))
                async with build_worker(env.client, task_queue="record"):
                    handle = await SCENARIOS[name](env, "record")
                history = await handle.fetch_history()
                path = out / f"{name}.json"
                path.write_text(json.dumps(json.loads(history.to_json()), indent=1) + "\n")
                print(f"wrote {path} ({len(history.events)} events)")
            finally:
                await env.shutdown()


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.histories.record")
    parser.add_argument("names", nargs="*", help="histories to record (default: all)")
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write them to")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in SCENARIOS]
    if unknown:
        parser.error(f"no such history: {', '.join(unknown)}")
    args.out.mkdir(parents=True, exist_ok=True)
    asyncio.run(record(args.names or list(SCENARIOS), args.out))


if __name__ == "__main__":
    main()
