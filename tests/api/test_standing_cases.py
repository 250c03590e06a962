"""Cases that start with the contract: registration opens them, /standing-cases opens any
that are missing, and a later start answers with the case already running."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from api import standing_cases
from tests.api.test_contracts import term_sheet


async def test_registration_names_each_case_that_started_with_the_contract(
    api: httpx.AsyncClient,
) -> None:
    body = (await api.post("/api/contracts", json=term_sheet())).json()
    assert body["standing_case_ids"] == {"monthly_sla_review": body["monthly_sla_review_case_id"]}
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
    assert [c["clause"] for c in cases] == ["monthly_sla_review"]


async def test_standing_cases_of_an_unknown_contract_are_a_404(api: httpx.AsyncClient) -> None:
    r = await api.post("/api/contracts/ctr_nobody/standing-cases")
    assert r.status_code == 404 and "ctr_nobody" in r.json()["detail"]
