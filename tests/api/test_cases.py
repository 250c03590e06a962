"""Starting and reading cases over the REST API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.case_start import case_id_for
from rules.rulebook import default_registry
from tests.api.helpers import withdrawal_agreed
from tests.dates import (
    a_monday_whose_ninetieth_day_is_a_sunday,
    at_ny_on,
    described,
    notice_days_ago,
)
from tests.workflows.helpers import eventually, notices

URL = "/api/contracts/ctr_reference_msa/cases"
#: A recent Monday's notice: its 90th day is a Sunday, carried to the Monday after.
MONDAY, EFFECTIVE = a_monday_whose_ninetieth_day_is_a_sunday()


def case_body(**facts: Any) -> dict[str, Any]:
    base = {"notice_received_at": at_ny_on(MONDAY, 10).isoformat(), "given_by": "provider"}
    base.update(facts)
    return {"clause": "termination_for_convenience", "facts": base}


async def test_starting_a_case_returns_201_with_its_state_and_deadlines(
    api: httpx.AsyncClient,
) -> None:
    r = await api.post(URL, json=case_body(), headers={"Idempotency-Key": "k-1"})
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["id"].startswith("case_")
    deadlines = {d["name"]: d for d in case["deadlines"]}
    # 90 days after a Monday is a Sunday; NY GCL § 25 carries it to the Monday after.
    assert deadlines["effective_date"]["last_day"] == EFFECTIVE.isoformat()
    assert any("Sunday" in line for line in deadlines["effective_date"]["explanation"])
    assert deadlines["effective_date"]["local_due"] == f"{described(EFFECTIVE)} 00:00 New York time"
    assert {"reminder_60", "reminder_30", "reminder_7"} <= set(deadlines)
    assert case["temporal_url"].endswith(f"/workflows/{case['id']}")


async def test_the_same_idempotency_key_returns_the_same_case_and_starts_nothing(
    api: httpx.AsyncClient, worker: Client
) -> None:
    first = await api.post(URL, json=case_body(), headers={"Idempotency-Key": "same"})
    second = await api.post(URL, json=case_body(), headers={"Idempotency-Key": "same"})
    assert first.status_code == 201 and second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == second.json()["id"]
    case_id = first.json()["id"]
    await eventually(lambda: notices(case_id))
    assert [n.notice for n in notices(case_id)] == ["acknowledgement"]
    # One workflow, one run: its history starts once.
    history = await worker.get_workflow_handle(case_id).fetch_history()
    started = [
        e for e in history.events if e.HasField("workflow_execution_started_event_attributes")
    ]
    assert len(started) == 1


async def test_reusing_a_key_for_a_different_request_is_a_409(api: httpx.AsyncClient) -> None:
    await api.post(URL, json=case_body(), headers={"Idempotency-Key": "reused"})
    r = await api.post(
        URL, json=case_body(given_by="customer"), headers={"Idempotency-Key": "reused"}
    )
    assert r.status_code == 409 and "Idempotency-Key" in r.json()["detail"]


async def test_a_case_needs_an_idempotency_key(api: httpx.AsyncClient) -> None:
    r = await api.post(URL, json=case_body())
    assert r.status_code == 422
    assert "Idempotency-Key" in [e["field"] for e in r.json()["detail"]] or any(
        "idempotency-key" in str(e["loc"]).lower() for e in r.json()["detail"]
    )


async def test_bad_starts_get_a_4xx_that_says_what_is_wrong_and_start_nothing(
    api: httpx.AsyncClient, worker: Client
) -> None:
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
    cases = [
        (URL, {"clause": "termination_for_fun", "facts": {}}, 422, "clause"),
        (
            URL,
            {"clause": "termination_for_convenience", "facts": {"given_by": "customer"}},
            422,
            "facts.notice_received_at",
        ),
        (URL, case_body(notice_received_at="yesterday-ish"), 422, "facts.notice_received_at"),
        (URL, case_body(given_by="the landlord"), 422, "facts.given_by"),
        (URL, case_body(notice_received_at=future), 422, "facts.notice_received_at"),
        (URL, case_body(colour="blue"), 422, "facts.colour"),
        ("/api/contracts/ctr_missing/cases", case_body(), 404, None),
    ]
    for i, (url, body, status, field) in enumerate(cases):
        r = await api.post(url, json=body, headers={"Idempotency-Key": f"bad-{i}"})
        assert r.status_code == status, (body, r.text)
        if field:
            assert field in [e["field"] for e in r.json()["detail"]], r.text
    for i in range(len(cases)):
        for contract in ("ctr_reference_msa", "ctr_missing"):
            handle = worker.get_workflow_handle(case_id_for(contract, f"bad-{i}"))
            with pytest.raises(RPCError) as info:
                await handle.describe()
            assert info.value.status == RPCStatusCode.NOT_FOUND
    listed = await api.get("/api/cases")
    assert listed.json()["total"] == 0


async def test_cases_are_listed_filtered_and_paginated(api: httpx.AsyncClient) -> None:
    ids = []
    for i in range(3):
        r = await api.post(
            URL,
            # A week apart, so each case has its own next deadline (no ties); the oldest
            # first, whose reminders are still ahead.
            json=case_body(notice_received_at=notice_days_ago(15 - 7 * i)),
            headers={"Idempotency-Key": f"list-{i}"},
        )
        ids.append(r.json()["id"])
    page = await api.get("/api/cases", params={"limit": 2})
    body = page.json()
    assert body["total"] == 3 and len(body["items"]) == 2
    # Sorted by the next deadline: the earliest notice has the earliest reminder.
    assert [c["id"] for c in body["items"]] == ids[:2]
    rest = await api.get("/api/cases", params={"limit": 2, "offset": 2})
    assert [c["id"] for c in rest.json()["items"]] == ids[2:]
    running = await api.get("/api/cases", params={"state": "notice_period_running"})
    assert running.json()["total"] == 3
    assert (await api.get("/api/cases", params={"state": "terminated"})).json()["total"] == 0
    assert (await api.get("/api/cases", params={"clause": "other"})).json()["total"] == 0
    assert (await api.get("/api/cases", params={"contract_id": "ctr_reference_msa"})).json()[
        "total"
    ] == 3


async def test_a_case_shows_its_timeline_and_the_outbox_holds_its_notice(
    api: httpx.AsyncClient,
) -> None:
    r = await api.post(URL, json=case_body(), headers={"Idempotency-Key": "timeline"})
    case_id = r.json()["id"]
    await eventually(lambda: notices(case_id))
    detail = (await api.get(f"/api/cases/{case_id}")).json()
    kinds = [e["kind"] for e in detail["timeline"]]
    assert kinds[:2] == ["decision", "decision"] and "transition" in kinds and "notice" in kinds
    decision = next(e for e in detail["timeline"] if e["kind"] == "decision")
    assert decision["details"]["rule"] == "acknowledge_termination_notice"
    latest = default_registry().latest("termination_for_convenience").version
    assert decision["details"]["rulebook_version"] == latest
    assert decision["details"]["facts"]["event"] == "case_started"

    outbox = (await api.get("/api/outbox")).json()
    assert outbox["total"] == 1
    notice_id = outbox["items"][0]["id"]
    full = (await api.get(f"/api/notices/{notice_id}")).json()
    # The Provider gave notice: the acknowledgement goes back to the Provider.
    assert full["to"] == ["notices@provider.example.com", "legal@provider.example.com"]
    assert described(EFFECTIVE) in full["body_text"]
    html = await api.get(f"/api/notices/{notice_id}/html")
    assert html.headers["content-type"].startswith("text/html") and "<strong>" in html.text


async def test_recording_a_withdrawal_over_the_api_ends_the_case(api: httpx.AsyncClient) -> None:
    r = await api.post(URL, json=case_body(), headers={"Idempotency-Key": "withdraw"})
    case_id = r.json()["id"]
    bad = await api.post(
        f"/api/cases/{case_id}/facts",
        json={
            "fact": "withdrawal_agreed",
            "values": {"customer_signatory": "A"},
            "recorded_by": "ops",
        },
    )
    assert bad.status_code == 422
    assert "values.provider_signatory" in [e["field"] for e in bad.json()["detail"]]

    ok = await api.post(
        f"/api/cases/{case_id}/facts",
        json=withdrawal_agreed(
            "priya@customer.example.com", reason="both sides signed the withdrawal letter"
        ),
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["state"] == "withdrawn" and ok.json()["closed"] is True
    audit = [e["summary"] for e in ok.json()["timeline"] if e["kind"] == "audit"]
    assert any("priya@customer.example.com" in summary for summary in audit), audit
    # What the contract made of the notice shows on the case too.
    assert any("agreement terminating" in summary for summary in audit), audit
    again = await api.post(
        f"/api/cases/{case_id}/facts",
        json={"fact": "withdrawal_agreed", "values": {}, "recorded_by": "ops"},
    )
    assert again.status_code == 409


async def test_unknown_case_and_notice_are_404s(api: httpx.AsyncClient) -> None:
    assert (await api.get("/api/cases/case_nope")).status_code == 404
    assert (await api.get("/api/notices/ntc_nope")).status_code == 404
    r = await api.post(
        "/api/cases/case_nope/facts", json={"fact": "x", "values": {}, "recorded_by": "me"}
    )
    assert r.status_code == 404


async def test_clauses_lists_the_facts_each_clause_needs(api: httpx.AsyncClient) -> None:
    clauses = (await api.get("/api/clauses")).json()
    tfc = next(c for c in clauses if c["clause"] == "termination_for_convenience")
    assert tfc["facts"]["notice_received_at"]["required"] is True
    assert "withdrawal_agreed" in tfc["recordable_facts"]


async def test_openapi_docs_are_served(api: httpx.AsyncClient) -> None:
    assert (await api.get("/docs")).status_code == 200
    schema = (await api.get("/openapi.json")).json()
    assert "/api/contracts/{contract_id}/cases" in schema["paths"]
