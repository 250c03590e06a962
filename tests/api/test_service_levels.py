"""Every registered contract gets its monthly SLA review; downtime is recorded into it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import httpx

from tests.api.test_contracts import term_sheet


async def test_registering_a_contract_starts_its_monthly_review(api: httpx.AsyncClient) -> None:
    r = await api.post("/api/contracts", json=term_sheet())
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["warnings"] == []
    case = (await api.get(f"/api/cases/{body['monthly_sla_review_case_id']}")).json()
    assert case["clause"] == "monthly_sla_review" and case["state"] == "monitoring"
    month_end = next(d for d in case["deadlines"] if d["name"] == "month_end")
    today = dt.datetime.now(ZoneInfo("America/New_York")).date()  # the contract's today
    assert month_end["local_due"].endswith("00:00 New York time")
    assert dt.date.fromisoformat(month_end["last_day"]).day == 1
    assert dt.date.fromisoformat(month_end["last_day"]) > today

    again = await api.post(f"/api/contracts/{body['id']}/sla-review")
    assert again.status_code == 200 and again.json()["id"] == case["id"]


async def test_downtime_and_maintenance_windows_are_recorded_in_the_review(
    api: httpx.AsyncClient,
) -> None:
    contract = (await api.post("/api/contracts", json=term_sheet())).json()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    down = await api.post(
        f"/api/contracts/{contract['id']}/downtime",
        json={
            "started_at": (now - dt.timedelta(hours=3)).isoformat(),
            "ended_at": (now - dt.timedelta(hours=2)).isoformat(),
            "description": "carrier outage",
            "recorded_by": "noc@acme.example",
        },
    )
    assert down.status_code == 200, down.text
    window = await api.post(
        f"/api/contracts/{contract['id']}/maintenance-windows",
        json={
            "starts_at": (now + dt.timedelta(days=5)).isoformat(),
            "ends_at": (now + dt.timedelta(days=5, hours=2)).isoformat(),
            "notice_given_at": (now - dt.timedelta(minutes=5)).isoformat(),
            "recorded_by": "noc@acme.example",
        },
    )
    assert window.status_code == 200, window.text
    audit = [e for e in window.json()["timeline"] if e["kind"] == "audit"]
    assert [a["details"]["after"]["event"].split(":")[1] for a in audit] == [
        "downtime_recorded",
        "maintenance_window_recorded",
    ]
    # The month's running figure already counts the outage.
    assert window.json()["facts"]["uptime_percent"] != "100.0000"


async def test_downtime_in_the_future_is_refused_with_the_field(api: httpx.AsyncClient) -> None:
    contract = (await api.post("/api/contracts", json=term_sheet())).json()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    r = await api.post(
        f"/api/contracts/{contract['id']}/downtime",
        json={
            "started_at": later.isoformat(),
            "ended_at": (later + dt.timedelta(hours=1)).isoformat(),
            "recorded_by": "noc@acme.example",
        },
    )
    assert r.status_code == 422
    assert "values.started_at" in [e["field"] for e in r.json()["detail"]]


async def test_recording_downtime_without_a_review_says_how_to_start_one(
    api: httpx.AsyncClient,
) -> None:
    # The reference contract in these tests was seeded straight into the store.
    r = await api.post(
        "/api/contracts/ctr_reference_msa/downtime",
        json={
            "started_at": "2026-01-05T10:00:00Z",
            "ended_at": "2026-01-05T11:00:00Z",
            "recorded_by": "noc@acme.example",
        },
    )
    assert r.status_code == 404 and "sla-review" in r.json()["detail"]
