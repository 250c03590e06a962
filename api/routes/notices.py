"""Notices as kept: the outbox, every notice, and each one's evidence.

``GET /api/notices/{id}/evidence`` is a notice's proof-of-notice record (JSON), and
``?format=html`` the same record as a printable page (``api/templates``). A case's
notices before they go out (preview, approval) are ``api/routes/case_notices.py``.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col

from api.access import Reader
from api.deps import SessionDep
from api.notice_views import evidence_page, evidence_record
from api.pagination import Limit, Offset, page_answer
from api.schemas import NoticeEvidence, NoticePublic, NoticesPublic, NoticeSummary
from store.models import Notice

# /api/outbox and /api/notices/...: "/api" is all the two share.
router = APIRouter(prefix="/api", tags=["notices"])

#: Every status a notice row can have (store.models.Notice.status).
NOTICE_STATUSES = "^(awaiting_approval|outboxed|retry|sending|sent|failed)$"


def _list(
    session: Session,
    channel: str | None,
    case_id: str | None,
    limit: int,
    offset: int,
    status: str | None = None,
) -> NoticesPublic:
    where = []
    if channel:
        where.append(Notice.channel == channel)
    if case_id:
        where.append(Notice.case_id == case_id)
    if status:
        where.append(Notice.status == status)
    order = [col(Notice.created_at).desc(), col(Notice.id)]
    return page_answer(NoticesPublic, NoticeSummary, session, Notice, where, order, limit, offset)


def _notice(session: Session, notice_id: str) -> Notice:
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise HTTPException(404, f"notice {notice_id!r} not found")
    return notice


@router.get("/outbox", response_model=NoticesPublic)
def outbox(
    _: Reader,
    session: SessionDep,
    case_id: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> NoticesPublic:
    """Notices kept in the local outbox (no SendGrid key configured), newest first."""
    return _list(session, "outbox", case_id, limit, offset)


@router.get("/notices", response_model=NoticesPublic)
def list_notices(
    _: Reader,
    session: SessionDep,
    case_id: str | None = None,
    channel: str | None = Query(None, pattern="^(outbox|sendgrid)$"),
    status: str | None = Query(
        None,
        pattern=NOTICE_STATUSES,
        description="e.g. awaiting_approval: the notices held until a person approves them",
    ),
    limit: Limit = 50,
    offset: Offset = 0,
) -> NoticesPublic:
    """Every notice, whichever way it went, newest first; filtered by case, channel, status."""
    return _list(session, channel, case_id, limit, offset, status)


@router.get(
    "/notices/{notice_id}",
    response_model=NoticePublic,
    responses={404: {"description": "Unknown notice"}},
)
def get_notice(_: Reader, notice_id: str, session: SessionDep) -> Notice:
    """One notice as it was sent: recipients, subject, plain text and HTML."""
    return _notice(session, notice_id)


@router.get(
    "/notices/{notice_id}/html",
    response_class=HTMLResponse,
    responses={404: {"description": "Unknown notice"}},
)
def notice_html(_: Reader, notice_id: str, session: SessionDep) -> str:
    """The HTML version of a notice, as the recipient saw it."""
    return _notice(session, notice_id).body_html


@router.get(
    "/notices/{notice_id}/evidence",
    response_model=NoticeEvidence,
    responses={
        200: {
            "content": {"text/html": {}},
            "description": "The record as JSON, or with ?format=html as a printable page",
        },
        404: {"description": "Unknown notice"},
    },
)
def notice_evidence(
    _: Reader,
    notice_id: str,
    session: SessionDep,
    format: Literal["json", "html"] = Query(
        "json", description="html: the same record as a printable page (print or save as PDF)"
    ),
) -> Any:
    """A notice's proof-of-notice record.

    The rendered text and HTML with their SHA-256 (as stored at render time and as
    computed now, so a changed body shows), sender and recipients, when it was queued
    and sent, the SendGrid message id, the delivery events oldest first, the rule and
    case state that caused it, any approval, and the deemed time of receipt under the
    contract's ``notices.deemed_receipt`` term.
    """
    record, zone = evidence_record(session, notice_id)
    if format == "html":
        return evidence_page(record, zone)
    return record
