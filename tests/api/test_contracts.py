"""Registering contracts, with defaults from the reference MSA and errors that name the field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from workers.seed import reference_term_sheet


def term_sheet(**changes: Any) -> dict[str, Any]:
    body = {
        "title": "Messaging Platform Agreement",
        "customer": {"name": "Acme Retail Corp.", "notice_email": "legal@acme.example"},
        "provider": {"name": "Relay Cloud Inc.", "notice_email": "notices@relay.example"},
        "owner": {"name": "Priya Natarajan", "email": "priya@acme.example"},
        "effective_date": "2026-03-01",
        "fees": {"monthly_fee": "12000.00"},
    }
    body.update(changes)
    return body


async def test_a_term_sheet_takes_the_reference_msa_figures_by_default(
    api: httpx.AsyncClient,
) -> None:
    r = await api.post("/api/contracts", json=term_sheet())
    assert r.status_code == 201, r.text
    terms = r.json()["terms"]
    assert terms["time_zone"] == "America/New_York"
    assert terms["clauses"]["termination_for_convenience"]["notice_period_days"] == 90
    assert terms["clauses"]["termination_for_cause"]["cure_period_days"] == 30
    assert terms["clauses"]["payment"]["dispute_window_days"] == 10
    assert terms["clauses"]["surviving_sections"] == ["4", "6", "7", "9", "11"]

    got = await api.get(f"/api/contracts/{r.json()['id']}")
    assert got.status_code == 200 and got.json()["customer_name"] == "Acme Retail Corp."
    listed = await api.get("/api/contracts")
    assert {c["id"] for c in listed.json()["items"]} >= {r.json()["id"], "ctr_reference_msa"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"fees": {"monthly_fee": "-1.00"}}, "fees.monthly_fee"),
        (
            {"customer": {"name": "Acme", "notice_email": "not-an-email"}},
            "customer.notice_email",
        ),
        (
            {"clauses": {"termination_for_convenience": {"notice_period_days": 0}}},
            "clauses.termination_for_convenience.notice_period_days",
        ),
        ({"effective_date": "next tuesday"}, "effective_date"),
        ({"owner": None}, "owner"),
    ],
)
async def test_invalid_terms_get_a_422_that_names_the_field(
    api: httpx.AsyncClient, changes: dict[str, Any], field: str
) -> None:
    r = await api.post("/api/contracts", json=term_sheet(**changes))
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["detail"]]
    listed = await api.get("/api/contracts")
    assert listed.json()["total"] == 1  # only the reference MSA: nothing was stored


async def test_an_unknown_contract_is_a_404(api: httpx.AsyncClient) -> None:
    r = await api.get("/api/contracts/ctr_nope")
    assert r.status_code == 404 and "ctr_nope" in r.json()["detail"]


def test_the_reference_term_sheet_carries_the_msa_figures() -> None:
    terms = reference_term_sheet()
    assert terms.clauses.termination_for_convenience.notice_period_days == 90
    assert terms.clauses.termination_for_convenience.reminder_days_before == [60, 30, 7]
    assert terms.clauses.term.term_years == 3
    assert str(terms.clauses.payment.late_interest_percent_per_month) == "1"
    assert str(terms.clauses.service_levels.uptime_target_percent) == "99.9"
    assert terms.clauses.service_levels.maintenance_notice_hours == 72


async def test_business_hours_with_a_utc_offset_are_a_422_not_a_500(api: httpx.AsyncClient) -> None:
    r = await api.post("/api/contracts", json=term_sheet(business_hours={"end": "00:00:00Z"}))
    assert r.status_code == 422
    assert "business_hours.end" in [e["field"] for e in r.json()["detail"]]
