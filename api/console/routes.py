"""The ops console at /console: sign in, find cases, understand them, act on them.

Every page is plain HTML that reads without JavaScript (links and GET forms); htmx,
served from /static, only swaps the case table in place and posts the action forms
without a full reload. Sign-in gives a session cookie (``api.access``); every form
that changes something carries the session's CSRF token, and every action re-checks
the signed-in user's role before it reaches the case's workflow (``api.case_actions``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlmodel import Session
from starlette.datastructures import FormData

from api import case_actions
from api.access import (
    SESSION_COOKIE,
    Principal,
    TooManySignIns,
    clear_session_cookie,
    console_principal,
    end_console_session,
    set_session_cookie,
    start_console_session,
)
from api.calendar_feeds import create_feed
from api.case_actions import ActionRefused
from api.console import views
from api.console.helpers import (
    LOGIN_CSRF_COOKIE,
    STATIC_DIR,
    local_to_utc,
    login_redirect,
    new_csrf_token,
    render,
    safe_next,
    same_token,
)
from api.deps import get_temporal
from api.ops import CaseFilters, PendingActivity, asked_temporal
from rules.facts import FactsError
from runtime.settings import Settings, get_settings
from store.contracts import time_zone_of
from store.db import get_engine
from store.models import Case, Notice
from store.notice_events import DeemedReceipt, notice_receipt

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)

#: What the case page says after an action went through (the redirect names the key,
#: so nothing a request sends is ever shown back as a message).
FLASH = {
    "retried": "Retry requested: Temporal runs the failing activity again now.",
    "resolved": "Escalation resolved; the note is in the timeline.",
    "fact": "Fact recorded; the rules have decided what follows.",
    "proposed": "Amendment proposed. The deadline moves when a second person approves it.",
    "amended": "Deadline amended; the workflow's timer has moved.",
    "approved": "Amendment approved; the deadline has moved.",
    "rejected": "Amendment rejected; the deadline stays as it was.",
    "closed": "Case closed; its deadlines are cancelled.",
    "reassigned": "Owner reassigned; later reminders go to the new owner.",
    "noted": "Note added to the timeline.",
    "released": "Notice approved; it goes out as it was previewed.",
    "revised": "Notice written again from the corrected facts; it still waits for approval.",
}


def mount_static(app: FastAPI) -> None:
    """Serves api/static at /static: the console's stylesheet, htmx and the API docs' assets."""
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")


# ----------------------------------------------------------------------- who is signed in


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _principal(request: Request) -> tuple[Principal | None, str | None]:
    with Session(get_engine(), expire_on_commit=False) as session:
        principal = console_principal(request, session)
        name = (
            views.display_name(session, principal.id)
            if principal is not None and principal.kind == "user"
            else None
        )
        return principal, name


async def _signed_in(request: Request) -> tuple[Principal, str]:
    """The signed-in user and their display name; a redirect to sign in otherwise."""
    principal, name = await run_in_threadpool(_principal, request)
    if principal is None:
        raise login_redirect(request)
    return principal, name or principal.name


def _page(
    template: str, principal: Principal, name: str, status: int = 200, **context: Any
) -> Response:
    return render(
        template,
        status,
        user={
            "name": name,
            "email": principal.name,
            "role": principal.role.replace("_", " "),
            "csrf_token": principal.csrf_token or "",
        },
        **context,
    )


def _refused(principal: Principal, name: str, message: str, status: int = 403) -> Response:
    return _page("error.html.j2", principal, name, status, title="Not allowed", message=message)


# ----------------------------------------------------------------------------- sign in


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    """The sign-in form; sets the double-submit cookie its CSRF token is checked against."""
    token = new_csrf_token()
    response = render("login.html.j2", next=safe_next(next), csrf_token=token, error=None)
    _set_login_cookie(response, token)
    return response


def _set_login_cookie(response: Response, token: str) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=get_settings().session_cookie_secure,
        path="/console/login",
    )


@router.post("/login")
async def login(request: Request) -> Response:
    """Checks the email and password; on success sets the session cookie and goes on."""
    form = await request.form()
    target = safe_next(_text(form, "next"))
    settings = get_settings()
    if not same_token(_text(form, "csrf_token"), request.cookies.get(LOGIN_CSRF_COOKIE)):
        return _login_again(target, "The sign-in form expired. Please try again.", 403)
    email, password = _text(form, "email").strip(), _text(form, "password")

    def sign_in() -> tuple[str, str] | None:
        with Session(get_engine(), expire_on_commit=False) as session:
            return start_console_session(session, email, password)

    try:
        started = await run_in_threadpool(sign_in) if email and password else None
    except TooManySignIns as exc:
        response = _login_again(target, f"Too many failed sign-ins for {email}: {exc}.", 429, email)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if started is None:
        return _login_again(target, "Wrong email or password.", 401, email)
    cookie, _csrf = started
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, cookie, settings)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console/login")
    return response


def _login_again(target: str, error: str, status: int, email: str = "") -> Response:
    token = new_csrf_token()
    response = render(
        "login.html.j2", status, next=target, csrf_token=token, error=error, email=email
    )
    _set_login_cookie(response, token)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """Ends the session (its CSRF token required) and returns to the sign-in page."""
    principal, name = await _signed_in(request)
    form = await request.form()
    if not same_token(_text(form, "csrf_token"), principal.csrf_token):
        return _refused(principal, name, "The form expired; reload the page and try again.")
    cookie = request.cookies.get(SESSION_COOKIE, "")

    def end() -> None:
        with Session(get_engine()) as session:
            end_console_session(session, cookie)

    await run_in_threadpool(end)
    response = RedirectResponse("/console/login", status_code=303)
    clear_session_cookie(response, get_settings())
    return response


# ---------------------------------------------------------------------------- case list


def _flag(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get((value or "").lower())


def _int(value: str | None, low: int, high: int) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return min(max(number, low), high)


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
) -> Response:
    """The case list: filters, a count per state, nearest deadline first, paginated."""
    principal, name = await _signed_in(request)
    filters = CaseFilters(
        clause=clause or None,
        state=state or None,
        contract_id=contract or None,
        escalated=_flag(escalated),
        stuck=_flag(stuck),
        within_days=_int(within, 0, 3660),
    )
    number = _int(page, 1, 1_000_000) or 1
    now = _now()

    def load() -> views.CaseList:
        with Session(get_engine(), expire_on_commit=False) as session:
            return views.case_list(session, filters, number, now, get_settings())

    listing = await run_in_threadpool(load)
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

    return _page(
        "cases.html.j2",
        principal,
        name,
        title="Cases",
        listing=listing,
        params=params,
        link=link,
        now=now,
        filtered=any(params.values()),
    )


# ---------------------------------------------------------------------------- case page


async def _activities(request: Request, case_id: str) -> tuple[list[PendingActivity], str | None]:
    found, why = await asked_temporal(lambda: get_temporal(request), case_id)
    return found or [], why


async def _case_page(
    request: Request,
    case_id: str,
    principal: Principal,
    name: str,
    status: int = 200,
    error: str | None = None,
    field_errors: list[str] | None = None,
    flash: str | None = None,
) -> Response:
    now = _now()
    settings = get_settings()

    def load() -> views.CasePage | None:
        with Session(get_engine(), expire_on_commit=False) as session:
            return views.case_page(session, case_id, now, settings)

    data = await run_in_threadpool(load)
    if data is None:
        return _page(
            "error.html.j2",
            principal,
            name,
            404,
            title="Not found",
            message=f"There is no case {case_id}.",
        )
    activities, temporal_error = await _activities(request, case_id)
    return _page(
        "case.html.j2",
        principal,
        name,
        status,
        title=data.clause,
        p=data,
        case=data.case,
        now=now,
        activities=activities,
        temporal_error=temporal_error,
        temporal_url=_temporal_url(settings, case_id),
        can_operate=principal.can("operate"),
        can_record=principal.can("operate") or principal.can("manage_cases"),
        second_approver=settings.amendment_requires_second_approver,
        error=error,
        field_errors=field_errors or [],
        flash=flash,
    )


def _temporal_url(settings: Settings, case_id: str) -> str:
    return (
        f"{settings.temporal_ui_url.rstrip('/')}/namespaces/"
        f"{quote(settings.temporal_namespace, safe='')}/workflows/{quote(case_id, safe='')}"
    )


@router.get("/cases/{case_id}")
async def case_page(request: Request, case_id: str, flash: str | None = None) -> Response:
    """A case: its state in plain words, why it is stuck or escalated, deadlines, timeline."""
    principal, name = await _signed_in(request)
    return await _case_page(request, case_id, principal, name, flash=FLASH.get(flash or ""))


# ----------------------------------------------------------------------------- actions


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


def _fields(form: FormData, prefix: str) -> dict[str, str]:
    """The form's non-empty ``<prefix><name>`` fields, by name."""
    return {
        key[len(prefix) :]: value
        for key in form
        if key.startswith(prefix) and (value := _text(form, key).strip())
    }


Action = Callable[[Principal, FormData], Awaitable[str]]


async def _act(
    request: Request, case_id: str, permissions: tuple[str, ...], run: Action
) -> Response:
    """Checks the session, its CSRF token and the role, runs the action, answers.

    Success is a 303 back to the case page with a message; a refusal shows the case
    page again with the reason, and the case is unchanged.
    """
    response = await _answer(request, case_id, permissions, run)
    if request.headers.get("HX-Request") and response.status_code != 303:
        # htmx shows the refusal in place; the address bar must not become the POST URL.
        response.headers["HX-Push-Url"] = "false"
    return response


async def _answer(
    request: Request, case_id: str, permissions: tuple[str, ...], run: Action
) -> Response:
    principal, name = await _signed_in(request)
    form = await request.form()
    if not same_token(_text(form, "csrf_token"), principal.csrf_token):
        return _refused(principal, name, "The form expired; reload the page and try again.")
    if not any(principal.can(p) for p in permissions):
        return _refused(
            principal,
            name,
            f"Your role ({principal.role.replace('_', ' ')}) may not do this; "
            f"it needs {' or '.join(p.replace('_', ' ') for p in permissions)}.",
        )
    try:
        flash = await run(principal, form)
    except FactsError as exc:
        return await _case_page(
            request,
            case_id,
            principal,
            name,
            422,
            error="The fact was not recorded:",
            field_errors=[f"{e.field}: {e.message}" for e in exc.errors],
        )
    except ActionRefused as exc:
        return await _case_page(request, case_id, principal, name, exc.status_code, exc.message)
    except HTTPException as exc:
        return await _case_page(request, case_id, principal, name, exc.status_code, str(exc.detail))
    except ValueError as exc:
        return await _case_page(request, case_id, principal, name, 422, str(exc))
    return RedirectResponse(f"/console/cases/{quote(case_id)}?flash={flash}", status_code=303)


def _required(form: FormData, key: str, what: str) -> str:
    value = _text(form, key).strip()
    if not value:
        raise ActionRefused(f"{what} is required: say why, for the audit trail", 422)
    return value


@router.post("/cases/{case_id}/retry")
async def retry(request: Request, case_id: str) -> Response:
    """Retries the case's failing activity now."""

    async def run(actor: Principal, form: FormData) -> str:
        client = await get_temporal(request)
        await case_actions.retry_now(client, case_id, actor, _required(form, "reason", "A reason"))
        return "retried"

    return await _act(request, case_id, ("operate",), run)


@router.post("/cases/{case_id}/escalations/{escalation_id}/resolve")
async def resolve(request: Request, case_id: str, escalation_id: int) -> Response:
    """Resolves one open escalation with the operator's note."""

    async def run(actor: Principal, form: FormData) -> str:
        client = await get_temporal(request)
        note = _required(form, "note", "A note")
        await case_actions.resolve_escalation(client, case_id, escalation_id, actor, note)
        return "resolved"

    return await _act(request, case_id, ("operate",), run)


@router.post("/cases/{case_id}/facts")
async def record_fact(request: Request, case_id: str) -> Response:
    """Records one of the rulebook's recordable facts with its fields."""

    async def run(actor: Principal, form: FormData) -> str:
        client = await get_temporal(request)
        fact = _text(form, "fact")
        reason = _required(form, "reason", "A reason")
        # Text as typed: the rulebook's types parse it.
        values: dict[str, Any] = _fields(form, f"{fact}.")
        await case_actions.record_fact(client, case_id, actor, fact, values, reason)
        return "fact"

    return await _act(request, case_id, ("operate", "manage_cases"), run)


@router.post("/cases/{case_id}/notices/{notice_key}/approve")
async def approve_notice(request: Request, case_id: str, notice_key: str) -> Response:
    """Releases a notice the rulebook held for approval."""

    async def run(actor: Principal, form: FormData) -> str:
        client = await get_temporal(request)
        reason = _required(form, "reason", "A reason")
        await case_actions.approve_notice(client, case_id, actor, notice_key, None, reason)
        return "released"

    return await _act(request, case_id, ("operate", "manage_cases"), run)


@router.post("/cases/{case_id}/notices/{notice_key}/revise")
async def revise_held_notice(request: Request, case_id: str, notice_key: str) -> Response:
    """Corrects the facts a held notice was written from (only changed values count)."""

    async def run(actor: Principal, form: FormData) -> str:
        client = await get_temporal(request)
        reason = _required(form, "reason", "A reason")
        values = _fields(form, "fact.")
        await case_actions.revise_held_notice(client, case_id, actor, notice_key, values, reason)
        return "revised"

    return await _act(request, case_id, ("operate", "manage_cases"), run)


def _contract_zone(case_id: str) -> str:
    with Session(get_engine()) as session:
        case = session.get(Case, case_id)
        if case is None:
            raise ActionRefused(f"case {case_id!r} not found", 404)
        return time_zone_of(session, case.contract_id)


@router.post("/cases/{case_id}/amendments")
async def propose_amendment(request: Request, case_id: str) -> Response:
    """Proposes a new due time for a deadline, given in the contract's time zone."""

    async def run(actor: Principal, form: FormData) -> str:
        client = await get_temporal(request)
        reason = _required(form, "reason", "A reason")
        try:
            day = dt.date.fromisoformat(_text(form, "date"))
            wall = dt.time.fromisoformat(_text(form, "time") or "23:59")
        except ValueError as exc:
            raise ActionRefused(
                "give the new due date as YYYY-MM-DD and time as HH:MM", 422
            ) from exc
        zone = await run_in_threadpool(_contract_zone, case_id)
        settings = get_settings()
        await case_actions.propose_amendment(
            client,
            case_id,
            actor,
            _text(form, "deadline"),
            local_to_utc(day, wall, zone),
            reason,
            second_approver_required=settings.amendment_requires_second_approver,
        )
        return "proposed" if settings.amendment_requires_second_approver else "amended"

    return await _act(request, case_id, ("operate",), run)


@router.post("/cases/{case_id}/amendments/{amendment_id}/decide")
async def decide_amendment(request: Request, case_id: str, amendment_id: str) -> Response:
    """Approves or rejects a proposed amendment (the workflow refuses the proposer)."""

    async def run(actor: Principal, form: FormData) -> str:
        client = await get_temporal(request)
        decision = _text(form, "decision")
        if decision not in ("approve", "reject"):
            raise ActionRefused("choose approve or reject", 422)
        reason = _required(form, "reason", "A reason")
        approve = decision == "approve"
        await case_actions.decide_amendment(client, case_id, actor, amendment_id, approve, reason)
        return "approved" if approve else "rejected"

    return await _act(request, case_id, ("operate",), run)


@router.post("/cases/{case_id}/close")
async def close_case(request: Request, case_id: str) -> Response:
    """Withdraws or cancels the case."""

    async def run(actor: Principal, form: FormData) -> str:
        client = await get_temporal(request)
        outcome = _text(form, "outcome")
        if outcome not in ("withdrawn", "cancelled"):
            raise ActionRefused("choose withdrawn or cancelled", 422)
        reason = _required(form, "reason", "A reason")
        await case_actions.close_case(client, case_id, actor, outcome, reason)  # type: ignore[arg-type]
        return "closed"

    return await _act(request, case_id, ("operate",), run)


@router.post("/cases/{case_id}/owner")
async def reassign(request: Request, case_id: str) -> Response:
    """Hands the case to another owner."""

    async def run(actor: Principal, form: FormData) -> str:
        client = await get_temporal(request)
        reason = _required(form, "reason", "A reason")
        await case_actions.reassign_owner(
            client, case_id, actor, _text(form, "owner_email"), reason
        )
        return "reassigned"

    return await _act(request, case_id, ("operate",), run)


@router.post("/cases/{case_id}/notes")
async def add_note(request: Request, case_id: str) -> Response:
    """Adds a note to the case's timeline."""

    async def run(actor: Principal, form: FormData) -> str:
        note = _required(form, "note", "A note")

        def write() -> None:
            with Session(get_engine()) as session:
                case_actions.add_note(session, case_id, actor, note)

        await run_in_threadpool(write)
        return "noted"

    return await _act(request, case_id, ("operate",), run)


# ------------------------------------------------------------------------------ notices


@router.get("/notices/{notice_id}")
async def notice_page(request: Request, notice_id: str) -> Response:
    """A notice as it was sent: subject, recipients, text and its HTML in a sandbox."""
    principal, name = await _signed_in(request)

    def load() -> tuple[Notice | None, str, DeemedReceipt | None]:
        with Session(get_engine(), expire_on_commit=False) as session:
            notice = session.get(Notice, notice_id)
            if notice is None:
                return None, "UTC", None
            data = views.case_page(session, notice.case_id, _now(), get_settings())
            # The evidence record's own words, so the page and the record agree.
            receipt = notice_receipt(session, notice)
            return notice, data.zone if data else "UTC", receipt

    notice, zone, receipt = await run_in_threadpool(load)
    if notice is None:
        return _page(
            "error.html.j2",
            principal,
            name,
            404,
            title="Not found",
            message=f"There is no notice {notice_id}.",
        )
    return _page(
        "notice.html.j2",
        principal,
        name,
        title=notice.subject,
        n=notice,
        zone=zone,
        receipt=receipt,
    )


# ---------------------------------------------------------------------------- contracts


@router.get("/contracts/{contract_id}")
async def contract_page(request: Request, contract_id: str, page: str | None = None) -> Response:
    """A contract: its cases and its calendar feed."""
    principal, name = await _signed_in(request)
    return await _contract_page(
        request, contract_id, principal, name, _int(page, 1, 1_000_000) or 1
    )


async def _contract_page(
    request: Request,
    contract_id: str,
    principal: Principal,
    name: str,
    page: int = 1,
    feed_url: str | None = None,
    status: int = 200,
) -> Response:
    now = _now()

    def load() -> views.ContractPage | None:
        with Session(get_engine(), expire_on_commit=False) as session:
            return views.contract_page(session, contract_id, page, now, get_settings())

    data = await run_in_threadpool(load)
    if data is None:
        return _page(
            "error.html.j2",
            principal,
            name,
            404,
            title="Not found",
            message=f"There is no contract {contract_id}.",
        )

    def link(**change: Any) -> str:
        query = urlencode({k: str(v) for k, v in change.items()})
        return f"/console/contracts/{quote(contract_id)}" + (f"?{query}" if query else "")

    return _page(
        "contract.html.j2",
        principal,
        name,
        status,
        title=data.contract.title,
        c=data,
        listing=data.cases,
        link=link,
        now=now,
        feed_url=feed_url,
        can_manage=principal.can("manage_cases"),
    )


@router.post("/contracts/{contract_id}/calendar-feed")
async def rotate_feed(request: Request, contract_id: str) -> Response:
    """Creates (or replaces) the contract's calendar feed and shows its URL once."""
    principal, name = await _signed_in(request)
    form = await request.form()
    if not same_token(_text(form, "csrf_token"), principal.csrf_token):
        return _refused(principal, name, "The form expired; reload the page and try again.")
    if not principal.can("manage_cases"):
        return _refused(
            principal,
            name,
            f"Your role ({principal.role.replace('_', ' ')}) may not create calendar feeds.",
        )

    def create() -> str | None:
        with Session(get_engine(), expire_on_commit=False) as session:
            made = create_feed(session, contract_id, principal, get_settings())
            return made[1] if made else None

    url = await run_in_threadpool(create)
    return await _contract_page(request, contract_id, principal, name, feed_url=url)
