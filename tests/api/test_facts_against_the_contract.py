"""The inputs the product once accepted or answered with a 500: each gets a 422 that names
the field and says why, and starts nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.case_start import case_id_for
from tests.dates import notice_days_ago, ny_today
from tests.workflows.helpers import case_row, eventually, notices
from workers.seed import reference_term_sheet

CASES = "/api/contracts/ctr_reference_msa/cases"
WHAT_IF = "/api/contracts/ctr_reference_msa/what-if"
EFFECTIVE = reference_term_sheet().effective_date


def termination(received: str) -> dict[str, Any]:
    return {
        "clause": "termination_for_convenience",
        "facts": {"notice_received_at": received, "given_by": "provider"},
    }


def invoice(amount: str) -> dict[str, Any]:
    return {
        "clause": "invoice_payment",
        "facts": {
            "invoice_received_at": notice_days_ago(2),
            "invoice_number": "INV-1",
            "invoice_amount": amount,
        },
    }


def fields(r: httpx.Response) -> dict[str, str]:
    assert r.status_code == 422, r.text
    return {e["field"]: e["msg"] for e in r.json()["detail"]}


async def started_nothing(worker: Client, key: str) -> None:
    with pytest.raises(RPCError) as info:
        await worker.get_workflow_handle(case_id_for("ctr_reference_msa", key)).describe()
    assert info.value.status == RPCStatusCode.NOT_FOUND


async def test_a_notice_dated_before_the_contract_took_effect_is_refused(
    api: httpx.AsyncClient, worker: Client
) -> None:
    before = dt.datetime.combine(EFFECTIVE - dt.timedelta(days=214), dt.time(10))
    r = await api.post(
        CASES, json=termination(before.isoformat()), headers={"Idempotency-Key": "early"}
    )
    assert fields(r) == {
        "facts.notice_received_at": "is before the contract's effective date (Thu 1 Jan 2026)"
    }
    await started_nothing(worker, "early")


@pytest.mark.parametrize("received", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
async def test_an_impossible_date_is_refused_at_once_and_starts_nothing(
    api: httpx.AsyncClient, worker: Client, received: str
) -> None:
    r = await api.post(CASES, json=termination(received), headers={"Idempotency-Key": received})
    assert fields(r) == {"facts.notice_received_at": "must be between 1970-01-01 and 2200-12-31"}
    await started_nothing(worker, received)
    assert (await api.get("/api/ops/summary")).json()["open_cases"] == 0


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-100.00", "must not be negative"),
        ("1e400", "must be at most 999999999999.99"),
        ("100.005", "must have at most 2 decimal places"),
    ],
)
async def test_an_invoice_amount_out_of_bounds_is_refused_not_clamped(
    api: httpx.AsyncClient, worker: Client, amount: str, message: str
) -> None:
    r = await api.post(CASES, json=invoice(amount), headers={"Idempotency-Key": amount})
    assert fields(r) == {"facts.invoice_amount": message}
    await started_nothing(worker, amount)


@pytest.mark.parametrize("received", ["0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z"])
async def test_the_what_if_refuses_impossible_dates_with_a_422(
    api: httpx.AsyncClient, received: str
) -> None:
    r = await api.post(WHAT_IF, json=termination(received))
    assert fields(r) == {"facts.notice_received_at": "must be between 1970-01-01 and 2200-12-31"}


async def test_a_contract_cannot_take_effect_in_year_one(api: httpx.AsyncClient) -> None:
    body = {
        "customer": {"name": "Acme Retail Corp.", "notice_email": "legal@acme.example"},
        "provider": {"name": "Relay Cloud Inc.", "notice_email": "notices@relay.example"},
        "owner": {"name": "Priya Natarajan", "email": "priya@acme.example"},
        "effective_date": "0001-01-01",
        "fees": {"monthly_fee": "12000.00"},
    }
    r = await api.post("/api/contracts", json=body)
    assert r.status_code == 422, r.text
    [error] = [e for e in r.json()["detail"] if e["field"] == "effective_date"]
    assert "between 1970-01-01 and 2200-12-31" in error["msg"]


async def test_a_withdrawal_agreed_before_its_notice_is_refused(api: httpx.AsyncClient) -> None:
    received = notice_days_ago(5)
    r = await api.post(CASES, json=termination(received), headers={"Idempotency-Key": "w"})
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    before = (ny_today() - dt.timedelta(days=6)).isoformat()
    r = await api.post(
        f"/api/cases/{case_id}/facts",
        json={
            "fact": "withdrawal_agreed",
            "values": {"customer_signatory": "A", "provider_signatory": "B", "agreed_on": before},
            "recorded_by": "ops",
        },
    )
    [(field, message)] = fields(r).items()
    assert field == "values.agreed_on"
    assert message.startswith("is before the fact that opened the case (When the termination")
    detail = (await api.get(f"/api/cases/{case_id}")).json()
    assert detail["state"] == "notice_period_running"


async def test_a_notice_told_late_is_held_and_the_case_page_says_so(
    api: httpx.AsyncClient,
) -> None:
    r = await api.post(
        CASES, json=termination(notice_days_ago(100)), headers={"Idempotency-Key": "late"}
    )
    assert r.status_code in (201, 202), r.text
    case_id = r.json()["id"]
    # Since v3 our acknowledgement is held, and the effective date's report (our own) skipped.
    held = await eventually(
        lambda: (
            [n.notice for n in notices(case_id) if n.status == "awaiting_approval"]
            == ["acknowledgement"]
            and (row := case_row(case_id)) is not None
            and row.state == "terminated"
        )
    )
    assert held
    detail = (await api.get(f"/api/cases/{case_id}")).json()
    assert {d["name"]: d["status"] for d in detail["deadlines"]}["reminder_60"] == "skipped"
    caught_up = [e for e in detail["timeline"] if "catch_up" in str(e.get("details"))]
    assert caught_up, detail["timeline"]
    text = " ".join(str(e) for e in caught_up)
    assert "had passed when the case learned of it" in text
