"""The console's pages to find and read cases: the case list, a case, a notice."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlmodel import Session

from api.console import views
from api.console.pages import (
    FLASH,
    bad_cursor,
    not_found,
    now,
    number,
    page_cursors,
    show_case,
    signed_in,
    user_page,
)
from api.deps import in_session
from api.ops import CaseFilters
from api.other_partys_notices import cases_in_their_name
from runtime.settings import get_settings
from store.models import Notice
from store.notice_events import DeemedReceipt, notice_receipt

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)


def _flag(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get((value or "").lower())


@router.get("")
async def case_list(
    request: Request,
    clause: str | None = None,
    state: str | None = None,
    contract: str | None = None,
    escalated: str | None = None,
    stuck: str | None = None,
    within: str | None = None,
    page: str | None = None,
    cursor: str | None = None,
    before: str | None = None,
) -> Response:
    """The case list: filters, a count per state, nearest deadline first, paginated.

    The pages' links carry a cursor (``cursor``: the page after that case, ``before``:
    the page before it), so a deep page costs what the first does; ``page`` alone (a
    page counted from the first) still works.
    """
    principal, name = await signed_in(request)
    try:
        after, until = page_cursors(cursor, before)
    except RequestValidationError as exc:
        return bad_cursor(principal, name, exc)
    filters = CaseFilters(
        clause=clause or None,
        state=state or None,
        contract_id=contract or None,
        escalated=_flag(escalated),
        stuck=_flag(stuck),
        within_days=number(within, 0, 3660),
    )
    at = now()
    listing = await in_session(
        views.case_list,
        filters,
        number(page, 1, 1_000_000),
        at,
        get_settings(),
        after=after,
        before=until,
    )
    params = {
        "clause": filters.clause or "",
        "state": filters.state or "",
        "contract": filters.contract_id or "",
        "escalated": (escalated or "").lower() if filters.escalated is not None else "",
        "stuck": (stuck or "").lower() if filters.stuck is not None else "",
        "within": "" if filters.within_days is None else str(filters.within_days),
    }

    def link(**change: Any) -> str:
        merged = {**params, **{k: str(v) for k, v in change.items()}}
        query = urlencode({k: v for k, v in merged.items() if v})
        return "/console" + (f"?{query}" if query else "")

    return user_page(
        "cases.html.j2",
        principal,
        name,
        title="Cases",
        listing=listing,
        params=params,
        link=link,
        now=at,
        filtered=any(params.values()),
    )


@router.get("/cases/{case_id}")
async def case_page(request: Request, case_id: str, flash: str | None = None) -> Response:
    """A case: its state in plain words, why it is stuck or escalated, deadlines, timeline."""
    principal, name = await signed_in(request)
    return await show_case(request, case_id, principal, name, flash=FLASH.get(flash or ""))


def _notice(session: Session, notice_id: str) -> tuple[Notice | None, str, DeemedReceipt | None]:
    notice = session.get(Notice, notice_id)
    if notice is None:
        return None, "UTC", None
    data = views.case_page(session, notice.case_id, now(), get_settings())
    # The evidence record's own words, so the page and the record agree.
    receipt = notice_receipt(session, notice)
    return notice, data.zone if data else "UTC", receipt


@router.get("/notices/{notice_id}")
async def notice_page(request: Request, notice_id: str) -> Response:
    """A notice as it was sent: subject, recipients, text and its HTML in a sandbox."""
    principal, name = await signed_in(request)
    notice, zone, receipt = await in_session(_notice, notice_id)
    if notice is None:
        return not_found(principal, name, f"notice {notice_id}")
    return user_page(
        "notice.html.j2",
        principal,
        name,
        title=notice.subject,
        n=notice,
        zone=zone,
        receipt=receipt,
    )


@router.get("/cases-in-the-other-partys-name")
async def cases_in_the_other_partys_name(request: Request) -> Response:
    """Cases on a rulebook written before notices said whose they are, that sent (or may
    yet send) a notice of the other party's: the operator decides what to do with each."""
    principal, name = await signed_in(request)
    rows = await in_session(cases_in_their_name)
    return user_page(
        "other_partys_notices.html.j2",
        principal,
        name,
        title="Cases that spoke for the other party",
        rows=rows,
    )
