"""Cases: list and read cases, record facts, and the operators' actions on a case.

A case is started under its contract (``api/routes/contract_cases.py``); every action
here is an update of the case's workflow (``api/case_actions.py``) and answers with
the case as it then stands.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Query, Request

from api import case_actions
from api.access import FactRecorder, Operator, Reader
from api.case_detail import case_public, read_case
from api.deps import (
    EscalationId,
    SessionDep,
    SettingsDep,
    TemporalDep,
    get_temporal,
    in_session,
)
from api.ops import CaseFilters, asked_temporal, list_case_rows
from api.pagination import Cursor, Limit, Offset, case_cursor, case_key
from api.schemas import (
    AmendDeadline,
    AmendmentProposed,
    CaseDetail,
    CasePublic,
    CasesPublic,
    CloseCase,
    DecideAmendment,
    FactCreate,
    NoteCreate,
    ReassignOwner,
    ResolveEscalation,
    RetryNow,
)

router = APIRouter(prefix="/api/cases", tags=["cases"])


@router.get("", response_model=CasesPublic)
def list_cases(
    _: Reader,
    session: SessionDep,
    settings: SettingsDep,
    clause: str | None = None,
    state: str | None = None,
    contract_id: str | None = None,
    escalated: bool | None = Query(None, description="Only cases a rule escalated (or not)"),
    stuck: bool | None = Query(
        None,
        description="Only stuck cases (a failing activity, overdue in their state, no first "
        "step taken, could not start), or only the others",
    ),
    within_days: int | None = Query(
        None, ge=0, le=3660, description="Only cases whose next deadline is within N days"
    ),
    limit: Limit = 50,
    offset: Offset = 0,
    cursor: Cursor = None,
) -> CasesPublic:
    """Lists cases, the nearest next deadline first, with the count per state.

    Filters: clause, state, contract, escalated, stuck and "next deadline within N
    days". The per-state counts apply every filter but the state.
    """
    # (This docstring is the operation's published description: the OpenAPI document
    # only grows, so paging is described on ``cursor`` and ``next_cursor``.) Cases are
    # in a total order (next deadline, cases without one last, then id): walking the
    # pages by cursor answers every matching case once, each page read from the
    # cursor's key with no OFFSET; ``offset`` still works, and costs more the deeper.
    now = dt.datetime.now(dt.UTC)
    filters = CaseFilters(clause, state, contract_id, escalated, stuck, within_days)
    after = None if cursor is None else case_key(cursor, offset)
    rows = list_case_rows(session, filters, limit, offset, now, settings, after=after)
    items = [
        CasePublic(**case_public(session, r.case, r.zone, r.stuck_reasons, r.deadlines))
        for r in rows.items
    ]
    last = rows.last_key
    return CasesPublic(
        items=items,
        total=rows.total,
        limit=limit,
        offset=offset,
        counts_by_state=rows.counts_by_state,
        next_cursor=case_cursor(last) if rows.more_after and last is not None else None,
    )


@router.get(
    "/{case_id}",
    response_model=CaseDetail,
    responses={404: {"description": "Unknown case"}},
)
async def get_case(
    _: Reader,
    case_id: str,
    settings: SettingsDep,
    request: Request,
) -> CaseDetail:
    """A case with its deadlines (and how each was computed), notices and timeline.

    ``stuck_reasons`` says why the case is stuck, if it is; ``pending_activities`` is
    what Temporal itself reports about the activities it is running or retrying (the
    attempt count and the last failure's message), or null if Temporal did not answer.
    """
    detail = await read_case(case_id, settings)
    # Connected lazily: the store's answer stands even when Temporal cannot be reached.
    found, _why = await asked_temporal(lambda: get_temporal(request), case_id)
    detail.pending_activities = found
    return detail


_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or an unknown bearer token"},
    403: {"description": "The token's role may not do this"},
    404: {"description": "Unknown case"},
    409: {"description": "The case's workflow refused the action; the message says why"},
    504: {"description": "The case's worker did not answer in time"},
}


@router.post("/{case_id}/facts", response_model=CaseDetail, responses=_REFUSALS)
async def record_fact(
    actor: FactRecorder,
    case_id: str,
    body: FactCreate,
    client: TemporalDep,
    settings: SettingsDep,
) -> CaseDetail:
    """Records a fact in a running case, e.g. a breach cured, a payment received.

    The fact goes to the workflow as an update; its validator and the rules decide
    what follows. Nothing is written behind the workflow's back. The audit trail
    names the token's owner (and ``recorded_by``, when they act for someone else).
    """
    await case_actions.record_fact(
        client, case_id, actor, body.fact, body.values, body.reason, body.recorded_by
    )
    return await read_case(case_id, settings)


@router.post("/{case_id}/retry", response_model=CaseDetail, responses=_REFUSALS)
async def retry_now(
    actor: Operator,
    case_id: str,
    body: RetryNow,
    client: TemporalDep,
    settings: SettingsDep,
) -> CaseDetail:
    """Retries the case's failing activity now, instead of after Temporal's backoff.

    Use it once the cause is fixed (the mail provider is back, a setting corrected).
    """
    await case_actions.retry_now(client, case_id, actor, body.reason)
    return await read_case(case_id, settings)


@router.post(
    "/{case_id}/escalations/{escalation_id}/resolve",
    response_model=CaseDetail,
    responses=_REFUSALS,
)
async def resolve_escalation(
    actor: Operator,
    case_id: str,
    escalation_id: EscalationId,
    body: ResolveEscalation,
    client: TemporalDep,
    settings: SettingsDep,
) -> CaseDetail:
    """Resolves an escalation with a note saying what was done."""
    await case_actions.resolve_escalation(client, case_id, escalation_id, actor, body.note)
    return await read_case(case_id, settings)


@router.post(
    "/{case_id}/deadlines/{deadline}/amendments",
    status_code=201,
    response_model=AmendmentProposed,
    responses=_REFUSALS,
)
async def amend_deadline(
    actor: Operator,
    case_id: str,
    deadline: str,
    body: AmendDeadline,
    client: TemporalDep,
    settings: SettingsDep,
) -> AmendmentProposed:
    """Moves a deadline; by default it moves only when a second person approves.

    The workflow's timer moves with it, and the deadline's explanation records the
    amendment (who, who approved, why, before and after).
    """
    amendment_id = await case_actions.propose_amendment(
        client,
        case_id,
        actor,
        deadline,
        body.due_at,
        body.reason,
        settings.amendment_requires_second_approver,
    )
    return AmendmentProposed(
        amendment_id=amendment_id,
        status="pending" if settings.amendment_requires_second_approver else "applied",
        case=await read_case(case_id, settings),
    )


@router.post(
    "/{case_id}/amendments/{amendment_id}/approve",
    response_model=CaseDetail,
    responses=_REFUSALS,
)
async def approve_amendment(
    actor: Operator,
    case_id: str,
    amendment_id: str,
    body: DecideAmendment,
    client: TemporalDep,
    settings: SettingsDep,
) -> CaseDetail:
    """Approves a proposed amendment (not by its proposer): the deadline moves."""
    await case_actions.decide_amendment(client, case_id, actor, amendment_id, True, body.reason)
    return await read_case(case_id, settings)


@router.post(
    "/{case_id}/amendments/{amendment_id}/reject",
    response_model=CaseDetail,
    responses=_REFUSALS,
)
async def reject_amendment(
    actor: Operator,
    case_id: str,
    amendment_id: str,
    body: DecideAmendment,
    client: TemporalDep,
    settings: SettingsDep,
) -> CaseDetail:
    """Rejects a proposed amendment: the deadline stays where it was."""
    await case_actions.decide_amendment(client, case_id, actor, amendment_id, False, body.reason)
    return await read_case(case_id, settings)


@router.post("/{case_id}/close", response_model=CaseDetail, responses=_REFUSALS)
async def close_case(
    actor: Operator,
    case_id: str,
    body: CloseCase,
    client: TemporalDep,
    settings: SettingsDep,
) -> CaseDetail:
    """Withdraws or cancels a case: its deadlines stop and no more notices go out."""
    await case_actions.close_case(client, case_id, actor, body.outcome, body.reason)
    return await read_case(case_id, settings)


@router.post("/{case_id}/owner", response_model=CaseDetail, responses=_REFUSALS)
async def reassign_owner(
    actor: Operator,
    case_id: str,
    body: ReassignOwner,
    client: TemporalDep,
    settings: SettingsDep,
) -> CaseDetail:
    """Hands the case to another owner; later owner reminders go to them."""
    await case_actions.reassign_owner(client, case_id, actor, body.owner_email, body.reason)
    return await read_case(case_id, settings)


@router.post("/{case_id}/notes", status_code=201, response_model=CaseDetail, responses=_REFUSALS)
async def add_note(
    actor: Operator,
    case_id: str,
    body: NoteCreate,
    settings: SettingsDep,
) -> CaseDetail:
    """Adds a note to the case's timeline."""
    await in_session(case_actions.add_note, case_id, actor, body.note)
    return await read_case(case_id, settings)
