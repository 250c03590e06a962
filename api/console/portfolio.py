"""The console's portfolio: every contract, where its agreement stands, what its cases need."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.console.pages import now, number, signed_in, user_page
from api.deps import in_session
from api.portfolio import ContractFilters, contracts_page
from runtime.settings import get_settings

router = APIRouter(prefix="/console/contracts", tags=["console"], include_in_schema=False)

PAGE_SIZE = 50
_STATES = ("in_force", "terminating", "ended")


@router.get("")
async def portfolio(
    request: Request,
    legal_state: str | None = None,
    escalated: str | None = None,
    stuck: str | None = None,
    page: str | None = None,
) -> Response:
    """The contracts, newest first; filters by the agreement's state and by contracts with
    an escalated or stuck case (an unknown filter value shows every contract)."""
    principal, name = await signed_in(request)
    filters = ContractFilters(
        legal_state if legal_state in _STATES else None,  # type: ignore[arg-type]
        True if escalated == "yes" else None,
        True if stuck == "yes" else None,
    )
    number_of = number(page, 1, 1_000_000) or 1
    at = now()
    rows, total = await in_session(
        contracts_page, filters, at, get_settings(), PAGE_SIZE, (number_of - 1) * PAGE_SIZE
    )
    chosen = {
        "legal_state": filters.legal_state,
        "escalated": "yes" if filters.escalated else None,
        "stuck": "yes" if filters.stuck else None,
    }

    def link(**change: Any) -> str:
        query = urlencode({k: v for k, v in {**chosen, **change}.items() if v})
        return "/console/contracts" + (f"?{query}" if query else "")

    return user_page(
        "portfolio.html.j2",
        principal,
        name,
        title="Contracts",
        rows=rows,
        total=total,
        page=number_of,
        pages=max(1, -(-total // PAGE_SIZE)),
        chosen=chosen,
        link=link,
        now=at,
    )
