"""Signing in to the console and out of it.

The sign-in form has no session yet, so its CSRF token is a double-submit cookie
(``LOGIN_CSRF_COOKIE``); signing out needs the session's own CSRF token.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from api.access import (
    SESSION_COOKIE,
    TooManySignIns,
    clear_session_cookie,
    end_console_session,
    set_session_cookie,
    start_console_session,
)
from api.console.helpers import LOGIN_CSRF_COOKIE, new_csrf_token, render, safe_next, same_token
from api.console.pages import expired, signed_in, text
from api.deps import in_session
from runtime.settings import get_settings

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)


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
    target = safe_next(text(form, "next"))
    settings = get_settings()
    if not same_token(text(form, "csrf_token"), request.cookies.get(LOGIN_CSRF_COOKIE)):
        return _login_again(target, "The sign-in form expired. Please try again.", 403)
    email, password = text(form, "email").strip(), text(form, "password")
    try:
        started = (
            await in_session(start_console_session, email, password) if email and password else None
        )
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
    principal, name = await signed_in(request)
    form = await request.form()
    if (refusal := expired(principal, name, form)) is not None:
        return refusal
    await in_session(end_console_session, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/console/login", status_code=303)
    clear_session_cookie(response, get_settings())
    return response
