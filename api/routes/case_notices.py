"""A case's notices before they go out: preview one, approve or revise a held one.

* ``GET /api/cases/{case_id}/notices/{notice}/preview`` renders a notice of the case's
  rulebook with the case's current facts, storing and sending nothing.
* ``POST /api/cases/{case_id}/notices/{notice_key}/approve`` releases a notice the
  rulebook holds for approval; ``GET /api/notices?status=awaiting_approval`` lists them.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query

from api import case_actions
from api.access import FactRecorder, Reader
from api.deps import SessionDep, TemporalDep, in_session
from api.notice_views import case_notice, html_page, preview
from api.schemas import NoticeApprove, NoticeApproved, NoticePreview, NoticeRevise
from store.models import Notice

router = APIRouter(prefix="/api/cases/{case_id}/notices", tags=["notices"])


@router.get(
    "/{notice}/preview",
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
    session: SessionDep,
    format: Literal["json", "html"] = Query("json", description="html: the notice's HTML"),
) -> Any:
    """Renders a notice of the case's rulebook as it would go out now; stores and sends nothing.

    Uses the case's current facts, its deadlines and the contract's terms, exactly as
    the workflow would when the rules send it.
    """
    rendered = preview(session, case_id, notice)
    if format == "html":
        return html_page(rendered.body_html)
    return rendered


@router.post(
    "/{notice_key}/approve",
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
    "/{notice_key}/revise",
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
    notice = await in_session(case_notice, case_id, notice_key)
    if notice is None:  # done by the workflow, yet no row: the store is behind
        raise HTTPException(404, f"notice {notice_key!r} of case {case_id} not found")
    return notice
