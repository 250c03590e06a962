"""Notices as the API shows them beyond their row: the proof-of-notice record, a
preview of a notice not yet sent, and the sandbox their HTML is served in.

Used by ``api/routes/notices.py`` (the notices as kept) and
``api/routes/case_notices.py`` (a case's notices before they go out).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import jinja2
from fastapi import HTTPException
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, select

from api.schemas import (
    BodyHash,
    DeemedReceipt,
    EvidenceContract,
    NoticeApproval,
    NoticeEventPublic,
    NoticeEvidence,
    NoticePreview,
)
from contracts.calendar import describe_instant
from contracts.terms import NoticeTerms, TermSheet
from rules.render import NoticeRequest, RenderError, render_notice
from rules.rulebook import default_registry
from store.contracts import contract_terms
from store.models import AuditEntry, Case, Contract, Deadline, Notice, NoticeEvent
from store.notice_events import FAILURES, deemed_receipt

#: The printable pages show the notice's own HTML in a sandboxed frame; nothing on them
#: may run script or load anything from elsewhere.
_HTML_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    "X-Content-Type-Options": "nosniff",
}

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(Path(__file__).resolve().parent / "templates")),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def html_page(html: str) -> HTMLResponse:
    """A notice's HTML (or a page showing it) with headers that let nothing run or load."""
    return HTMLResponse(html, headers=_HTML_HEADERS)


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
        contract=EvidenceContract.model_validate(contract, from_attributes=True)
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


def evidence_page(record: NoticeEvidence, zone: str) -> HTMLResponse:
    """The evidence record as a printable page (print or save as PDF)."""
    return html_page(
        _TEMPLATES.get_template("notice_evidence.html.j2").render(
            r=record, local=lambda at: _local(at, zone) or "", zone=zone, failed=FAILURES
        )
    )


# -- Previews ---------------------------------------------------------------------------


def preview(session: Session, case_id: str, notice: str) -> NoticePreview:
    """A notice of the case's rulebook rendered as it would go out now; stores nothing.

    Raises:
        HTTPException: 404 for an unknown case or a notice its rulebook lacks, 422 when
            the case's current facts cannot render it.
    """
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


def case_notice(session: Session, case_id: str, notice_key: str) -> Notice | None:
    """The stored notice of a case by its key, or None."""
    return session.exec(
        select(Notice).where(Notice.case_id == case_id, Notice.notice_key == notice_key)
    ).first()
