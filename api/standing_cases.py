"""Cases that start with the contract: opening them, and recording facts in them.

A rulebook that says ``starts_with_contract`` (the monthly SLA review) has one case per
contract, keyed by its clause: registering the contract opens it, with the start facts
the rulebook takes from the contract. Contract-level routes (downtime, maintenance
windows) record a fact into whichever of these cases declares that fact, so the API
names no clause.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import HTTPException
from sqlmodel import Session
from temporalio.client import Client

from api import case_actions
from api.access import Principal
from api.case_detail import read_case
from api.case_start import Opened, case_id_for, open_case
from api.deps import in_session
from api.schemas import CaseDetail
from rules.facts import FactsError
from rules.rulebook import Rulebook, default_registry
from runtime.settings import Settings
from store.models import Contract


def standing_clauses() -> list[Rulebook]:
    """The latest rulebook of each clause whose case starts with the contract."""
    registry = default_registry()
    latest = (registry.latest(c) for c in registry.clauses())
    return [rb for rb in latest if rb.starts_with_contract is not None]


def _today(zone: str) -> dt.date:
    return dt.datetime.now(ZoneInfo(zone)).date()


def _contract_dates(session: Session, contract_id: str) -> tuple[dt.date, dt.date] | None:
    """The contract's effective date and today in its time zone; None if unknown."""
    contract = session.get(Contract, contract_id)
    if contract is None:
        return None
    return contract.effective_date, _today(contract.time_zone)


async def start_standing_case(
    client: Client, settings: Settings, contract_id: str, rulebook: Rulebook
) -> Opened:
    """Starts (once) the contract's case of ``rulebook``; the running one if it has one.

    The start facts depend on the day (the current month), so a second start in a later
    month asks for other facts: the case already running answers it (200), not a 409.

    Raises:
        HTTPException: 404 for an unknown contract; else as :func:`open_case`.
    """
    dates = await in_session(_contract_dates, contract_id)
    if dates is None:
        raise HTTPException(404, f"contract {contract_id!r} not found")
    facts = rulebook.facts_at_registration(*dates)
    try:
        return await open_case(
            client, settings, contract_id, rulebook.clause, facts, rulebook.clause
        )
    except HTTPException as exc:
        if exc.status_code != 409:
            raise
        case_id = case_id_for(contract_id, rulebook.clause)
        return Opened(case_id, 200, await read_case(case_id, settings), replayed=True)


async def start_standing_cases(
    client: Client, settings: Settings, contract_id: str
) -> tuple[dict[str, Opened], list[str]]:
    """Starts every case that starts with the contract; what started, and what did not.

    Returns:
        ``({clause: Opened}, warnings)``: a case that could not start (Temporal down) is a
        warning naming it and the way to start it later, not an error.
    """
    opened: dict[str, Opened] = {}
    warnings: list[str] = []
    for rulebook in standing_clauses():
        try:
            opened[rulebook.clause] = await start_standing_case(
                client, settings, contract_id, rulebook
            )
        except HTTPException as exc:
            warnings.append(f"{rulebook.title}: the case did not start: {exc.detail}")
        except FactsError as exc:
            # The contract is registered either way; its figures or dates do not fit.
            warnings.append(f"{rulebook.title}: the case cannot start: {exc}")
    return opened, warnings


def standing_case_recording(fact: str) -> Rulebook:
    """The clause, among those that start with the contract, whose case records ``fact``.

    Raises:
        LookupError: none does (a rulebook change removed the fact).
    """
    for rulebook in standing_clauses():
        if fact in rulebook.recordable_facts:
            return rulebook
    raise LookupError(f"no case that starts with the contract records {fact!r}")


async def record_in_standing_case(
    client: Client,
    settings: Settings,
    contract_id: str,
    actor: Principal,
    fact: str,
    values: dict[str, Any],
    recorded_by: str,
) -> CaseDetail:
    """Records ``fact`` in the contract's running case that declares it; that case after.

    Raises:
        HTTPException: 404 naming the way to start the case when it is not running;
            else as :func:`api.case_actions.record_fact`.
    """
    rulebook = standing_case_recording(fact)
    case_id = case_id_for(contract_id, rulebook.clause)
    try:
        await case_actions.record_fact(client, case_id, actor, fact, values, None, recorded_by)
        return await read_case(case_id, settings)
    except HTTPException as exc:
        if exc.status_code != 404:
            raise
        raise HTTPException(
            404,
            f"contract {contract_id!r} has no case of {rulebook.clause!r} running; start it "
            f"with POST /api/contracts/{contract_id}/standing-cases (or /sla-review)",
        ) from exc
