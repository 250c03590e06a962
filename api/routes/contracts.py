"""Contracts: register a term sheet, list and read contracts."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Request, Response
from sqlmodel import Session

from api.access import Manager, Reader
from api.deps import SessionDep, SettingsDep, TemporalDep, get_temporal, in_session
from api.errors import facts_error_response, unknown_clause
from api.pagination import Limit, Offset
from api.portfolio import ContractFilters, LegalState, contracts_page
from api.schemas import (
    CaseDetail,
    ContractListItem,
    ContractPublic,
    ContractRegistered,
    ContractsPublic,
    DeadlinePublic,
    DecisionPublic,
    NoticePlanPublic,
    StandingCases,
    WhatIfPublic,
    WhatIfRequest,
)
from api.standing_cases import (
    standing_case_recording,
    start_standing_case,
    start_standing_cases,
)
from contracts.terms import TermSheet
from rules.facts import FactsError, validate_start_facts
from rules.rulebook import default_registry
from rules.what_if import what_if as run_what_if
from store.contracts import contract_terms, create_contract
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
    """Registers a contract from its term sheet and starts its monthly SLA review.

    Clause figures that are left out take the reference MSA's values (90 days'
    notice, 30-day cure, 10-day dispute window, ...). The contract is stored even if
    its review cannot start (Temporal unreachable); ``warnings`` then says so, and
    ``POST /api/contracts/{id}/sla-review`` starts it later.
    """
    # The review is one of the cases whose rulebook says starts_with_contract; all of
    # them start here, and POST /standing-cases starts any that could not.
    contract = await in_session(_store, terms, principal.name)
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


def _store(session: Session, terms: TermSheet, actor: str) -> Contract:
    contract = create_contract(session, terms, actor=actor)
    session.commit()
    return contract


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
def what_if(_: Manager, contract_id: str, body: WhatIfRequest, session: SessionDep) -> Any:
    """The deadlines the facts would set, with their explanations, without starting a case.

    Facts may lie in the future here: "if we give notice on 15 December, when does
    the termination take effect?"
    """
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise HTTPException(404, f"contract {contract_id!r} not found")
    if body.clause not in default_registry().clauses():
        raise unknown_clause(body.clause)
    terms = contract_terms(contract)
    rulebook = default_registry().latest(body.clause)
    try:
        facts = validate_start_facts(
            rulebook,
            body.facts,
            time_zone=terms.time_zone,
            now=None,
            effective_date=terms.effective_date,
        )
    except FactsError as exc:
        return facts_error_response(exc)
    result = run_what_if(terms, body.clause, facts, dt.datetime.now(dt.UTC))
    return WhatIfPublic(
        clause=result.clause,
        rulebook_version=result.rulebook_version,
        state=result.state,
        state_label=result.state_label,
        deadlines=[DeadlinePublic.of(d, terms.time_zone) for d in result.deadlines],
        decisions=[
            DecisionPublic(rule=d.rule, action=d.action, value=d.value) for d in result.decisions
        ],
        our_side=result.our_side,
        we_send=[NoticePlanPublic.model_validate(p, from_attributes=True) for p in result.sends],
        we_expect=[
            NoticePlanPublic.model_validate(p, from_attributes=True) for p in result.expects
        ],
    )


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
