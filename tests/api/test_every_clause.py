"""Every clause starts over the REST API and answers what-if, with its deadlines explained."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from rules.rulebook import default_registry

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _ago(hours: float) -> str:
    return (NOW - dt.timedelta(hours=hours)).isoformat()


def _ahead(hours: float) -> str:
    return (NOW + dt.timedelta(hours=hours)).isoformat()


# The facts a contract manager would give to open each clause's case today.
START_FACTS: dict[str, Callable[[], dict[str, Any]]] = {
    "termination_for_convenience": lambda: {"notice_received_at": _ago(1), "given_by": "customer"},
    "material_breach": lambda: {
        "breach_notice_received_at": _ago(1),
        "given_by": "customer",
        "breach_description": "repeated failure to deliver the reporting under §5",
    },
    "acceptable_use_violation": lambda: {
        "violation_notice_received_at": _ago(1),
        "given_by": "provider",
        "violation_description": "unsolicited bulk messages sent from the Customer's account",
    },
    "indemnity_claim": lambda: {
        "claim_received_at": _ago(1),
        "claimant": "Third Party Telecom Ltd",
        "description": "patent infringement claim about the messaging service",
        "given_by": "customer",
    },
    "invoice_payment": lambda: {"invoice_received_at": _ago(1), "invoice_amount": "25000.00"},
    "data_transfer": lambda: {
        "requested_at": _ago(1),
        "destination": "Singapore",
        "purpose": "follow-the-sun support",
        "data_categories": "support tickets with contact details",
    },
    "scheduled_maintenance": lambda: {
        "window_starts_at": _ahead(120),
        "window_ends_at": _ahead(124),
        "description": "database upgrade",
    },
    "security_breach": lambda: {
        "discovered_at": _ago(1),
        "description": "credentials of a support engineer were phished",
    },
    "incident_response": lambda: {
        "reported_at": _ago(0.25),
        "severity": "high",
        "description": "message delivery delayed in the US region",
    },
    "monthly_sla_review": lambda: {"first_month": NOW.date().replace(day=1).isoformat()},
    "term_expiry": lambda: {"effective_date": "2026-01-01"},
}


def test_every_clause_has_start_facts_here() -> None:
    assert set(START_FACTS) == set(default_registry().clauses())


@pytest.mark.parametrize("clause", sorted(START_FACTS))
async def test_the_clause_starts_over_the_api_with_explained_deadlines(
    api: httpx.AsyncClient, clause: str
) -> None:
    facts = START_FACTS[clause]()
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
