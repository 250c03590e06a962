"""A contract's monthly SLA review: starting it, and recording downtime in it.

Each contract has one review case, keyed by ``MONTHLY_REVIEW``: registering the
contract starts it (``api/routes/contracts.py``), and the service-level routes record
outages and maintenance windows in it as facts (``api/routes/service_levels.py``).
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
from runtime.settings import Settings
from store.models import Contract

#: The idempotency key (and so the case id) of each contract's monthly SLA review.
MONTHLY_REVIEW = "monthly_sla_review"


def _first_month(session: Session, contract_id: str) -> str:
    """The month the review starts with: this one, or the contract's first if later."""
    contract = session.get(Contract, contract_id)
    zone = contract.time_zone if contract else "UTC"
    effective = contract.effective_date if contract else None
    today = dt.datetime.now(ZoneInfo(zone)).date()
    first = max(today, effective) if effective else today
    return first.replace(day=1).isoformat()


async def start_monthly_review(client: Client, settings: Settings, contract_id: str) -> Opened:
    """Starts (once) the contract's monthly SLA review, from the current month on."""
    first_month = await in_session(_first_month, contract_id)
    return await open_case(
        client,
        settings,
        contract_id,
        MONTHLY_REVIEW,
        {"first_month": first_month},
        MONTHLY_REVIEW,
    )


async def record_in_review(
    client: Client,
    settings: Settings,
    contract_id: str,
    actor: Principal,
    fact: str,
    values: dict[str, Any],
    recorded_by: str,
) -> CaseDetail:
    """Records a fact in the contract's running review; the case as it then stands.

    Raises:
        HTTPException: 404 naming the way to start the review when it is not running;
            else as :func:`api.case_actions.record_fact`.
    """
    case_id = case_id_for(contract_id, MONTHLY_REVIEW)
    try:
        await case_actions.record_fact(client, case_id, actor, fact, values, None, recorded_by)
        return await read_case(case_id, settings)
    except HTTPException as exc:
        if exc.status_code != 404:
            raise
        raise HTTPException(
            404,
            f"contract {contract_id!r} has no monthly SLA review running; start it with "
            f"POST /api/contracts/{contract_id}/sla-review",
        ) from exc
