"""Notices: the outbox, every notice kept as evidence, previews and approvals.

* ``GET /api/notices/{id}/evidence`` is a notice's proof-of-notice record (JSON), and
  ``?format=html`` the same record as a printable page (``api/templates``).
* ``GET /api/cases/{case_id}/notices/{notice}/preview`` renders a notice of the case's
  rulebook with the case's current facts, storing and sending nothing.
* ``POST /api/cases/{case_id}/notices/{notice_key}/approve`` releases a notice the
  rulebook holds for approval; ``GET /api/notices?status=awaiting_approval`` lists them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any, Literal

import jinja2
from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, select

from api import case_actions
from api.access import FactRecorder, Reader
from api.deps import SessionDep, TemporalDep
from api.pagination import Limit, Offset, page_answer
from api.schemas import (
    BodyHash,
    DeemedReceipt,
    EvidenceContract,
    NoticeApproval,
    NoticeApprove,
    NoticeApproved,
    NoticeEventPublic,
    NoticeEvidence,
    NoticePreview,
    NoticePublic,
    NoticeRevise,
    NoticesPublic,
    NoticeSummary,
)
from contracts.calendar import describe_instant
from contracts.terms import NoticeTerms, TermSheet
from rules.render import NoticeRequest, RenderError, render_notice
from rules.rulebook import default_registry
from store.contracts import contract_terms
from store.db import get_engine
from store.models import AuditEntry, Case, Contract, Deadline, Notice, NoticeEvent
from store.notice_events import FAILURES, deemed_receipt

router = APIRouter(tags=["notices"])

#: Every status a notice row can have (store.models.Notice.status).
NOTICE_STATUSES = "^(awaiting_approval|outboxed|retry|sending|sent|failed)$"

#: The printable pages show the notice's own HTML in a sandboxed frame; nothing on them
#: may run script or load anything from elsewhere.
_HTML_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    "X-Content-Type-Options": "nosniff",
}

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(Path(__file__).resolve().parents[1] / "templates")),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


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


@router.get("/api/outbox", response_model=NoticesPublic)
def outbox(
    _: Reader,
    session: SessionDep,
    case_id: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> NoticesPublic:
    """Notices kept in the local outbox (no SendGrid key configured), newest first."""
    return _list(session, "outbox", case_id, limit, offset)


@router.get("/api/notices", response_model=NoticesPublic)
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
    "/api/notices/{notice_id}",
    response_model=NoticePublic,
    responses={404: {"description": "Unknown notice"}},
)
def get_notice(_: Reader, notice_id: str, session: SessionDep) -> Notice:
    """One notice as it was sent: recipients, subject, plain text and HTML."""
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise HTTPException(404, f"notice {notice_id!r} not found")
    return notice


@router.get(
    "/api/notices/{notice_id}/html",
    response_class=HTMLResponse,
    responses={404: {"description": "Unknown notice"}},
)
def notice_html(_: Reader, notice_id: str, session: SessionDep) -> str:
    """The HTML version of a notice, as the recipient saw it."""
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise HTTPException(404, f"notice {notice_id!r} not found")
    return notice.body_html


# -- Evidence ---------------------------------------------------------------------------


def _hash(stored: str, body: str) -> BodyHash:
    computed = hashlib.sha256(body.encode()).hexdigest()
    return BodyHash(
        stored=stored, computed=computed, matches=(stored == computed) if stored else None
    )


def _local(at: dt.datetime | None, zone: str) -> str | None:
    return describe_instant(at, zone) if at else None


def _deemed_receipt(
    notice: Notice, events: list[NoticeEvent], terms: NoticeTerms, zone: str
) -> DeemedReceipt:
    """When the notice counts as received, by the contract's rule: the store's rule
    (store.notice_events.deemed_receipt), so it agrees with ``delivery_status``."""
    found = deemed_receipt(notice, terms.deemed_receipt, events, zone)
    return DeemedReceipt(
        rule=found.rule,
        status=found.status,
        at=found.at,
        local=_local(found.at, zone),
        explanation=found.explanation,
    )


def _approval(session: Session, notice: Notice) -> NoticeApproval | None:
    if not notice.approved_by:
        return None
    # The workflow records the approver's reason in the audit trail of the approval step.
    reason = None
    for entry in session.exec(
        select(AuditEntry).where(
            AuditEntry.case_id == notice.case_id, AuditEntry.action == "approved"
        )
    ).all():
        if isinstance(entry.after, dict) and entry.after.get("event") == (
            f"approved:{notice.notice_key}"
        ):
            reason = entry.reason
    return NoticeApproval(
        approved_by=notice.approved_by, approved_at=notice.approved_at, reason=reason
    )


def evidence_record(session: Session, notice_id: str) -> tuple[NoticeEvidence, str]:
    """A notice's evidence record and the contract's time zone.

    Raises:
        HTTPException: 404 when there is no such notice.
    """
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise HTTPException(404, f"notice {notice_id!r} not found")
    case = session.get(Case, notice.case_id)
    contract = session.get(Contract, case.contract_id) if case else None
    terms = contract_terms(contract).notices if contract else NoticeTerms()
    zone = contract.time_zone if contract else "UTC"
    events = list(
        session.exec(
            select(NoticeEvent)
            .where(NoticeEvent.notice_id == notice.id)
            .order_by(col(NoticeEvent.occurred_at), col(NoticeEvent.id))
        ).all()
    )
    record = NoticeEvidence(
        notice_id=notice.id,
        notice_key=notice.notice_key,
        notice=notice.notice,
        subject=notice.subject,
        clause=notice.clause,
        rule=notice.rule,
        case_state=notice.case_state,
        case_id=notice.case_id,
        rulebook_version=case.rulebook_version if case else None,
        contract=EvidenceContract(
            id=contract.id,
            title=contract.title,
            reference=contract.reference,
            customer_name=contract.customer_name,
            provider_name=contract.provider_name,
            time_zone=contract.time_zone,
        )
        if contract
        else None,
        from_email=notice.from_email,
        to=list(notice.to),
        cc=list(notice.cc),
        channel=notice.channel,
        status=notice.status,
        delivery_status=notice.delivery_status,
        provider_message_id=notice.provider_message_id,
        error=notice.error,
        queued_at=notice.created_at,
        sent_at=notice.sent_at,
        delivered_at=notice.delivered_at,
        body_text=notice.body_text,
        body_html=notice.body_html,
        text_sha256=_hash(notice.text_sha256, notice.body_text),
        html_sha256=_hash(notice.html_sha256, notice.body_html),
        events=[NoticeEventPublic.model_validate(e) for e in events],
        approval=_approval(session, notice),
        deemed_receipt=_deemed_receipt(notice, events, terms, zone),
        generated_at=dt.datetime.now(dt.UTC),
    )
    return record, zone


@router.get(
    "/api/notices/{notice_id}/evidence",
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
        page_html = _TEMPLATES.get_template("notice_evidence.html.j2").render(
            r=record, local=lambda at: _local(at, zone) or "", zone=zone, failed=FAILURES
        )
        return HTMLResponse(page_html, headers=_HTML_HEADERS)
    return record


# -- Previews ---------------------------------------------------------------------------


def _preview(case_id: str, notice: str) -> NoticePreview:
    with Session(get_engine()) as session:
        case = session.get(Case, case_id)
        if case is None:
            raise HTTPException(404, f"case {case_id!r} not found")
        contract = session.get(Contract, case.contract_id)
        if contract is None:
            raise HTTPException(404, f"contract {case.contract_id!r} of case {case_id} not found")
        terms: TermSheet = contract_terms(contract)
        rows = session.exec(select(Deadline).where(Deadline.case_id == case_id)).all()
    rulebook = default_registry().get(case.clause, case.rulebook_version)
    if notice not in rulebook.notices:
        known = ", ".join(sorted(rulebook.notices))
        raise HTTPException(
            404,
            f"notice {notice!r} is not in the {case.clause} rulebook "
            f"v{case.rulebook_version}; its notices: {known}",
        )
    request = NoticeRequest(
        case_id=case.id,
        notice=notice,
        state=case.state,
        at=dt.datetime.now(dt.UTC),
        facts=dict(case.facts),
        deadlines={d.name: d for d in rows},
        # The case's current owner (an operator may have reassigned it).
        owner_email=case.owner_email,
    )
    try:
        rendered = render_notice(rulebook, terms, request)
    except RenderError as exc:
        raise HTTPException(
            422, f"notice {notice} cannot be rendered with the case's current facts: {exc}"
        ) from exc
    except KeyError as exc:
        raise HTTPException(
            422, f"notice {notice} cannot be rendered: the case has no fact {exc}"
        ) from exc
    except (ValueError, TypeError, AttributeError) as exc:
        raise HTTPException(422, f"notice {notice} cannot be rendered: {exc}") from exc
    return NoticePreview(
        case_id=case.id,
        notice=notice,
        subject=rendered.subject,
        to=rendered.to,
        cc=rendered.cc,
        body_text=rendered.body_text,
        body_html=rendered.body_html,
        case_state=case.state,
        requires_approval=rulebook.notices[notice].requires_approval,
        rendered_at=request.at,
    )


@router.get(
    "/api/cases/{case_id}/notices/{notice}/preview",
    response_model=NoticePreview,
    responses={
        200: {"content": {"text/html": {}}, "description": "With ?format=html, the HTML itself"},
        404: {"description": "Unknown case, or a notice the case's rulebook does not have"},
        422: {"description": "The notice cannot be rendered with the case's current facts"},
    },
)
def preview_notice(
    _: Reader,
    case_id: str,
    notice: str,
    format: Literal["json", "html"] = Query("json", description="html: the notice's HTML"),
) -> Any:
    """Renders a notice of the case's rulebook as it would go out now; stores and sends nothing.

    Uses the case's current facts, its deadlines and the contract's terms, exactly as
    the workflow would when the rules send it.
    """
    preview = _preview(case_id, notice)
    if format == "html":
        return HTMLResponse(preview.body_html, headers=_HTML_HEADERS)
    return preview


# -- Approvals --------------------------------------------------------------------------


@router.post(
    "/api/cases/{case_id}/notices/{notice_key}/approve",
    response_model=NoticeApproved,
    responses={
        404: {"description": "Unknown case"},
        409: {"description": "The case refused: no such notice is waiting, or already approved"},
    },
)
async def approve_notice(
    actor: FactRecorder, case_id: str, notice_key: str, body: NoticeApprove, client: TemporalDep
) -> Notice:
    """Approves a notice the rulebook holds for approval, so that it goes out as previewed.

    The approval goes to the case's workflow as an update; its validator refuses a
    notice that is not waiting (409). Returns the notice after it was sent (or outboxed).
    """

    # The approval names the caller (and whom they approve for, if someone else).
    await case_actions.approve_notice(
        client, case_id, actor, notice_key, body.approved_by, body.reason
    )
    return await _stored_notice(case_id, notice_key)


@router.post(
    "/api/cases/{case_id}/notices/{notice_key}/revise",
    response_model=NoticeApproved,
    responses={
        404: {"description": "Unknown case"},
        409: {
            "description": "The case refused: no such notice is waiting, a fact that cannot "
            "be corrected, or a notice that cannot be written from the values"
        },
    },
)
async def revise_held_notice(
    actor: FactRecorder, case_id: str, notice_key: str, body: NoticeRevise, client: TemporalDep
) -> Notice:
    """Corrects the facts a held notice was written from, before anyone approves it.

    Only text a person recorded with a fact (a report's root cause, a description) can
    be corrected. The notice is written again from the corrected facts and stays held;
    the audit trail keeps the old and new values. Returns the notice as it now reads.
    """
    await case_actions.revise_held_notice(
        client, case_id, actor, notice_key, body.values, body.reason
    )
    return await _stored_notice(case_id, notice_key)


async def _stored_notice(case_id: str, notice_key: str) -> Notice:
    def load_notice() -> Notice | None:
        with Session(get_engine(), expire_on_commit=False) as s:
            return s.exec(
                select(Notice).where(Notice.case_id == case_id, Notice.notice_key == notice_key)
            ).first()

    notice = await run_in_threadpool(load_notice)
    if notice is None:  # done by the workflow, yet no row: the store is behind
        raise HTTPException(404, f"notice {notice_key!r} of case {case_id} not found")
    return notice
