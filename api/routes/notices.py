"""Notices: the outbox and every notice kept as evidence."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse
from sqlmodel import col

from api.deps import SessionDep
from api.pagination import page
from api.schemas import NoticePublic, NoticesPublic, NoticeSummary
from store.models import Notice

router = APIRouter(tags=["notices"])


def _list(
    session: SessionDep, channel: str | None, case_id: str | None, limit: int, offset: int
) -> NoticesPublic:
    where = []
    if channel:
        where.append(Notice.channel == channel)
    if case_id:
        where.append(Notice.case_id == case_id)
    rows, total = page(
        session, Notice, where, [col(Notice.created_at).desc(), col(Notice.id)], limit, offset
    )
    return NoticesPublic(
        items=[NoticeSummary.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/api/outbox", response_model=NoticesPublic)
def outbox(
    session: SessionDep,
    case_id: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> NoticesPublic:
    """Notices kept in the local outbox (no SendGrid key configured), newest first."""
    return _list(session, "outbox", case_id, limit, offset)


@router.get("/api/notices", response_model=NoticesPublic)
def list_notices(
    session: SessionDep,
    case_id: str | None = None,
    channel: str | None = Query(None, pattern="^(outbox|sendgrid)$"),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> NoticesPublic:
    """Every notice, whichever way it went, newest first."""
    return _list(session, channel, case_id, limit, offset)


@router.get("/api/notices/{notice_id}", response_model=NoticePublic)
def get_notice(notice_id: str, session: SessionDep) -> Notice:
    """One notice as it was sent: recipients, subject, plain text and HTML."""
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise HTTPException(404, f"notice {notice_id!r} not found")
    return notice


@router.get("/api/notices/{notice_id}/html", response_class=HTMLResponse)
def notice_html(notice_id: str, session: SessionDep) -> str:
    """The HTML version of a notice, as the recipient saw it."""
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise HTTPException(404, f"notice {notice_id!r} not found")
    return notice.body_html
