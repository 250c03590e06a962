"""The console's actions on a case: forms posted from the case page.

Each re-checks the session, its CSRF token and the signed-in user's role, then goes
through ``api.case_actions``, as the REST API's actions do. Success is a 303 back to
the case page with a message; a refusal shows the case page again with the reason,
and the case is unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile

from api import case_actions
from api.access import Principal
from api.case_actions import ActionRefused
from api.console.helpers import local_to_utc
from api.console.pages import expired, fields, refused, show_case, signed_in, text
from api.deps import EscalationId, get_temporal, in_session
from rules.facts import FactsError
from runtime.settings import get_settings
from store.contracts import time_zone_of
from store.models import Case

router = APIRouter(prefix="/console/cases/{case_id}", tags=["console"], include_in_schema=False)

Action = Callable[[Principal, FormData], Awaitable[str]]


async def _act(
    request: Request, case_id: str, permissions: tuple[str, ...], run: Action
) -> Response:
    """Checks the session, its CSRF token and the role, runs the action, answers."""
    response = await _answer(request, case_id, permissions, run)
    if request.headers.get("HX-Request") and response.status_code != 303:
        # htmx shows the refusal in place; the address bar must not become the POST URL.
        response.headers["HX-Push-Url"] = "false"
    return response


async def _answer(
    request: Request, case_id: str, permissions: tuple[str, ...], run: Action
) -> Response:
    principal, name = await signed_in(request)
    form = await request.form()
    if (refusal := expired(principal, name, form)) is not None:
        return refusal
    if not any(principal.can(p) for p in permissions):
        return refused(
            principal,
            name,
            f"Your role ({principal.role.replace('_', ' ')}) may not do this; "
            f"it needs {' or '.join(p.replace('_', ' ') for p in permissions)}.",
        )
    try:
        flash = await run(principal, form)
    except FactsError as exc:
        return await show_case(
            request,
            case_id,
            principal,
            name,
            422,
            error="The fact was not recorded:",
            field_errors=[f"{e.field}: {e.message}" for e in exc.errors],
        )
    except ActionRefused as exc:
        return await show_case(request, case_id, principal, name, exc.status_code, exc.message)
    except HTTPException as exc:
        return await show_case(request, case_id, principal, name, exc.status_code, str(exc.detail))
    except ValueError as exc:
        return await show_case(request, case_id, principal, name, 422, str(exc))
    return RedirectResponse(f"/console/cases/{quote(case_id)}?flash={flash}", status_code=303)


def _required(form: FormData, key: str, what: str) -> str:
    value = text(form, key).strip()
    if not value:
        raise ActionRefused(f"{what} is required: say why, for the audit trail", 422)
    return value


def _reason(form: FormData) -> str:
    return _required(form, "reason", "A reason")


@router.post("/retry")
async def retry(request: Request, case_id: str) -> Response:
    """Retries the case's failing activity now."""

    async def run(actor: Principal, form: FormData) -> str:
        client = await get_temporal(request)
        await case_actions.retry_now(client, case_id, actor, _reason(form))
        return "retried"

    return await _act(request, case_id, ("operate",), run)


@router.post("/escalations/{escalation_id}/resolve")
async def resolve(request: Request, case_id: str, escalation_id: EscalationId) -> Response:
    """Resolves one open escalation with the operator's note."""

    async def run(actor: Principal, form: FormData) -> str:
        client = await get_temporal(request)
        note = _required(form, "note", "A note")
        await case_actions.resolve_escalation(client, case_id, escalation_id, actor, note)
        return "resolved"

    return await _act(request, case_id, ("operate",), run)


@router.post("/facts")
async def record_fact(request: Request, case_id: str) -> Response:
    """Records one of the rulebook's recordable facts with its fields."""

    async def run(actor: Principal, form: FormData) -> str:
        client = await get_temporal(request)
        fact = text(form, "fact")
        reason = _reason(form)
        # Text as typed: the rulebook's types parse it.
        values: dict[str, Any] = fields(form, f"{fact}.")
        # A received notice's text may come as a file instead of typed (its evidence).
        for key in [k for k in form if k.startswith(f"{fact}.") and k.endswith(".file")]:
            name = key[len(fact) + 1 : -len(".file")]
            uploaded = await uploaded_text(form.get(key), name)
            if uploaded and not values.get(name):
                values[name] = uploaded
        await case_actions.record_fact(client, case_id, actor, fact, values, reason)
        return "fact"

    return await _act(request, case_id, ("operate", "manage_cases"), run)


#: The largest text file a person may upload as a received notice's text.
UPLOAD_LIMIT = 200_000


async def uploaded_text(value: Any, field: str) -> str:
    """An uploaded file's text (UTF-8), or "" when none was chosen.

    Raises:
        ActionRefused: the file is too large or not text, naming the field.
    """
    if not isinstance(value, UploadFile) or not value.filename:
        return ""
    data = await value.read(UPLOAD_LIMIT + 1)
    if len(data) > UPLOAD_LIMIT:
        raise ActionRefused(
            f"{field}: the file is larger than {UPLOAD_LIMIT // 1000} kB; paste its text instead",
            422,
        )
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise ActionRefused(
            f"{field}: the file is not plain text (UTF-8); paste its text instead", 422
        ) from exc


@router.post("/notices/{notice_key}/approve")
async def approve_notice(request: Request, case_id: str, notice_key: str) -> Response:
    """Releases a notice the rulebook held for approval."""

    async def run(actor: Principal, form: FormData) -> str:
        client = await get_temporal(request)
        reason = _reason(form)
        await case_actions.approve_notice(client, case_id, actor, notice_key, None, reason)
        return "released"

    return await _act(request, case_id, ("operate", "manage_cases"), run)


@router.post("/notices/{notice_key}/revise")
async def revise_held_notice(request: Request, case_id: str, notice_key: str) -> Response:
    """Corrects the facts a held notice was written from (only changed values count)."""

    async def run(actor: Principal, form: FormData) -> str:
        client = await get_temporal(request)
        reason = _reason(form)
        await case_actions.revise_held_notice(
            client, case_id, actor, notice_key, fields(form, "fact."), reason
        )
        return "revised"

    return await _act(request, case_id, ("operate", "manage_cases"), run)


def _contract_zone(session: Session, case_id: str) -> str:
    case = session.get(Case, case_id)
    if case is None:
        raise ActionRefused(f"case {case_id!r} not found", 404)
    return time_zone_of(session, case.contract_id)


@router.post("/amendments")
async def propose_amendment(request: Request, case_id: str) -> Response:
    """Proposes a new due time for a deadline, given in the contract's time zone."""

    async def run(actor: Principal, form: FormData) -> str:
        client = await get_temporal(request)
        reason = _reason(form)
        try:
            day = dt.date.fromisoformat(text(form, "date"))
            wall = dt.time.fromisoformat(text(form, "time") or "23:59")
        except ValueError as exc:
            raise ActionRefused(
                "give the new due date as YYYY-MM-DD and time as HH:MM", 422
            ) from exc
        zone = await in_session(_contract_zone, case_id)
        settings = get_settings()
        await case_actions.propose_amendment(
            client,
            case_id,
            actor,
            text(form, "deadline"),
            local_to_utc(day, wall, zone),
            reason,
            second_approver_required=settings.amendment_requires_second_approver,
        )
        return "proposed" if settings.amendment_requires_second_approver else "amended"

    return await _act(request, case_id, ("operate",), run)


@router.post("/amendments/{amendment_id}/decide")
async def decide_amendment(request: Request, case_id: str, amendment_id: str) -> Response:
    """Approves or rejects a proposed amendment (the workflow refuses the proposer)."""

    async def run(actor: Principal, form: FormData) -> str:
        client = await get_temporal(request)
        decision = text(form, "decision")
        if decision not in ("approve", "reject"):
            raise ActionRefused("choose approve or reject", 422)
        reason = _reason(form)
        approve = decision == "approve"
        await case_actions.decide_amendment(client, case_id, actor, amendment_id, approve, reason)
        return "approved" if approve else "rejected"

    return await _act(request, case_id, ("operate",), run)


@router.post("/close")
async def close_case(request: Request, case_id: str) -> Response:
    """Withdraws or cancels the case."""

    async def run(actor: Principal, form: FormData) -> str:
        client = await get_temporal(request)
        outcome = text(form, "outcome")
        if outcome not in ("withdrawn", "cancelled"):
            raise ActionRefused("choose withdrawn or cancelled", 422)
        reason = _reason(form)
        await case_actions.close_case(client, case_id, actor, outcome, reason)  # type: ignore[arg-type]
        return "closed"

    return await _act(request, case_id, ("operate",), run)


@router.post("/owner")
async def reassign(request: Request, case_id: str) -> Response:
    """Hands the case to another owner."""

    async def run(actor: Principal, form: FormData) -> str:
        client = await get_temporal(request)
        reason = _reason(form)
        await case_actions.reassign_owner(client, case_id, actor, text(form, "owner_email"), reason)
        return "reassigned"

    return await _act(request, case_id, ("operate",), run)


@router.post("/notes")
async def add_note(request: Request, case_id: str) -> Response:
    """Adds a note to the case's timeline."""

    async def run(actor: Principal, form: FormData) -> str:
        note = _required(form, "note", "A note")
        await in_session(case_actions.add_note, case_id, actor, note)
        return "noted"

    return await _act(request, case_id, ("operate",), run)
