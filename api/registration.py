"""Registering a contract (``POST /api/contracts`` and the console's form): the contract
stored from its term sheet, then the cases that start with it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Request
from sqlmodel import Session

from api.access import Principal
from api.deps import get_temporal, in_session
from api.schemas import ContractPublic, ContractRegistered
from api.standing_cases import standing_case_recording, start_standing_cases
from contracts.terms import TermSheet
from runtime.settings import Settings
from store.contracts import create_contract
from store.models import Contract

#: What a registration stores with the contract, in its transaction (the provenance of
#: a term sheet accepted from an agreement's text); it may raise to store nothing.
AlsoStore = Callable[[Session, Contract], None]


async def register(
    principal: Principal,
    terms: TermSheet,
    request: Request,
    settings: Settings,
    *,
    also: AlsoStore | None = None,
) -> ContractRegistered:
    """Stores the contract (audited as ``contract_registered``) and what ``also`` adds,
    then starts every case whose rulebook says ``starts_with_contract``; one that cannot
    start is a warning."""
    contract = await in_session(_store, terms, principal.name, also)
    opened: dict[str, Any] = {}
    try:
        # Connected here, not as a dependency: the contract is stored even if Temporal is down.
        client = await get_temporal(request)
        opened, warnings = await start_standing_cases(client, settings, contract.id)
    except HTTPException as exc:
        warnings = [f"the cases that start with the contract did not start: {exc.detail}"]
    ids = {clause: o.case_id for clause, o in opened.items()}
    return ContractRegistered(
        **ContractPublic.model_validate(contract).model_dump(),
        monthly_sla_review_case_id=ids.get(_review_clause()),
        standing_case_ids=ids,
        warnings=warnings,
    )


def _review_clause() -> str:
    """The monthly SLA review: the case that starts with the contract and records downtime."""
    return standing_case_recording("downtime_recorded").clause


def _store(session: Session, terms: TermSheet, actor: str, also: AlsoStore | None) -> Contract:
    contract = create_contract(session, terms, actor=actor)
    if also is not None:
        also(session, contract)
    session.commit()
    return contract
