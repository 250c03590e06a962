"""Cases that start with the contract: registration opens them, /standing-cases opens any
that are missing, and a later start answers with the case already running."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from api import standing_cases
from rules.rulebook import Rulebook
from tests.api.test_contracts import term_sheet


async def test_registration_names_each_case_that_started_with_the_contract(
    api: httpx.AsyncClient,
) -> None:
    body = (await api.post("/api/contracts", json=term_sheet())).json()
    # The contract's recurring clocks: its monthly review and its term (term expiry v5).
    ids = body["standing_case_ids"]
    assert sorted(ids) == ["monthly_sla_review", "term_expiry"]
    assert ids["monthly_sla_review"] == body["monthly_sla_review_case_id"]
    term = (await api.get(f"/api/cases/{ids['term_expiry']}")).json()
    assert term["facts"]["effective_date"] == term_sheet()["effective_date"]
    again = await api.post(f"/api/contracts/{body['id']}/standing-cases")
    assert again.status_code == 200, again.text
    assert again.json() == {"standing_case_ids": body["standing_case_ids"], "warnings": []}


async def test_a_start_in_a_later_month_answers_with_the_running_case(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = (await api.post("/api/contracts", json=term_sheet())).json()
    later = dt.date.today() + dt.timedelta(days=40)  # another month: other start facts
    monkeypatch.setattr(standing_cases, "_today", lambda zone: later)
    r = await api.post(f"/api/contracts/{body['id']}/sla-review")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == body["monthly_sla_review_case_id"]
    cases = (await api.get(f"/api/cases?contract_id={body['id']}")).json()["items"]
    assert sorted(c["clause"] for c in cases) == ["monthly_sla_review", "term_expiry"]


async def test_standing_cases_of_an_unknown_contract_are_a_404(api: httpx.AsyncClient) -> None:
    r = await api.post("/api/contracts/ctr_nobody/standing-cases")
    assert r.status_code == 404 and "ctr_nobody" in r.json()["detail"]


async def test_clauses_show_their_figures_and_which_start_with_the_contract(
    api: httpx.AsyncClient,
) -> None:
    clauses = {c["clause"]: c for c in (await api.get("/api/clauses")).json()}
    payment = clauses["invoice_payment"]["figures"]["payment_days"]
    assert payment == {
        "term": "clauses.payment.payment_days",
        "type": "days",
        "default": 30,
        "section": "3",
        "label": "Days from receipt of a correct and undisputed invoice in which it is to be paid",
    }
    assert clauses["invoice_payment"]["figures"]["unpaid_termination_days"]["section"] == "10"
    assert clauses["sla_audit"]["figures"]["audit_notice_business_days"]["default"] == 10
    standing = sorted(c for c, info in clauses.items() if info["starts_with_contract"])
    assert standing == ["monthly_sla_review", "term_expiry"]


async def test_a_standing_case_whose_facts_do_not_fit_is_a_warning_not_a_lost_contract(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # first_month must be the first of a month: a mid-month date cannot start the review.
    mid_month = (dt.date.today() + dt.timedelta(days=40)).replace(day=15).isoformat()
    given = Rulebook.facts_at_registration
    monkeypatch.setattr(
        Rulebook,
        "facts_at_registration",
        lambda self, effective, today: (
            {"first_month": mid_month}
            if self.clause == "monthly_sla_review"
            else given(self, effective, today)
        ),
    )
    r = await api.post("/api/contracts", json=term_sheet())
    assert r.status_code == 201, r.text
    body = r.json()
    assert list(body["standing_case_ids"]) == ["term_expiry"]
    assert body["monthly_sla_review_case_id"] is None
    (warning,) = body["warnings"]
    assert "the case cannot start" in warning and "first_month" in warning
    assert (await api.get(f"/api/contracts/{body['id']}")).status_code == 200
