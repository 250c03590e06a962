"""What-if: the deadlines a set of facts would produce, without starting a case."""

from __future__ import annotations

import datetime as dt

import httpx

from contracts.holidays import NewYorkGCL24
from tests.dates import a_monday_whose_ninetieth_day_is_a_sunday, at_ny_on, notice_days_ago

URL = "/api/contracts/ctr_reference_msa/what-if"


async def what_if_notice(api: httpx.AsyncClient, received_at: str, given_by: str) -> httpx.Response:
    """Asks what a termination notice received at ``received_at`` would set off."""
    facts = {"notice_received_at": received_at, "given_by": given_by}
    return await api.post(URL, json={"clause": "termination_for_convenience", "facts": facts})


async def test_what_if_gives_the_effective_date_with_its_explanation(
    api: httpx.AsyncClient,
) -> None:
    r = await what_if_notice(api, "2026-12-01T10:00:00-05:00", "customer")
    assert r.status_code == 200, r.text
    body = r.json()
    effective = next(d for d in body["deadlines"] if d["name"] == "effective_date")
    # The example, a fixed past notice (what-if takes any date, past or ahead):
    # received 1 Dec 2026 10:00 New York -> effective 1 Mar 2027.
    assert effective["last_day"] == "2027-03-01"
    assert any("NY GCL § 20" in line for line in effective["explanation"])
    assert body["state"] == "notice_period_running"
    # We (the Customer) gave the notice: ours is written, their acknowledgement expected.
    decisions = [(d["rule"], d["action"], d["value"]) for d in body["decisions"]]
    assert ("give_termination_notice", "send_notice", "termination_notice") in decisions
    assert ("acknowledge_termination_notice", "expect_notice", "acknowledgement") in decisions


def a_monday_a_year_ahead_whose_ninetieth_day_is_a_sunday() -> tuple[dt.date, dt.date]:
    """A Monday about a year from today, and the Monday § 25 makes its 90th day."""
    monday, _ = a_monday_whose_ninetieth_day_is_a_sunday()
    monday += dt.timedelta(weeks=52)  # still a Monday, so day 90 is still a Sunday
    while (carried := monday + dt.timedelta(days=91)) in NewYorkGCL24().holidays(carried.year):
        monday += dt.timedelta(weeks=1)
    return monday, carried


async def test_what_if_accepts_a_notice_not_yet_given(api: httpx.AsyncClient) -> None:
    monday, carried_to = a_monday_a_year_ahead_whose_ninetieth_day_is_a_sunday()
    r = await what_if_notice(api, at_ny_on(monday, 9).isoformat(), "provider")
    assert r.status_code == 200, r.text
    effective = next(d for d in r.json()["deadlines"] if d["name"] == "effective_date")
    # Day 90 after that Monday is a Sunday: NY GCL § 25 carries it to the Monday after.
    assert effective["last_day"] == carried_to.isoformat()


async def test_what_if_starts_nothing(api: httpx.AsyncClient) -> None:
    await what_if_notice(api, notice_days_ago(30), "customer")
    assert (await api.get("/api/cases")).json()["total"] == 0
    assert (await api.get("/api/outbox")).json()["total"] == 0


async def test_what_if_names_bad_fields(api: httpx.AsyncClient) -> None:
    r = await api.post(URL, json={"clause": "nope", "facts": {}})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "clause"
    r = await api.post(URL, json={"clause": "termination_for_convenience", "facts": {}})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["detail"]} == {
        "facts.notice_received_at",
        "facts.given_by",
    }
    r = await api.post(
        "/api/contracts/ctr_nope/what-if",
        json={"clause": "termination_for_convenience", "facts": {}},
    )
    assert r.status_code == 404


async def test_what_if_says_by_when_the_other_partys_notice_is_due_in_the_contracts_words(
    api: httpx.AsyncClient,
) -> None:
    # We (the Customer) give notice of a material breach: the Provider's cure is expected
    # by the end of the cure period's last day, and reads so, not as the next midnight.
    # A fixed notice, as the first test's: what-if counts from its facts, whatever today is.
    facts = {
        "breach_notice_received_at": "2026-12-01T10:00:00-05:00",
        "given_by": "customer",
        "breach_description": "the monthly reports were not delivered",
    }
    r = await api.post(URL, json={"clause": "material_breach", "facts": facts})
    assert r.status_code == 200, r.text
    body = r.json()
    cure = next(d for d in body["deadlines"] if d["name"] == "cure_period")
    expected = [n for n in body["we_expect"] if n["expected_by"] == "cure_period"]
    assert expected, body["we_expect"]
    assert cure["due_text"].startswith("end of ")
    assert {n["due_text"] for n in expected} == {cure["due_text"]}
