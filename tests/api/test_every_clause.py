"""Every clause starts over the REST API and answers what-if, with its deadlines explained."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from rules.rulebook import default_registry
from rules.scenarios import load_scenarios, scenarios_path
from workers.seed import reference_term_sheet

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def start_facts(clause: str) -> dict[str, object]:
    """The facts a contract manager would give to open the clause's case today: its
    scenarios' ``start`` (rules/clauses/<clause>/scenarios.yaml), dated from NOW."""
    scenarios = load_scenarios(scenarios_path(clause))
    return scenarios.start_facts(now=NOW, time_zone=reference_term_sheet().time_zone)


def test_every_clause_has_start_facts_here() -> None:
    assert all(start_facts(clause) for clause in default_registry().clauses())


@pytest.mark.parametrize("clause", default_registry().clauses())
async def test_the_clause_starts_over_the_api_with_explained_deadlines(
    api: httpx.AsyncClient, clause: str
) -> None:
    facts = start_facts(clause)
    r = await api.post(
        "/api/contracts/ctr_reference_msa/cases",
        json={"clause": clause, "facts": facts},
        headers={"Idempotency-Key": f"every-clause-{clause}"},
    )
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["clause"] == clause and case["state"] != "opened"
    assert case["deadlines"], f"{clause} set no deadline"
    for d in case["deadlines"]:
        assert len(d["explanation"]) >= 3, (clause, d)
        assert d["local_due"].endswith("New York time")

    what_if = await api.post(
        "/api/contracts/ctr_reference_msa/what-if", json={"clause": clause, "facts": facts}
    )
    assert what_if.status_code == 200, what_if.text
    planned = {d["name"]: d["explanation"] for d in what_if.json()["deadlines"]}
    started = {d["name"]: d["explanation"] for d in case["deadlines"]}
    # What-if predicts exactly what the real case set.
    assert planned == started
