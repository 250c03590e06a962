"""Starting cases meets the agreement as a whole: the first case of a contract starts the
contract's own workflow, and after the agreement has ended no case of a clause that
does not survive it (§10) can start: a 409 that says why."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlmodel import Session
from temporalio.client import Client

from store.db import get_engine
from store.models import Contract
from tests.dates import notice_days_ago
from tests.workflows.helpers import eventually
from workflows.messages import CONTRACT_WORKFLOW

CONTRACT = "ctr_reference_msa"
URL = f"/api/contracts/{CONTRACT}/cases"

INVOICE = {
    "clause": "invoice_payment",
    "facts": {"invoice_received_at": notice_days_ago(1), "invoice_amount": "25000.00"},
}
INDEMNITY = {
    "clause": "indemnity_claim",
    "facts": {
        "claim_received_at": notice_days_ago(1),
        "claimant": "Third Party Telecom Ltd",
        "description": "patent infringement claim about the messaging service",
        "given_by": "provider",
    },
}


def _contract() -> Contract:
    with Session(get_engine()) as s:
        row = s.get(Contract, CONTRACT)
        assert row is not None
        return row


def _ended(days_ago: int) -> None:
    with Session(get_engine()) as s:
        row = s.get(Contract, CONTRACT)
        assert row is not None
        row.legal_state, row.end_route = "ended", "convenience"
        row.ends_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)
        row.ended_by_case, row.agreement_step = "case_termination", 3
        s.add(row)
        s.commit()


async def test_the_first_case_of_a_contract_starts_the_contracts_own_workflow(
    api: httpx.AsyncClient, worker: Client
) -> None:
    assert _contract().legal_state is None
    r = await api.post(URL, json=INVOICE, headers={"Idempotency-Key": "first-case"})
    assert r.status_code == 201, r.text
    await eventually(lambda: _contract().legal_state == "in_force")
    described = await worker.get_workflow_handle(CONTRACT).describe()
    assert described.workflow_type == CONTRACT_WORKFLOW


async def test_after_the_end_a_clause_that_does_not_survive_it_cannot_start_a_case(
    api: httpx.AsyncClient, worker: Client
) -> None:
    _ended(days_ago=2)
    r = await api.post(URL, json=INVOICE, headers={"Idempotency-Key": "after-end"})
    assert r.status_code == 409, r.text
    why = r.json()["detail"]
    assert "the agreement has ended" in why and "terminated for convenience" in why
    assert "§3 does not survive" in why and "§4, §6, §7, §9, §11" in why
    # §4 survives the end: an indemnity claim still starts.
    r = await api.post(URL, json=INDEMNITY, headers={"Idempotency-Key": "indemnity-after-end"})
    assert r.status_code == 201, r.text
