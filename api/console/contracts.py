"""The console's contract page: its cases, and its calendar feed's URL."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlmodel import Session

from api.acceptance import Source, sources
from api.access import Principal
from api.calendar_feeds import create_feed
from api.console import views
from api.console.pages import (
    FLASH,
    bad_cursor,
    expired,
    not_found,
    now,
    number,
    page_cursors,
    refused,
    signed_in,
    user_page,
)
from api.contract_clocks import Clock, contract_clocks
from api.deps import in_session
from api.ops import CaseKey
from api.position import PositionPublic, money_position
from api.term_figures import term_sheet_figures
from runtime.settings import get_settings
from store.agreements import provenance_of
from store.contracts import contract_terms
from store.models import Contract

router = APIRouter(
    prefix="/console/contracts/{contract_id}", tags=["console"], include_in_schema=False
)


@router.get("")
async def contract_page(
    request: Request,
    contract_id: str,
    page: str | None = None,
    cursor: str | None = None,
    before: str | None = None,
    flash: str | None = None,
) -> Response:
    """A contract: its cases (paged by cursor, as the case list) and its calendar feed."""
    principal, name = await signed_in(request)
    try:
        after, until = page_cursors(cursor, before)
    except RequestValidationError as exc:
        return bad_cursor(principal, name, exc)
    return await _show_contract(
        contract_id,
        principal,
        name,
        number(page, 1, 1_000_000),
        after=after,
        before=until,
        flash=FLASH.get(flash or ""),
    )


async def _show_contract(
    contract_id: str,
    principal: Principal,
    name: str,
    page: int | None = 1,
    feed_url: str | None = None,
    status: int = 200,
    *,
    after: CaseKey | None = None,
    before: CaseKey | None = None,
    flash: str | None = None,
) -> Response:
    at = now()
    data = await in_session(
        views.contract_page, contract_id, page, at, get_settings(), after=after, before=before
    )
    if data is None:
        return not_found(principal, name, f"contract {contract_id}")
    position = await in_session(_position, contract_id)
    clocks, clocks_more = await in_session(_clocks, contract_id)
    figures = term_sheet_figures(data.contract.terms or {})
    source_of = await in_session(_sources, contract_id)
    shown_paths = {f.path for g in figures for f in g.figures}

    def link(**change: Any) -> str:
        query = urlencode({k: str(v) for k, v in change.items() if v})
        return f"/console/contracts/{quote(contract_id)}" + (f"?{query}" if query else "")

    return user_page(
        "contract.html.j2",
        principal,
        name,
        status,
        title=data.contract.title,
        c=data,
        listing=data.cases,
        link=link,
        now=at,
        feed_url=feed_url,
        can_manage=principal.can("manage_cases"),
        position=position,
        figures=figures,
        source_of=source_of,
        other_sources=[s for path, s in source_of.items() if path not in shown_paths],
        clocks=clocks,
        clocks_more=clocks_more,
        flash=flash,
    )


def _clocks(session: Session, contract_id: str) -> tuple[list[Clock], int]:
    contract = session.get(Contract, contract_id)
    return contract_clocks(session, contract) if contract else ([], 0)


def _sources(session: Session, contract_id: str) -> dict[str, Source]:
    contract = session.get(Contract, contract_id)
    if contract is None:
        return {}
    return sources(provenance_of(session, contract_id), contract.time_zone)


def _position(session: Session, contract_id: str) -> PositionPublic | None:
    contract = session.get(Contract, contract_id)
    if contract is None:
        return None
    try:
        today = dt.datetime.now(contract_terms(contract).zone).date()
    except ValueError:  # a stored term sheet that no longer reads: the rest still shows
        return None
    return money_position(session, contract, today)


def _new_feed_url(session: Session, contract_id: str, actor: Principal) -> str | None:
    made = create_feed(session, contract_id, actor, get_settings())
    return made[1] if made else None


@router.post("/calendar-feed")
async def rotate_feed(request: Request, contract_id: str) -> Response:
    """Creates (or replaces) the contract's calendar feed and shows its URL once."""
    principal, name = await signed_in(request)
    form = await request.form()
    if (refusal := expired(principal, name, form)) is not None:
        return refusal
    if not principal.can("manage_cases"):
        return refused(
            principal,
            name,
            f"Your role ({principal.role.replace('_', ' ')}) may not create calendar feeds.",
        )
    url = await in_session(_new_feed_url, contract_id, principal)
    return await _show_contract(contract_id, principal, name, feed_url=url)
