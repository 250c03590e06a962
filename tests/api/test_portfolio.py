"""The portfolio: GET /api/contracts lists each contract with where its agreement stands
and what its open cases need, filtered by those, in a fixed number of statements."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlmodel import Session

from store.contracts import create_contract
from store.db import get_engine
from tests.api.helpers import NOW, SENDGRID_DOWN, a_case, seed
from tests.api.test_constant_queries import count_get
from workers.seed import reference_term_sheet

URL = "/api/contracts"


def _contract(contract_id: str, legal_state: str | None = None) -> None:
    terms = reference_term_sheet().model_copy(update={"title": f"MSA {contract_id}"})
    with Session(get_engine()) as s:
        row = create_contract(s, terms, actor="test", contract_id=contract_id)
        row.legal_state = legal_state
        s.add(row)
        s.commit()


def _portfolio() -> None:
    """The reference contract (no workflow yet) with an escalated and a stuck case, and
    one closed; a terminating contract with one quiet case; an ended one with none."""
    _contract("ctr_terminating", "terminating")
    _contract("ctr_ended", "ended")
    seed(
        a_case("case_quiet", next_deadline_at=NOW + dt.timedelta(days=40)),
        a_case("case_stuck", next_deadline_at=NOW + dt.timedelta(days=3), **SENDGRID_DOWN),
        a_case(
            "case_escalated",
            escalated=True,
            next_deadline_at=NOW + dt.timedelta(hours=5),
        ),
        a_case("case_closed", closed=True, next_deadline_at=None),
        a_case(
            "case_elsewhere",
            contract_id="ctr_terminating",
            next_deadline_at=NOW + dt.timedelta(days=9),
        ),
    )


def _by_id(r: httpx.Response) -> dict[str, dict]:
    assert r.status_code == 200, r.text
    return {c["id"]: c for c in r.json()["items"]}


async def test_each_contract_says_where_it_stands_and_what_its_open_cases_need(
    api: httpx.AsyncClient,
) -> None:
    _portfolio()
    found = _by_id(await api.get(URL))
    reference = found["ctr_reference_msa"]
    assert (reference["legal_state"], reference["open_cases"]) == (None, 3)
    assert (reference["escalated_cases"], reference["stuck_cases"]) == (1, 1)
    nearest = dt.datetime.fromisoformat(reference["next_deadline_at"])
    assert abs(nearest - (NOW + dt.timedelta(hours=5))) < dt.timedelta(seconds=1)
    other = found["ctr_terminating"]
    assert (other["legal_state"], other["open_cases"], other["escalated_cases"]) == (
        "terminating",
        1,
        0,
    )
    ended = found["ctr_ended"]
    assert (ended["open_cases"], ended["next_deadline_at"]) == (0, None)


async def test_the_portfolio_filters_by_legal_state_and_by_what_needs_a_person(
    api: httpx.AsyncClient,
) -> None:
    _portfolio()
    # Without its workflow yet, a contract counts as in force.
    assert set(_by_id(await api.get(URL, params={"legal_state": "in_force"}))) == {
        "ctr_reference_msa"
    }
    assert set(_by_id(await api.get(URL, params={"legal_state": "ended"}))) == {"ctr_ended"}
    assert set(_by_id(await api.get(URL, params={"escalated": "true"}))) == {"ctr_reference_msa"}
    assert set(_by_id(await api.get(URL, params={"stuck": "true"}))) == {"ctr_reference_msa"}
    assert set(_by_id(await api.get(URL, params={"stuck": "false"}))) == {
        "ctr_terminating",
        "ctr_ended",
    }
    bad = await api.get(URL, params={"legal_state": "dissolved"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "query.legal_state"


async def test_a_page_costs_the_same_statements_however_many_contracts_it_holds(
    api: httpx.AsyncClient,
) -> None:
    _portfolio()
    for n in range(12):
        _contract(f"ctr_more_{n:02d}")
    few = await count_get(api, f"{URL}?limit=2")
    many = await count_get(api, f"{URL}?limit=15")
    assert few == many
