"""GET /api/contracts/{id}/position: the contract's ledger, the §9 liability cap and the
§10 final settlement, read from what its cases recorded, each line explained in cents.

Rows are written straight to the store, dated relative to now; the time-skipping test of
a whole agreement (tests/workflows/test_whole_agreement.py) makes them through workflows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlmodel import Session

from store.db import get_engine
from store.models import AuditEntry, Contract, Deadline
from tests.api.helpers import a_case, seed
from tests.api.test_console import SignIn, sign_in  # noqa: F401 (the fixture)

URL = "/api/contracts/ctr_reference_msa/position"
ZONE = ZoneInfo("America/New_York")
TODAY = dt.datetime.now(ZONE).date()
D = Decimal


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), ZONE).astimezone(dt.UTC)


def _invoice(case_id: str, number: str, received: dt.date, due: dt.date, amount: str) -> None:
    seed(
        a_case(
            case_id,
            clause="invoice_payment",
            rulebook_version=4,
            state="awaiting_payment",
            facts={
                "invoice_received_at": _at(received).isoformat(),
                "invoice_amount": amount,
                "invoice_number": number,
            },
        )
    )
    with Session(get_engine()) as s:
        s.add(
            Deadline(
                case_id=case_id,
                name="payment_due",
                group="payment_due",
                label="Payment due",
                due_at=_at(due + dt.timedelta(days=1)),
                last_day=due,
                explanation=[],
                set_at_step=1,
                updated_at=_at(received),
            )
        )
        s.commit()


def _fact(case_id: str, step: int, fact: str, on: dt.date, values: dict[str, Any]) -> None:
    with Session(get_engine()) as s:
        s.add(
            AuditEntry(
                at=_at(on),
                actor="ap@customer.example.com",
                action="fact",
                contract_id="ctr_reference_msa",
                case_id=case_id,
                after={"state": "awaiting_payment", "event": f"fact:{fact}", "values": values},
                idempotency_key=f"{case_id}:{step}:fact",
            )
        )
        s.commit()


def _two_invoices() -> tuple[dt.date, dt.date]:
    """An invoice received 60 days ago, due 30 days ago, 10,000.00 of it paid 40 days ago;
    one received 5 days ago with 2,000.00 of it disputed."""
    old_received, old_due = TODAY - dt.timedelta(days=60), TODAY - dt.timedelta(days=30)
    _invoice("case_old", "INV-OLD", old_received, old_due, "25000.00")
    _fact(
        "case_old",
        2,
        "payment_received",
        TODAY - dt.timedelta(days=40),
        {"amount": "10000.00", "paid_on": (TODAY - dt.timedelta(days=40)).isoformat()},
    )
    new_received = TODAY - dt.timedelta(days=5)
    _invoice("case_new", "INV-NEW", new_received, TODAY + dt.timedelta(days=25), "12000.00")
    _fact(
        "case_new",
        2,
        "dispute_raised",
        new_received,
        {"contested_amount": "2000.00", "reason": "usage counted twice"},
    )
    return old_due, new_received


async def test_the_position_adds_up_invoices_payments_disputes_and_late_interest(
    api: httpx.AsyncClient,
) -> None:
    _two_invoices()
    r = await api.get(URL, params={"as_of": TODAY.isoformat()})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["as_of"], body["currency"]) == (TODAY.isoformat(), "USD")
    assert D(body["invoiced"]) == D("37000.00")
    assert D(body["paid"]) == D("10000.00")
    # 15,000.00 late on the old invoice, 10,000.00 undisputed on the new one.
    assert D(body["outstanding"]) == D("25000.00")
    assert D(body["disputed"]) == D("2000.00")
    interest = D(body["interest"])
    assert interest > 0
    assert D(body["balance"]) == D("25000.00") + interest
    kinds = [(line["kind"], line["case_id"]) for line in body["ledger"]]
    assert kinds.count(("invoice", "case_old")) == 1
    assert ("payment", "case_old") in kinds and ("interest", "case_old") in kinds
    assert ("dispute", "case_new") in kinds
    assert all(line["explanation"] for line in body["ledger"])
    # Still in force, and no settlement asked for: none.
    assert body["final_settlement"] is None
    cap = body["liability_cap"]
    assert D(cap["amount"]) == D("10000.00") and len(cap["payments"]) == 1


async def test_the_liability_cap_is_for_the_day_of_the_event_asked_for(
    api: httpx.AsyncClient,
) -> None:
    _two_invoices()
    paid_on = TODAY - dt.timedelta(days=40)
    r = await api.get(URL, params={"cap_event_on": paid_on.isoformat()})
    # The payment on the event's own day does not precede it.
    assert r.status_code == 200 and D(r.json()["liability_cap"]["amount"]) == D("0.00")
    r = await api.get(URL, params={"cap_event_on": (paid_on + dt.timedelta(days=1)).isoformat()})
    assert D(r.json()["liability_cap"]["amount"]) == D("10000.00")


async def test_a_terminating_agreement_shows_its_final_settlement_and_any_day_may_be_asked(
    api: httpx.AsyncClient,
) -> None:
    _two_invoices()
    r = await api.get(URL, params={"settle_on": TODAY.isoformat()})
    what_if = r.json()["final_settlement"]
    assert what_if["what_if"] is True and what_if["ends_on"] == TODAY.isoformat()
    ends = TODAY + dt.timedelta(days=20)
    with Session(get_engine()) as s:
        row = s.get(Contract, "ctr_reference_msa")
        assert row is not None
        row.legal_state = "terminating"
        row.ends_at = dt.datetime.combine(ends, dt.time(0), ZONE).astimezone(dt.UTC)
        s.add(row)
        s.commit()
    settlement = (await api.get(URL)).json()["final_settlement"]
    assert settlement["what_if"] is False
    assert (settlement["ends_on"], settlement["last_service_day"]) == (
        ends.isoformat(),
        (ends - dt.timedelta(days=1)).isoformat(),
    )
    lines = settlement["lines"]
    assert D(settlement["total"]) == sum(D(line["amount"]) for line in lines)
    assert {line["kind"] for line in lines} >= {"fees_not_invoiced", "invoice_unpaid", "dispute"}
    assert settlement["explanation"][-1].startswith("The Customer owes the Provider")


async def test_bad_dates_are_refused_naming_the_parameter(api: httpx.AsyncClient) -> None:
    r = await api.get(URL, params={"as_of": "1850-01-01"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "query.as_of"
    r = await api.get(URL, params={"settle_on": "not a day"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "query.settle_on"
    r = await api.get("/api/contracts/ctr_nobody/position")
    assert r.status_code == 404


async def test_the_contract_page_shows_the_money_with_every_line_explained(
    sign_in: SignIn,  # noqa: F811 (the fixture imported above)
) -> None:
    _two_invoices()
    viewer = await sign_in("viewer")
    page = (await viewer.get("/console/contracts/ctr_reference_msa")).text
    assert '<section class="card" id="money">' in page
    assert "Invoiced</dt><dd>37,000.00" in page
    assert "Payment of 10,000.00 against invoice INV-OLD." in page
    assert "2,000.00 of invoice INV-NEW is disputed" in page
    assert 'id="liability-cap">10,000.00' in page
    # In force: no settlement until the agreement is ending.
    assert 'id="final-settlement"' not in page
