"""POST /api/contracts/proposals: a term sheet proposed from an agreement's text, each
figure with its sentence; bad input is a 422 naming the field; nothing is stored."""

from __future__ import annotations

import httpx
from sqlmodel import Session, func, select

from store.db import get_engine
from store.models import Contract
from tests.conftest import shared_path

URL = "/api/contracts/proposals"


def _contracts() -> int:
    with Session(get_engine()) as s:
        return s.exec(select(func.count()).select_from(Contract)).one()


async def test_the_reference_msa_is_proposed_with_each_figures_sentence(
    api: httpx.AsyncClient,
) -> None:
    before = _contracts()
    text = shared_path("MSA.txt").read_text()
    r = await api.post(URL, json={"text": text})
    assert r.status_code == 200, r.text
    body = r.json()
    notice = next(
        f
        for f in body["figures"]
        if f["path"] == "clauses.termination_for_convenience.notice_period_days"
    )
    assert (notice["value"], notice["part"], notice["written"]) == (90, "§10", "ninety (90) days")
    assert text[notice["sentence_start"] : notice["sentence_end"]] == notice["sentence"]
    assert {m["path"] for m in body["missing"]} >= {"clauses.security_breach.notify_within_hours"}
    assert body["governing_law"]["value"] == "State of New York"
    assert "effective date" in body["not_read"]
    assert _contracts() == before  # a proposal registers nothing


async def test_an_empty_text_is_refused_naming_the_field(api: httpx.AsyncClient) -> None:
    r = await api.post(URL, json={"text": ""})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "text"
    r = await api.post(URL, json={"text": "x", "extra": 1})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "extra"


async def test_the_proposal_names_where_it_departs_from_your_standard(
    api: httpx.AsyncClient,
) -> None:
    text = (
        shared_path("MSA.txt")
        .read_text()
        .replace("for convenience upon ninety (90) days'", "for convenience upon sixty (60) days'")
    )
    body = (await api.post(URL, json={"text": text})).json()
    assert [d["text"] for d in body["deviations"]] == [
        "Days of prior written notice before a termination for convenience takes effect: 60 "
        "(your standard: 90), §10"
    ]
    # Your own standard: a registered contract's term sheet.
    same = await api.post(URL, json={"text": text, "standard": "ctr_reference_msa"})
    assert same.status_code == 200 and len(same.json()["deviations"]) == 1
    r = await api.post(URL, json={"text": text, "standard": "ctr_nobody"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "standard"
