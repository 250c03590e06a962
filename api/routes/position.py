"""``GET /api/contracts/{id}/position``: the contract's money (issue 15, part 3)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.exceptions import RequestValidationError

from api.access import Reader
from api.deps import SessionDep
from api.position import PositionPublic, money_position
from contracts.limits import date_in_range, date_range_text
from store.contracts import contract_terms
from store.models import Contract

router = APIRouter(prefix="/api/contracts/{contract_id}/position", tags=["contracts"])

DayParam = Annotated[dt.date | None, Query()]


def _in_range(name: str, day: dt.date | None) -> None:
    if day is not None and not date_in_range(day):
        raise RequestValidationError(
            [
                {
                    "type": "date_out_of_range",
                    "loc": ("query", name),
                    "msg": f"must be {date_range_text()}",
                    "input": day.isoformat(),
                }
            ]
        )


@router.get("", response_model=PositionPublic, responses={404: {"description": "Unknown contract"}})
def get_position(
    _: Reader,
    contract_id: str,
    session: SessionDep,
    as_of: Annotated[
        dt.date | None,
        Query(description="The statement date (default: today in the contract's time zone)"),
    ] = None,
    cap_event_on: Annotated[
        dt.date | None,
        Query(
            description="The day of the event giving rise to a claim, for the §9 liability "
            "cap (default: as_of)"
        ),
    ] = None,
    settle_on: Annotated[
        dt.date | None,
        Query(
            description="What-if: the final settlement as if the agreement ended at the start "
            "of this day (default: only once the agreement is terminating or ended, at its end)"
        ),
    ] = None,
) -> PositionPublic:
    """The contract's ledger (invoices, payments, late interest, service credits), the
    Provider's liability cap and the final settlement, each line explained, in cents."""
    for name, day in (("as_of", as_of), ("cap_event_on", cap_event_on), ("settle_on", settle_on)):
        _in_range(name, day)
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise HTTPException(404, f"contract {contract_id!r} not found")
    today = dt.datetime.now(contract_terms(contract).zone).date()
    return money_position(session, contract, as_of or today, cap_event_on, settle_on)
