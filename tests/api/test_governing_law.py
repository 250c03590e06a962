"""Registering a contract under its governing law: a law Clauseflow has no calendar for is
refused with the field named and how to choose one; a Delaware contract counts its days
on Delaware's public holidays and says so in every explanation."""

from __future__ import annotations

from typing import Any

import httpx

from contracts.holidays import HOLIDAYS_PACKAGE_VERSION
from tests.api.test_contracts import term_sheet

# Day 30 after Wed 4 Mar 2026 is Good Friday, a Delaware holiday and no New York one. A
# fixed day on purpose, and safe on any later day: what-if counts from the facts it is
# given, past or future, and reads no clock for the deadlines (rules/what_if.py).
BREACH = {
    "breach_notice_received_at": "2026-03-04T10:00:00-05:00",
    "given_by": "customer",
    "breach_description": "repeated failure to deliver the reporting under §5",
}


async def _cure_period(api: httpx.AsyncClient, contract_id: str) -> dict[str, Any]:
    r = await api.post(
        f"/api/contracts/{contract_id}/what-if",
        json={"clause": "material_breach", "facts": BREACH},
    )
    assert r.status_code == 200, r.text
    return {d["name"]: d for d in r.json()["deadlines"]}


async def test_a_law_without_a_calendar_is_refused_with_the_field_named(
    api: httpx.AsyncClient,
) -> None:
    r = await api.post("/api/contracts", json=term_sheet(governing_law="State of Texas"))
    assert r.status_code == 422, r.text
    [error] = [e for e in r.json()["detail"] if e["field"] == "governing_law"]
    assert error["loc"] == ["body", "governing_law"]
    for how in ("State of Texas", "State of Delaware", "England and Wales", "holiday_calendar"):
        assert how in error["msg"]
    listed = await api.get("/api/contracts")
    assert listed.json()["total"] == 1  # only the reference MSA: nothing was stored


async def test_a_refused_law_is_listed_with_the_bodys_other_faults(
    api: httpx.AsyncClient,
) -> None:
    body = term_sheet(governing_law="Ruritania", time_zone="Mars/Olympus_Mons")
    r = await api.post("/api/contracts", json=body)
    assert r.status_code == 422
    assert {"governing_law", "time_zone"} <= {e["field"] for e in r.json()["detail"]}


async def test_a_delaware_contract_counts_on_delawares_holidays_and_says_so(
    api: httpx.AsyncClient,
) -> None:
    r = await api.post("/api/contracts", json=term_sheet(governing_law="State of Delaware"))
    assert r.status_code == 201, r.text
    terms = r.json()["terms"]
    assert terms["holiday_calendar"] == "US-DE"
    assert terms["day_count"] == {"event_day": "excluded", "roll": "forward"}

    deadlines = await _cure_period(api, r.json()["id"])
    cure = deadlines["cure_period"]
    assert cure["last_day"] == "2026-04-06"  # Good Friday and the weekend after it
    assert (
        "Days are counted as the term sheet states for a contract governed by the law of the"
        " State of Delaware"
    ) in cure["explanation"][2]
    assert f"holidays package {HOLIDAYS_PACKAGE_VERSION}" in cure["explanation"][2]
    assert any(
        "Good Friday (public holiday of the State of Delaware" in s for s in cure["explanation"]
    )
    # Every deadline names the convention, the reminders' too.
    assert all(
        d["explanation"][2].startswith("Days are counted as the term sheet states")
        for d in deadlines.values()
    )

    # The reference MSA, under New York law, counts the same notice to Good Friday.
    reference = await _cure_period(api, "ctr_reference_msa")
    assert reference["cure_period"]["last_day"] == "2026-04-03"
    assert not any("term sheet states" in s for s in reference["cure_period"]["explanation"])


async def test_a_law_without_a_calendar_registers_with_the_calendar_it_names(
    api: httpx.AsyncClient,
) -> None:
    body = term_sheet(
        governing_law="State of Texas", holiday_calendar="US-DE", day_count={"roll": "backward"}
    )
    r = await api.post("/api/contracts", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["terms"]["day_count"] == {"event_day": "excluded", "roll": "backward"}
    cure = (await _cure_period(api, r.json()["id"]))["cure_period"]
    assert cure["last_day"] == "2026-04-02"  # back from Good Friday
    assert "(holiday_calendar US-DE)" in cure["explanation"][2]


async def test_new_york_law_takes_no_day_count(api: httpx.AsyncClient) -> None:
    r = await api.post("/api/contracts", json=term_sheet(day_count={"roll": "none"}))
    assert r.status_code == 422
    assert "day_count" in [e["field"] for e in r.json()["detail"]]
