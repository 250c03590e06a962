"""Contracts: register a term sheet, list and read contracts, start their standing
cases, and ask what-if."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Request, Response
from sqlmodel import Session

from api.access import Manager, Reader
from api.deps import SessionDep, SettingsDep, TemporalDep, in_session
from api.pagination import Limit, Offset
from api.portfolio import ContractFilters, LegalState, contracts_page
from api.registration import register
from api.schemas import (
    CaseDetail,
    ContractListItem,
    ContractPublic,
    ContractRegistered,
    ContractsPublic,
    StandingCases,
)
from api.standing_cases import (
    standing_case_recording,
    start_standing_case,
    start_standing_cases,
)
from api.what_if import WhatIfPublic, WhatIfRequest, ask_what_if
from contracts.terms import TermSheet
from rules.rulebook import default_registry
from store.models import Contract

router = APIRouter(prefix="/api/contracts", tags=["contracts"])

if TYPE_CHECKING:
    TermSheetIn = TermSheet
else:
    #: A term sheet whose clause figures are those the rulebooks declare (rules/clauses).
    TermSheetIn = default_registry().term_sheet_model()


@router.post("", status_code=201, response_model=ContractRegistered)
async def register_contract(
    principal: Manager, terms: TermSheetIn, request: Request, settings: SettingsDep
) -> ContractRegistered:
    """Registers a contract from its term sheet and starts the cases that start with it:
    its monthly SLA review and its term.

    Clause figures that are left out take the reference MSA's values (90 days'
    notice, 30-day cure, 10-day dispute window, ...). The contract is stored even if
    those cases cannot start (Temporal unreachable); ``warnings`` then says so, and
    ``POST /api/contracts/{id}/standing-cases`` starts them later.
    """
    return await register(principal, terms, request, settings)


@router.post(
    "/{contract_id}/sla-review",
    response_model=CaseDetail,
    responses={
        200: {"description": "The review was already running: the existing case"},
        201: {"model": CaseDetail, "description": "Started"},
        202: {"description": "Started; the worker has not decided the first step yet"},
        404: {"description": "Unknown contract"},
    },
)
async def start_sla_review(
    _: Manager, contract_id: str, response: Response, client: TemporalDep, settings: SettingsDep
) -> Any:
    """Starts the contract's monthly SLA review if it is not running (safe to repeat)."""
    # The review is the case that starts with the contract and records downtime;
    # POST /standing-cases starts it and every other case that starts with the contract.
    rulebook = standing_case_recording("downtime_recorded")
    opened = await start_standing_case(client, settings, contract_id, rulebook)
    response.status_code = opened.status
    return opened.body


@router.post(
    "/{contract_id}/standing-cases",
    response_model=StandingCases,
    responses={404: {"description": "Unknown contract"}},
)
async def start_cases_with_contract(
    _: Manager, contract_id: str, client: TemporalDep, settings: SettingsDep
) -> StandingCases:
    """Starts every case that starts with the contract and is not running (safe to repeat).

    A case that cannot start now (Temporal refusing it) is named in ``warnings``.
    """
    if await in_session(Session.get, Contract, contract_id) is None:
        raise HTTPException(404, f"contract {contract_id!r} not found")
    opened, warnings = await start_standing_cases(client, settings, contract_id)
    return StandingCases(
        standing_case_ids={clause: o.case_id for clause, o in opened.items()}, warnings=warnings
    )


@router.get("", response_model=ContractsPublic)
def list_contracts(
    _: Reader,
    session: SessionDep,
    settings: SettingsDep,
    limit: Limit = 50,
    offset: Offset = 0,
    legal_state: LegalState | None = None,
    escalated: bool | None = None,
    stuck: bool | None = None,
) -> ContractsPublic:
    """The portfolio, newest first: each contract with where its agreement stands
    (``legal_state``; in force until its workflow has run), and its open cases: how many,
    how many escalated or stuck, and the nearest deadline among them. ``escalated`` and
    ``stuck`` keep the contracts that have (true) or have not (false) such a case."""
    filters = ContractFilters(legal_state, escalated, stuck)
    at = dt.datetime.now(dt.UTC)
    rows, total = contracts_page(session, filters, at, settings, limit, offset)
    items = [
        ContractListItem.model_validate(
            {**ContractPublic.model_validate(c).model_dump(), **vars(counts)}
        )
        for c, counts in rows
    ]
    return ContractsPublic(items=items, total=total, limit=limit, offset=offset)


@router.post(
    "/{contract_id}/what-if",
    response_model=WhatIfPublic,
    responses={
        404: {"description": "Unknown contract"},
        422: {"description": "Bad clause or facts"},
    },
)
def what_if(_: Manager, contract_id: str, body: WhatIfRequest, session: SessionDep) -> WhatIfPublic:
    """The deadlines the facts would set, with their explanations, without starting a case.

    Facts may lie in the future here: "if we give notice on 15 December, when does
    the termination take effect?"
    """
    return ask_what_if(session, contract_id, body)


@router.get(
    "/{contract_id}",
    response_model=ContractPublic,
    responses={404: {"description": "Unknown contract"}},
)
def get_contract(_: Reader, contract_id: str, session: SessionDep) -> Contract:
    """One contract with its term sheet."""
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise HTTPException(404, f"contract {contract_id!r} not found")
    return contract
