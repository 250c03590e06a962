"""What-if: the deadlines a set of facts would produce, without starting a case."""

from __future__ import annotations

import httpx

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
    # The example: received 1 Dec 2026 10:00 New York -> effective 1 Mar 2027.
    assert effective["last_day"] == "2027-03-01"
    assert any("NY GCL § 20" in line for line in effective["explanation"])
    assert body["state"] == "notice_period_running"
    assert ("acknowledge_termination_notice", "send_notice") in {
        (d["rule"], d["action"]) for d in body["decisions"]
    }


async def test_what_if_accepts_a_notice_not_yet_given(api: httpx.AsyncClient) -> None:
    r = await what_if_notice(api, "2030-12-02T09:00:00", "provider")
    assert r.status_code == 200, r.text
    effective = next(d for d in r.json()["deadlines"] if d["name"] == "effective_date")
    # Day 90 after Mon 2 Dec 2030 is Sun 2 Mar 2031: NY GCL § 25 carries it to Mon 3 Mar.
    assert effective["last_day"] == "2031-03-03"


async def test_what_if_starts_nothing(api: httpx.AsyncClient) -> None:
    await what_if_notice(api, "2026-11-02T10:00:00-05:00", "customer")
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
