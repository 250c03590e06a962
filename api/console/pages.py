"""How a console page is answered: who is signed in, the page around the content,
refusals, the forms' fields, and the case page, which the case's actions show again.

Every route module of the console (``sign_in``, ``cases``, ``actions``, ``contracts``)
draws its pages through here; the data each page shows is ``api/console/views.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import FormData

from api.access import Principal, console_principal
from api.case_detail import temporal_url
from api.console import views
from api.console.helpers import login_redirect, render, same_token
from api.deps import get_temporal, in_session
from api.ops import CaseKey, asked_temporal
from api.pagination import case_key
from runtime.settings import get_settings

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
    "started": "Case started: the rules have set its deadlines and decided its first notices.",
    "registered": "Contract registered: its term and monthly review have started.",
    "accepted": "Contract registered from the agreement's text: its term and monthly review "
    "have started, and where each value came from is kept with its term sheet.",
    "already_accepted": "This agreement was accepted already: this is the contract it registered.",
}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# ----------------------------------------------------------------------- who is signed in


def _principal(session: Session, request: Request) -> tuple[Principal | None, str | None]:
    principal = console_principal(request, session)
    name = (
        views.display_name(session, principal.id)
        if principal is not None and principal.kind == "user"
        else None
    )
    return principal, name


async def signed_in(request: Request) -> tuple[Principal, str]:
    """The signed-in user and their display name; a redirect to sign in otherwise."""
    principal, name = await in_session(_principal, request)
    if principal is None:
        raise login_redirect(request)
    return principal, name or principal.name


# -------------------------------------------------------------------------------- pages


def user_page(
    template: str, principal: Principal, name: str, status: int = 200, **context: Any
) -> Response:
    """A console page for the signed-in user (the header names them)."""
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


def refused(principal: Principal, name: str, message: str, status: int = 403) -> Response:
    return user_page("error.html.j2", principal, name, status, title="Not allowed", message=message)


def not_found(principal: Principal, name: str, what: str) -> Response:
    """The 404 page: "There is no <what>."."""
    return user_page(
        "error.html.j2", principal, name, 404, title="Not found", message=f"There is no {what}."
    )


# -------------------------------------------------------------------------------- forms


def text(form: FormData, key: str) -> str:
    """A form field's text; empty when missing or a file."""
    value = form.get(key)
    return value if isinstance(value, str) else ""


def fields(form: FormData, prefix: str) -> dict[str, str]:
    """The form's non-empty ``<prefix><name>`` fields, by name."""
    return {
        key[len(prefix) :]: value
        for key in form
        if key.startswith(prefix) and (value := text(form, key).strip())
    }


def expired(principal: Principal, name: str, form: FormData) -> Response | None:
    """The refusal of a form whose CSRF token is not the session's; None if it is."""
    if same_token(text(form, "csrf_token"), principal.csrf_token):
        return None
    return refused(principal, name, "The form expired; reload the page and try again.")


def page_cursors(cursor: str | None, before: str | None) -> tuple[CaseKey | None, CaseKey | None]:
    """The cases a list link's cursors name: the page starts after the first, or ends
    before the second (None: no such cursor).

    Raises:
        RequestValidationError: a cursor no page gave (naming its parameter).
    """
    after = case_key(cursor) if cursor else None
    until = case_key(before, name="before") if before and after is None else None
    return after, until


def bad_cursor(principal: Principal, name: str, exc: RequestValidationError) -> Response:
    """The 422 page of a list link whose cursor no page gave."""
    field = exc.errors()[0]["loc"][-1]
    return user_page(
        "error.html.j2",
        principal,
        name,
        422,
        title="Not a page of this list",
        message=f"The link's {field} does not name a place in the list: it may have been "
        "cut short or edited. Start again from the first page.",
    )


def number(value: str | None, low: int, high: int) -> int | None:
    """A query parameter as a whole number within [low, high]; None if it is not one."""
    try:
        found = int(value or "")
    except ValueError:
        return None
    return min(max(found, low), high)


# ---------------------------------------------------------------------------- case page


async def show_case(
    request: Request,
    case_id: str,
    principal: Principal,
    name: str,
    status: int = 200,
    error: str | None = None,
    field_errors: list[str] | None = None,
    flash: str | None = None,
) -> Response:
    """The case page: what the store knows, and what Temporal says it is running."""
    at = now()
    settings = get_settings()
    data = await in_session(views.case_page, case_id, at, settings)
    if data is None:
        return not_found(principal, name, f"case {case_id}")
    activities, temporal_error = await asked_temporal(lambda: get_temporal(request), case_id)
    return user_page(
        "case.html.j2",
        principal,
        name,
        status,
        title=data.clause,
        p=data,
        case=data.case,
        now=at,
        activities=activities or [],
        temporal_error=temporal_error,
        temporal_url=temporal_url(
            settings.temporal_ui_url, settings.temporal_namespace, case_id, safe=""
        ),
        can_operate=principal.can("operate"),
        can_record=principal.can("operate") or principal.can("manage_cases"),
        second_approver=settings.amendment_requires_second_approver,
        error=error,
        field_errors=field_errors or [],
        flash=flash,
    )
