"""The agreement as a whole, on the time-skipping server: a notice of termination makes the
contract terminating; at the effective date the agreement ends, and every open case of a
clause that does not survive (§10) closes with why, while surviving ones go on.

2037 has the same calendar as 2026; the clock is pinned there, ahead of any run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from store.db import get_engine
from store.models import AuditEntry, Contract
from store.models import Case as CaseRow
from tests.workflows.helpers import (
    at_ny,
    clock_at,
    eventually,
    in_state,
    markers_and_upserts,
    notices_of,
    open_case,
    record_fact,
    seed_reference_contract,
    travel_to,
)
from workflows.case import CaseWorkflow
from workflows.contract import ContractInput, ContractWorkflow
from workflows.messages import ENDED_WITH_AGREEMENT, ContractEvent, ContractFact

CONTRACT = "ctr_reference_msa"
TERMINATION = {"notice_received_at": "2037-12-01T15:00:00Z", "given_by": "provider"}

_clock = clock_at(dt.datetime(2037, 11, 27, 12, tzinfo=dt.UTC))


def _contract() -> Contract:
    with Session(get_engine()) as s:
        row = s.get(Contract, CONTRACT)
        assert row is not None
        return row


async def _start_contract(client: Client, task_queue: str) -> Any:
    seed_reference_contract()
    handle = await client.start_workflow(
        ContractWorkflow.run, ContractInput(CONTRACT), id=CONTRACT, task_queue=task_queue
    )
    await eventually(lambda: _contract().legal_state == "in_force")
    return handle


async def _notice_of_termination(client: Client, env: WorkflowEnvironment, task_queue: str) -> Any:
    await travel_to(env, at_ny(2037, 12, 1, 11))
    return await open_case(
        client, task_queue, "termination_for_convenience", TERMINATION, version=4
    )


async def test_the_agreements_end_closes_the_cases_that_do_not_survive_it(
    worker: Client, time_env: WorkflowEnvironment, task_queue: str
) -> None:
    contract = await _start_contract(worker, task_queue)
    term = await open_case(
        worker, task_queue, "term_expiry", {"effective_date": "2037-06-01"}, version=4
    )
    review = await open_case(
        worker, task_queue, "monthly_sla_review", {"first_month": "2037-11-01"}, version=4
    )
    termination = await _notice_of_termination(worker, time_env, task_queue)
    # Day 90 after receipt (1 Dec excluded) is Mon 1 Mar 2038: the agreement ends then.
    await eventually(lambda: _contract().legal_state == "terminating")
    row = _contract()
    assert (row.end_route, row.ended_by_case) == ("convenience", termination.id)
    assert row.ends_at == at_ny(2038, 3, 1)

    await travel_to(time_env, at_ny(2038, 2, 20, 10))
    invoice = await open_case(
        worker,
        task_queue,
        "invoice_payment",
        {
            "invoice_received_at": at_ny(2038, 2, 20, 9).isoformat(),
            "invoice_amount": "25000.00",
            "invoice_number": "INV-2038-02",
        },
        version=3,
    )
    indemnity = await open_case(
        worker,
        task_queue,
        "indemnity_claim",
        {
            "claim_received_at": at_ny(2038, 2, 20, 9).isoformat(),
            "claimant": "Third Party Telecom Ltd",
            "description": "patent infringement claim about the messaging service",
            "given_by": "provider",
        },
        version=3,
    )
    running = (await indemnity.query(CaseWorkflow.case)).state

    await travel_to(time_env, at_ny(2038, 3, 1, 12))
    assert (await termination.result()).state == "terminated"
    view = await in_state(invoice, ENDED_WITH_AGREEMENT)
    assert view.closed and view.state_label == "Closed: the agreement ended"
    assert not [d for d in view.deadlines if d.status == "pending"]
    # The term's clock (to 2040) stops: §10 does not survive the end.
    stopped = await in_state(term, ENDED_WITH_AGREEMENT)
    assert not [d for d in stopped.deadlines if d.status == "pending"]
    # The monthly review records the end by its own rule: no month after it is reviewed.
    assert (await in_state(review, "ended")).closed
    assert _told(review.id) == [("review_ended", {"ended_on": "2038-03-01"})]
    # February ended at the same midnight as the agreement: it is reviewed, once.
    months = [n.subject.split(":")[0] for n in notices_of(review.id, "uptime_report")]
    assert months == [
        f"Uptime for {m}"
        for m in ("November 2037", "December 2037", "January 2038", "February 2038")
    ]
    # Surviving §4: the indemnity goes on as it was.
    still = await indemnity.query(CaseWorkflow.case)
    assert (still.state, still.closed) == (running, False)

    row = _contract()
    assert (row.legal_state, row.end_route, row.ended_by_case) == (
        "ended",
        "convenience",
        termination.id,
    )
    told = await contract.query(ContractWorkflow.agreement)
    by_case = {c.case_id: c for c in told.at_end}
    assert by_case[invoice.id].action == "close"
    assert "§3 does not survive" in by_case[invoice.id].reason
    assert "Mon 1 Mar 2038" in by_case[invoice.id].reason
    assert by_case[indemnity.id].action == "carry_on"
    assert "§4 survives" in by_case[indemnity.id].reason
    assert told.not_reached == []
    with Session(get_engine()) as s:
        closed = s.exec(
            select(AuditEntry).where(
                AuditEntry.case_id == invoice.id, AuditEntry.action == "agreement_ended"
            )
        ).one()
        ended = s.exec(
            select(AuditEntry).where(
                AuditEntry.contract_id == CONTRACT,
                AuditEntry.action == "agreement_ended",
                AuditEntry.case_id == termination.id,
            )
        ).one()
    assert closed.actor == f"contract {CONTRACT}" and "§3 does not survive" in (closed.reason or "")
    assert closed.after["closed"] is True
    assert ended.after["legal_state"] == "ended"


async def test_a_withdrawn_termination_puts_the_agreement_back_in_force(
    worker: Client, time_env: WorkflowEnvironment, task_queue: str
) -> None:
    await _start_contract(worker, task_queue)
    termination = await _notice_of_termination(worker, time_env, task_queue)
    await eventually(lambda: _contract().legal_state == "terminating")
    await travel_to(time_env, at_ny(2037, 12, 10, 10))
    await record_fact(
        termination,
        "withdrawal_agreed",
        {
            "customer_signatory": "Dana Smith",
            "provider_signatory": "Lee Jones",
            "agreed_on": "2037-12-09",
        },
        by="dana@customer.example.com",
    )
    assert (await termination.result()).state == "withdrawn"
    await eventually(lambda: _contract().legal_state == "in_force")
    row = _contract()
    assert (row.end_route, row.ends_at, row.ended_by_case) == (None, None, None)
    with Session(get_engine()) as s:
        back = s.exec(
            select(AuditEntry).where(
                AuditEntry.contract_id == CONTRACT, AuditEntry.action == "agreement_in_force"
            )
        ).all()
    assert [e.case_id for e in back] == [None, termination.id]


async def test_a_case_whose_contract_has_no_workflow_still_runs_its_course(
    worker: Client, time_env: WorkflowEnvironment, task_queue: str
) -> None:
    # A contract registered before contracts had a workflow: its case cannot tell it.
    termination = await _notice_of_termination(worker, time_env, task_queue)
    await travel_to(time_env, at_ny(2038, 3, 1, 12))
    assert (await termination.result()).state == "terminated"
    assert _contract().legal_state is None


async def test_of_two_notices_the_one_that_ends_the_agreement_first_decides(
    worker: Client, time_env: WorkflowEnvironment, task_queue: str
) -> None:
    contract = await _start_contract(worker, task_queue)
    first = await _notice_of_termination(worker, time_env, task_queue)
    await eventually(lambda: _contract().legal_state == "terminating")
    # A later notice ends it later: it changes nothing. Many do not grow the state.
    for n in range(25):
        await contract.signal(
            ContractWorkflow.agreement_event,
            ContractEvent(
                "agreement_terminating", f"case_later_{n}", "convenience", at_ny(2038, 4, 1)
            ),
        )
    # An earlier one decides instead.
    await contract.signal(
        ContractWorkflow.agreement_event,
        ContractEvent("agreement_terminating", "case_earlier", "convenience", at_ny(2038, 2, 1)),
    )
    await eventually(lambda: _contract().ended_by_case == "case_earlier")
    view = await contract.query(ContractWorkflow.agreement)
    assert (view.legal_state, view.by_case, view.ends_at) == (
        "terminating",
        "case_earlier",
        at_ny(2038, 2, 1),
    )
    assert len(view.ignored) == 20 and "case_later_24" in view.ignored[-1]
    assert "already ends earlier, by " + first.id in view.ignored[-1]


async def test_a_termination_for_cause_ends_the_agreement_at_once(
    worker: Client, time_env: WorkflowEnvironment, task_queue: str
) -> None:
    await _start_contract(worker, task_queue)
    await travel_to(time_env, at_ny(2037, 12, 1, 11))
    breach = await open_case(
        worker,
        task_queue,
        "material_breach",
        {
            "breach_notice_received_at": at_ny(2037, 12, 1, 10).isoformat(),
            "given_by": "customer",
            "breach_description": "repeated failure to deliver the reporting under §5",
        },
        version=4,
    )
    # The 30-day cure period has run without a cure; we terminate for cause.
    await travel_to(time_env, at_ny(2038, 1, 6, 10))
    invoice = await open_case(
        worker,
        task_queue,
        "invoice_payment",
        {"invoice_received_at": at_ny(2038, 1, 6, 9).isoformat(), "invoice_amount": "900.00"},
        version=3,
    )
    await in_state(breach, "termination_right_arisen")
    await record_fact(
        breach,
        "termination_exercised",
        {"notice_given_on": "2038-01-06", "signatory": "Dana Smith"},
        by="dana@customer.example.com",
    )
    await eventually(lambda: _contract().legal_state == "ended")
    row = _contract()
    assert (row.end_route, row.ended_by_case) == ("for_cause", breach.id)
    assert (await in_state(invoice, ENDED_WITH_AGREEMENT)).closed

    def ended_entries() -> list[AuditEntry]:
        with Session(get_engine()) as s:
            return list(
                s.exec(
                    select(AuditEntry).where(
                        AuditEntry.case_id == invoice.id, AuditEntry.action == "agreement_ended"
                    )
                ).all()
            )

    # The query shows the new state as soon as the workflow decides it; the step that
    # records it is an activity, which may still be running.
    [closed] = await eventually(ended_entries)
    assert "The agreement terminated for cause on Wed 6 Jan 2038" in (closed.reason or "")


def _told(case_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The facts the contract told a case to record, in order: (fact, values)."""
    with Session(get_engine()) as s:
        entries = s.exec(
            select(AuditEntry)
            .where(AuditEntry.case_id == case_id, AuditEntry.actor == f"contract {CONTRACT}")
            .order_by(AuditEntry.id)  # type: ignore[arg-type]
        ).all()
    return [(e.after["event"].split(":")[1], e.after["values"]) for e in entries]


async def test_a_maintenance_window_excluded_from_uptime_goes_into_the_months_review(
    worker: Client, time_env: WorkflowEnvironment, task_queue: str
) -> None:
    await _start_contract(worker, task_queue)
    review = await open_case(
        worker, task_queue, "monthly_sla_review", {"first_month": "2037-11-01"}, version=4
    )
    starts, ends = at_ny(2037, 12, 5, 1), at_ny(2037, 12, 5, 3)
    window = await open_case(
        worker,
        task_queue,
        "scheduled_maintenance",
        {
            "window_starts_at": starts.isoformat(),
            "window_ends_at": ends.isoformat(),
            "description": "core router upgrade",
        },
        version=4,
    )
    # We are the Customer: the Provider's notice arrived a week ahead, in time.
    noticed = at_ny(2037, 11, 27, 6)
    await record_fact(
        window,
        "maintenance_notice_received",
        {"received_at": noticed.isoformat()},
        by="noc@customer.example.com",
    )
    await travel_to(time_env, at_ny(2037, 12, 5, 4))
    assert (await window.result()).state == "excluded_from_uptime"
    await eventually(lambda: _told(review.id))
    ((fact, values),) = _told(review.id)
    assert fact == "maintenance_window_recorded"
    assert values == {
        "starts_at": starts.isoformat(),
        "ends_at": ends.isoformat(),
        "notice_given_at": noticed.isoformat(),
        "description": "core router upgrade",
    }
    still = await review.query(CaseWorkflow.case)
    assert (still.state, still.open_escalations) == ("monitoring", [])


async def test_a_fact_the_contract_tells_that_the_case_cannot_take_is_escalated(
    worker: Client, time_env: WorkflowEnvironment, task_queue: str
) -> None:
    review = await open_case(
        worker, task_queue, "monthly_sla_review", {"first_month": "2037-11-01"}, version=4
    )
    await review.signal(
        CaseWorkflow.contract_fact,
        ContractFact(
            CONTRACT,
            "maintenance_window_recorded",
            {"starts_at": "not a time", "ends_at": "2037-12-05T08:00:00Z"},
            "maintenance_window_excluded in case case_x",
        ),
    )
    view = await eventually_view(review, lambda v: bool(v.open_escalations))
    (escalation,) = view.open_escalations
    assert escalation.rule == "step_refused"
    assert "its contract told it to record maintenance_window_recorded" in escalation.reason
    assert "starts_at" in escalation.reason and view.state == "monitoring"


async def eventually_view(handle: Any, test: Any) -> Any:
    async def check() -> Any:
        view = await handle.query(CaseWorkflow.case)
        return view if test(view) else None

    for _ in range(200):
        if found := await check():
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met")


async def test_the_non_payment_termination_right_once_exercised_ends_the_agreement(
    worker: Client, time_env: WorkflowEnvironment, task_queue: str
) -> None:
    await _start_contract(worker, task_queue)
    term = await open_case(
        worker, task_queue, "term_expiry", {"effective_date": "2037-06-01"}, version=4
    )
    invoice = await open_case(
        worker,
        task_queue,
        "invoice_payment",
        {"invoice_received_at": at_ny(2037, 11, 27, 6).isoformat(), "invoice_amount": "900.00"},
        version=4,
    )
    # Due 30 days after receipt; the right arises once it is 30 days overdue.
    await travel_to(time_env, at_ny(2038, 2, 1, 10))
    await in_state(invoice, "termination_right_arisen")
    # We are the Customer: the Provider's notice of termination arrived.
    await record_fact(
        invoice,
        "termination_exercised",
        {"notice_given_on": "2038-02-01", "signatory": "Lee Jones"},
        by="dana@customer.example.com",
    )
    assert (await invoice.result()).state == "terminated_for_non_payment"
    await eventually(lambda: _contract().legal_state == "ended")
    row = _contract()
    assert (row.end_route, row.ended_by_case) == ("non_payment", invoice.id)
    assert (await in_state(term, ENDED_WITH_AGREEMENT)).closed
    with Session(get_engine()) as s:
        closed = s.exec(
            select(AuditEntry).where(
                AuditEntry.case_id == term.id, AuditEntry.action == "agreement_ended"
            )
        ).one()
    assert "The agreement terminated for non-payment on Mon 1 Feb 2038" in (closed.reason or "")


async def test_missed_incident_targets_appear_in_the_months_sla_report(
    worker: Client, time_env: WorkflowEnvironment, task_queue: str
) -> None:
    await _start_contract(worker, task_queue)
    review = await open_case(
        worker, task_queue, "monthly_sla_review", {"first_month": "2037-11-01"}, version=4
    )
    reported = at_ny(2037, 11, 27, 7)  # before business hours: 4 hours to respond
    incident = await open_case(
        worker,
        task_queue,
        "incident_response",
        {
            "reported_at": reported.isoformat(),
            "severity": "high",
            "description": "calls drop after 30 seconds",
        },
        version=4,
    )
    await travel_to(time_env, at_ny(2037, 11, 28, 10))
    await record_fact(
        incident,
        "responded",
        {"responded_at": at_ny(2037, 11, 28, 9).isoformat(), "responded_by": "NOC"},
        by="noc@customer.example.com",
    )
    await record_fact(
        incident,
        "resolved",
        {"resolved_at": at_ny(2037, 11, 28, 9, 30).isoformat(), "resolution": "trunk re-routed"},
        by="noc@customer.example.com",
    )
    assert (await incident.result()).state == "resolved"
    await eventually(lambda: _told(review.id))
    ((fact, values),) = _told(review.id)
    assert fact == "incident_recorded"
    assert (values["response_target_missed"], values["resolution_target_missed"]) == (True, True)
    # November ends: the report lists the incident and the targets it missed.
    await travel_to(time_env, at_ny(2037, 12, 1, 1))
    report = await eventually(lambda: notices_of(review.id, "uptime_report"))
    body = report[0].body_text
    assert "Incidents reported this month and resolved: 1; 1 missed a target" in body
    assert (
        "Incident reported Fri 27 Nov 2037 07:00 New York time (high): response and "
        "resolution target missed; calls drop after 30 seconds." in body
    )


async def _a_month_below_target(
    worker: Client, time_env: WorkflowEnvironment, task_queue: str
) -> Any:
    """The review of November 2037 with five hours of downtime: below 99.9%."""
    await _start_contract(worker, task_queue)
    review = await open_case(
        worker, task_queue, "monthly_sla_review", {"first_month": "2037-11-01"}, version=4
    )
    await record_fact(
        review,
        "downtime_recorded",
        {
            "started_at": at_ny(2037, 11, 20, 9).isoformat(),
            "ended_at": at_ny(2037, 11, 20, 14).isoformat(),
            "description": "carrier outage",
        },
        by="noc@customer.example.com",
    )
    await travel_to(time_env, at_ny(2037, 12, 1, 2))
    await eventually(lambda: notices_of(review.id, "service_credit"))
    return review


async def test_a_month_below_the_uptime_target_opens_a_material_breach_case(
    worker: Client, time_env: WorkflowEnvironment, task_queue: str
) -> None:
    await _a_month_below_target(worker, time_env, task_queue)

    def breach() -> CaseRow | None:
        with Session(get_engine()) as s:
            return s.exec(select(CaseRow).where(CaseRow.clause == "material_breach")).first()

    row = await eventually(breach)
    assert row.facts["opened_by"] == "sla_failure" and row.facts["given_by"] == "customer"
    assert row.facts["breach_description"].startswith("Uptime of 99.3")
    assert "in November 2037, below the target of Exhibit A.1" in row.facts["breach_description"]
    case = worker.get_workflow_handle(row.id)
    view = await in_state(case, "cure_period_running")
    # Its cure period, 30 days from the notice.
    assert "cure_period" in {d.name for d in view.deadlines}
    # Started lean, as the API starts a case: its workflow asks no patch.
    markers, _ = markers_and_upserts((await case.fetch_history()).events)
    assert "core_patch" not in markers


async def test_a_term_sheet_may_have_a_person_confirm_the_breach_case_instead(
    worker: Client, time_env: WorkflowEnvironment, task_queue: str
) -> None:
    seed_reference_contract()
    with Session(get_engine()) as s:
        row = s.get(Contract, CONTRACT)
        assert row is not None
        terms = dict(row.terms)
        clauses = dict(terms["clauses"])
        # The figure sits under the clause's heading in the term sheet (§10's).
        clauses["termination_for_cause"] = {
            **clauses.get("termination_for_cause", {}),
            "sla_failure_opens_case": False,
        }
        row.terms = {**terms, "clauses": clauses}
        s.add(row)
        s.commit()
    review = await _a_month_below_target(worker, time_env, task_queue)
    view = await eventually_view(review, lambda v: bool(v.open_escalations))
    (offer,) = view.open_escalations
    assert offer.rule == "contract_offer"
    assert "Material breach and termination for cause case (§10) is offered" in offer.reason
    assert "the term sheet's sla_failure_opens_case is no" in offer.reason
    assert "breach_description = Uptime of 99.3" in offer.reason
    with Session(get_engine()) as s:
        assert not s.exec(select(CaseRow).where(CaseRow.clause == "material_breach")).all()
