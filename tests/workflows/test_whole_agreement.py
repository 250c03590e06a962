"""A whole agreement on the time-skipping server (issue 15, part 6): an invoice, an
acceptable-use cure, an incident, a maintenance window and an indemnity claim run under
one contract; a termination for convenience ends it; the cases that do not survive
close, the indemnity goes on, and the final settlement (§10) is right to the cent.

2037 has the same calendar as 2026; the clock is pinned there, ahead of any run.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.position import money_position
from store.db import get_engine
from store.models import Case as CaseRow
from store.models import Deadline
from tests.workflows.helpers import (
    at_ny,
    clock_at,
    eventually,
    in_state,
    notices_of,
    open_case,
    record_fact,
    travel_to,
)
from tests.workflows.test_agreement import (
    _a_month_below_target,
    _contract,
    _notice_of_termination,
    _start_contract,
)
from workflows.case import CaseWorkflow
from workflows.messages import ENDED_WITH_AGREEMENT

_clock = clock_at(dt.datetime(2037, 11, 27, 12, tzinfo=dt.UTC))

D = Decimal


def _due_day(case_id: str) -> dt.date | None:
    with Session(get_engine()) as s:
        row = s.exec(
            select(Deadline).where(Deadline.case_id == case_id, Deadline.name == "payment_due")
        ).first()
        return row.last_day if row else None


async def test_termination_closes_what_does_not_survive_and_settles_to_the_cent(
    worker: Client, time_env: WorkflowEnvironment, task_queue: str
) -> None:
    await _start_contract(worker, task_queue)
    invoice = await open_case(
        worker,
        task_queue,
        "invoice_payment",
        {
            "invoice_received_at": at_ny(2037, 11, 26, 9).isoformat(),
            "invoice_amount": "25000.00",
            "invoice_number": "INV-2037-10",
        },
        version=4,
    )
    await record_fact(
        invoice,
        "payment_received",
        {"amount": "10000.00", "paid_on": "2037-11-27"},
        by="ap@customer.example.com",
    )
    aup = await open_case(
        worker,
        task_queue,
        "acceptable_use_violation",
        {
            "violation_notice_received_at": at_ny(2037, 11, 26, 10).isoformat(),
            "given_by": "provider",
            "violation_description": "bulk messages sent without the recipients' consent",
        },
        version=3,
    )
    incident = await open_case(
        worker,
        task_queue,
        "incident_response",
        {
            "reported_at": at_ny(2037, 11, 27, 6).isoformat(),
            "severity": "Severity 2",
            "description": "delivery reports delayed",
        },
        version=4,
    )
    maintenance = await open_case(
        worker,
        task_queue,
        "scheduled_maintenance",
        {
            "window_starts_at": at_ny(2038, 3, 10, 1).isoformat(),
            "window_ends_at": at_ny(2038, 3, 10, 3).isoformat(),
            "description": "database upgrade; messaging unavailable",
        },
        version=4,
    )
    await _notice_of_termination(worker, time_env, task_queue)
    indemnity = await open_case(
        worker,
        task_queue,
        "indemnity_claim",
        {
            "claim_received_at": at_ny(2037, 12, 1, 9).isoformat(),
            "claimant": "Third Party Telecom Ltd",
            "description": "patent infringement claim about the messaging service",
            "given_by": "provider",
        },
        version=3,
    )
    # 30 days from receipt on 26 Nov is Sat 26 Dec; the next business day after the
    # Christmas weekend is Mon 28 Dec 2037.
    assert _due_day(invoice.id) == dt.date(2037, 12, 28)

    await travel_to(time_env, at_ny(2038, 3, 1, 12))
    for case in (invoice, aup, incident, maintenance):
        view = await in_state(case, ENDED_WITH_AGREEMENT)
        assert view.closed and not [d for d in view.deadlines if d.status == "pending"]
    still = await indemnity.query(CaseWorkflow.case)
    assert not still.closed

    row = _contract()
    assert row.legal_state == "ended"
    with Session(get_engine()) as s:
        position = money_position(s, row, dt.date(2038, 3, 1))
    settlement = position.final_settlement
    assert settlement is not None and not settlement.what_if
    assert (settlement.ends_on, settlement.last_service_day) == (
        dt.date(2038, 3, 1),
        dt.date(2038, 2, 28),
    )
    got = [(line.kind, line.day, line.amount) for line in settlement.lines]
    # The invoice of 26 Nov bills October: November to February are not invoiced yet.
    # 15,000.00 of it is unpaid. Interest from 28 Dec at 1% a month: 150.00 to 28 Jan,
    # 151.50 on 15,150.00 to 28 Feb, and 1 of the 28 days to 28 Mar on 15,301.50 (5.46):
    # 306.96, under the 16% a year ceiling (414.24).
    assert got == [
        ("fees_not_invoiced", dt.date(2037, 11, 30), D("25000.00")),
        ("fees_not_invoiced", dt.date(2037, 12, 31), D("25000.00")),
        ("fees_not_invoiced", dt.date(2038, 1, 31), D("25000.00")),
        ("fees_not_invoiced", dt.date(2038, 2, 28), D("25000.00")),
        ("invoice_unpaid", dt.date(2037, 11, 26), D("15000.00")),
        ("interest", dt.date(2038, 3, 1), D("306.96")),
    ]
    assert settlement.total == D("115306.96")
    assert "INV-2037-10" in settlement.lines[4].explanation
    assert settlement.explanation[-1] == "The Customer owes the Provider 115,306.96."
    # The cap for a claim arising on the last day: what was paid in the year before it.
    assert position.liability_cap.amount == D("10000.00")


async def test_a_months_service_credit_enters_the_contracts_money(
    worker: Client, time_env: WorkflowEnvironment, task_queue: str
) -> None:
    await _a_month_below_target(worker, time_env, task_queue)
    row = _contract()
    with Session(get_engine()) as s:
        position = money_position(s, row, dt.date(2037, 12, 1), settle_on=dt.date(2037, 12, 1))
    # Five hours down in November's 43,260 minutes (its clocks went back an hour on the
    # 1st): 99.3065% to four places, 0.5935 of a point under 99.9%, pro rata at 1% of the
    # fee a point: 25,000.00 x 0.5935% = 148.375, 148.38 rounded half up.
    credits = [line for line in position.ledger if line.kind == "service_credit"]
    assert [(c.day, c.amount) for c in credits] == [(dt.date(2037, 11, 30), D("-148.38"))]
    assert position.service_credits == D("148.38")
    settlement = position.final_settlement
    assert settlement is not None and settlement.what_if
    assert settlement.lines[-1].kind == "service_credit"
    assert settlement.lines[-1].amount == D("-148.38")


async def test_an_agreement_ended_inside_a_month_has_its_final_part_month_reviewed(
    worker: Client, time_env: WorkflowEnvironment, task_queue: str
) -> None:
    await _start_contract(worker, task_queue)
    await travel_to(time_env, at_ny(2037, 12, 1, 11))
    review = await open_case(
        worker, task_queue, "monthly_sla_review", {"first_month": "2037-12-01"}, version=5
    )
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
    await travel_to(time_env, at_ny(2038, 1, 5, 12))
    await record_fact(
        review,
        "downtime_recorded",
        {
            "started_at": at_ny(2038, 1, 4, 9).isoformat(),
            "ended_at": at_ny(2038, 1, 4, 14).isoformat(),
            "description": "carrier outage",
        },
        by="noc@customer.example.com",
    )
    # The cure period ran out without a cure: terminated for cause, at once, on 6 Jan.
    await travel_to(time_env, at_ny(2038, 1, 6, 10))
    await in_state(breach, "termination_right_arisen")
    await record_fact(
        breach,
        "termination_exercised",
        {"notice_given_on": "2038-01-06", "signatory": "Dana Smith"},
        by="dana@customer.example.com",
    )
    view = await in_state(review, "ended")
    assert view.closed
    # The query shows the end as soon as the workflow decides it; the step that records
    # it and writes its notices is an activity, which may still be running.
    [claim] = await eventually(lambda: notices_of(review.id, "service_credit"))
    # December was reviewed at its own end; January up to the end, with its credit.
    months = [n.subject.split(":")[0] for n in notices_of(review.id, "uptime_report")]
    assert months == ["Uptime for December 2037"]
    assert claim.subject.startswith("Service credit claimed for 1 to 6 January 2038: ")
    assert "up to the agreement's end" in claim.body_text
    assert "6 of the month's 31 days" in claim.body_text
    credit = D(claim.subject.split(": ")[1].split(" ")[0])
    assert credit > 0
    # The month below target does not open a breach case on an agreement that has ended.
    with Session(get_engine()) as s:
        breaches = s.exec(select(CaseRow.id).where(CaseRow.clause == "material_breach")).all()
        position = money_position(s, _contract(), dt.date(2038, 1, 6))
    assert breaches == [breach.id]
    settlement = position.final_settlement
    assert settlement is not None
    assert settlement.last_service_day == dt.date(2038, 1, 6)
    [line] = [line for line in settlement.lines if line.kind == "service_credit"]
    assert (line.day, line.amount) == (dt.date(2038, 1, 1), -credit)
