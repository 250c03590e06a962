"""Contracts: register a term sheet, list and read contracts."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query
from sqlmodel import col

from api.deps import SessionDep
from api.pagination import page
from api.schemas import ContractPublic, ContractsPublic
from contracts.terms import TermSheet
from store.contracts import create_contract
from store.models import Contract

router = APIRouter(prefix="/api/contracts", tags=["contracts"])


@router.post("", status_code=201, response_model=ContractPublic)
def register_contract(terms: TermSheet, session: SessionDep) -> Contract:
    """Registers a contract from its term sheet.

    Clause figures that are left out take the reference MSA's values (90 days'
    notice, 30-day cure, 10-day dispute window, ...).
    """
    contract = create_contract(session, terms, actor="api")
    session.commit()
    return contract


@router.get("", response_model=ContractsPublic)
def list_contracts(
    session: SessionDep,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> ContractsPublic:
    """Lists contracts, newest first."""
    rows, total = page(
        session, Contract, [], [col(Contract.created_at).desc(), col(Contract.id)], limit, offset
    )
    return ContractsPublic(
        items=[ContractPublic.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{contract_id}", response_model=ContractPublic)
def get_contract(contract_id: str, session: SessionDep) -> Contract:
    """One contract with its term sheet."""
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise HTTPException(404, f"contract {contract_id!r} not found")
    return contract
