"""Who may do what: bearer tokens and console sessions, roles and permissions.

Every API route depends on ``require(...)`` (usually through the ``Reader``,
``Manager``, ``Operator``, ``FactRecorder`` or ``Admin`` aliases), the API's docs
included, except health, the SendGrid webhook and the codec endpoint (each has its own
signature or token), the console's sign-in page, static files and calendar feeds (a
secret URL).

A request authenticates with ``Authorization: Bearer <token>`` (an API token, see
``store/auth.py``) or with the console's session cookie. A cookie is sent by the
browser on its own, so a cookie-authenticated request that changes something must also
carry the session's CSRF token, as the form field ``csrf_token`` or the header
``X-CSRF-Token``; a bearer token cannot be sent by another site, so it needs none.

Refusals happen in the dependency, before the route's own code runs: a request without
the needed role gets its 403 and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from runtime.settings import Settings, get_settings
from store.auth import (
    ROLES,
    burn_verification_time,
    create_console_session,
    find_console_session,
    find_token,
    find_user_by_email,
    hash_password,
    lesser_role,
    normalise_email,
    password_needs_rehash,
    revoke_console_session,
    secret_hash,
    touch_token,
    verify_password,
)
from store.db import get_engine
from store.models import AuditEntry, User

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "PERMISSIONS",
    "ROLES",
    "SESSION_COOKIE",
    "Admin",
    "FactRecorder",
    "Manager",
    "Operator",
    "Principal",
    "Reader",
    "clear_session_cookie",
    "console_principal",
    "end_console_session",
    "require",
    "set_session_cookie",
    "start_console_session",
]

log = logging.getLogger(__name__)

SESSION_COOKIE = "clauseflow_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"

#: Which roles hold each permission.
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "read": ("viewer", "contract_manager", "operator", "admin"),
    # Register contracts, open cases, record facts, what-if, downtime, maintenance
    # windows, approve held notices, create calendar feeds.
    "manage_cases": ("contract_manager", "admin"),
    # The console's actions: retry, resolve, amend, close, reassign, notes, approvals.
    "operate": ("operator", "admin"),
    # Users and tokens.
    "admin": ("admin",),
}

#: Methods that change nothing, so a cookie may authenticate them without a CSRF token.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


#: Audit entries keep at most this many characters of who acted (AuditEntry.actor).
_MAX_ACTOR = 200


@dataclass(frozen=True)
class Principal:
    """Who is acting: a console user or an API token.

    ``name`` is what audit entries record as the actor: the user's email; for a token
    of a user, the email and the token (``alice@example.com (token ci-bot)``); for a
    token with no user, ``token:<name>``. ``user_id`` is the user the credential acts
    as (the signed-in user, or the token's user); ``issued_by`` the user who made a
    token with no user (None when the command line made it).
    """

    kind: Literal["user", "token"]
    id: str
    name: str
    role: str
    via_session: bool = False
    csrf_token: str | None = None
    user_id: str | None = None
    issued_by: str | None = None

    @property
    def acts_as_user(self) -> str | None:
        """The user this credential acts as; None for a token with no user."""
        return self.user_id or (self.id if self.kind == "user" else None)

    @property
    def person(self) -> str:
        """Who is behind the credential, for the four-eyes rule: ``user:<id>``.

        Every credential of one user is that one person. A token with no user stands
        for whoever issued it (they hold its secret too), or only for itself when the
        command line made it.
        """
        user = self.acts_as_user or self.issued_by
        return f"user:{user}" if user else f"token:{self.id}"

    def can(self, permission: str) -> bool:
        """Whether this principal's role holds ``permission``."""
        return self.role in PERMISSIONS.get(permission, ())

    @property
    def permissions(self) -> list[str]:
        """Every permission the role holds."""
        return [p for p, roles in PERMISSIONS.items() if self.role in roles]


# Declared so that OpenAPI (and /docs' "Authorize") shows the scheme; auto_error is off
# because a missing header may still be a console session.
bearer_credentials = HTTPBearer(
    auto_error=False,
    scheme_name="bearerToken",
    description="An API token (`cf_...`): `clauseflow token create` or POST /api/tokens",
)

_UNAUTHENTICATED = "a bearer token is required: send Authorization: Bearer <token>"

#: How long a token's last successful check may stand in for the store when the store
#: does not answer, for reads only: so that /metrics still reports ``clauseflow_store_up
#: 0`` to the scraper during an outage. Writes need the store anyway.
STORE_DOWN_GRACE_SECONDS = 300.0
_MAX_REMEMBERED = 1000
#: token hash -> (principal, monotonic time of its last successful check)
_recently_verified: dict[str, tuple[Principal, float]] = {}


class _StoreDown(Exception):
    """The store could not be asked about the credentials."""


def _remember(digest: str, principal: Principal) -> None:
    if len(_recently_verified) >= _MAX_REMEMBERED:
        _recently_verified.clear()  # rare; the next requests re-fill it from the store
    _recently_verified[digest] = (principal, time.monotonic())


def _remembered(digest: str) -> Principal | None:
    found = _recently_verified.get(digest)
    if found is None or time.monotonic() - found[1] > STORE_DOWN_GRACE_SECONDS:
        return None
    return found[0]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def _token_principal(plaintext: str) -> Principal | str:
    """The token's principal, or why it is refused.

    Raises:
        _StoreDown: the store did not answer.
    """
    try:
        return _check_token(plaintext)
    except SQLAlchemyError as exc:
        raise _StoreDown(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc


def _check_token(plaintext: str) -> Principal | str:
    with Session(get_engine(), expire_on_commit=False) as session:
        token = find_token(session, plaintext)
        if token is None:
            return "the bearer token is not valid (unknown or revoked)"
        role, name = token.role, f"token:{token.name}"
        if token.user_id is not None:
            user = session.get(User, token.user_id)
            if user is None or not user.active:
                return "the bearer token belongs to a deactivated user"
            # A user's token never acts above the user's current role.
            role = lesser_role(role, user.role)
            # It acts as the user: the audit trail names them, and the token.
            name = f"{user.email} (token {token.name})"
        principal = Principal(
            kind="token",
            id=token.id,
            name=name[:_MAX_ACTOR],
            role=role,
            user_id=token.user_id,
            issued_by=token.issued_by_user_id if token.user_id is None else None,
        )
        try:
            if touch_token(session, token):
                session.commit()
        except Exception:  # last_used_at is a hint; a busy database must not refuse the call
            session.rollback()
            log.warning("could not record the use of token %s", token.id, exc_info=True)
        return principal


def console_principal(request: Request, session: Session) -> Principal | None:
    """The signed-in console user of this request's session cookie.

    Returns:
        None when there is no cookie, or its session is unknown, expired or ended, or
        its user has been deactivated.
    """
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    found = find_console_session(session, cookie)
    if found is None:
        return None
    row, user = found
    return Principal(
        kind="user",
        id=user.id,
        name=user.email[:_MAX_ACTOR],
        role=user.role,
        via_session=True,
        csrf_token=row.csrf_token,
        user_id=user.id,
    )


def _session_principal(request: Request) -> Principal | None:
    with Session(get_engine()) as session:
        return console_principal(request, session)


async def authenticate(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    """The request's principal: from the bearer token, else from the session cookie.

    Raises:
        HTTPException: 401 (``WWW-Authenticate: Bearer``) without valid credentials.
    """
    if request.headers.get("authorization"):
        # A bad Authorization header is refused even if a cookie came along: the caller
        # meant to use the token.
        if credentials is None or not credentials.credentials:
            raise _unauthorized("the Authorization header must be: Bearer <token>")
        plaintext = credentials.credentials.strip()
        try:
            found = await run_in_threadpool(_token_principal, plaintext)
        except _StoreDown as exc:
            remembered = _remembered(secret_hash(plaintext))
            if remembered is not None and request.method in SAFE_METHODS:
                return remembered
            raise HTTPException(
                503, "the store is unavailable, so credentials cannot be checked"
            ) from exc
        if isinstance(found, str):
            _recently_verified.pop(secret_hash(plaintext), None)
            raise _unauthorized(found)
        _remember(secret_hash(plaintext), found)
        return found
    if request.cookies.get(SESSION_COOKIE):
        try:
            principal = await run_in_threadpool(_session_principal, request)
        except SQLAlchemyError as exc:
            raise HTTPException(
                503, "the store is unavailable, so the session cannot be checked"
            ) from exc
        if principal is None:
            raise _unauthorized("the console session has expired or was ended: sign in again")
        return principal
    raise _unauthorized(_UNAUTHENTICATED)


async def check_csrf(request: Request, principal: Principal) -> None:
    """Refuses (403) a cookie-authenticated unsafe request without the session's CSRF token.

    Bearer-token requests and GET/HEAD/OPTIONS pass unchecked.
    """
    if not principal.via_session or request.method in SAFE_METHODS:
        return
    given: Any = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if not given and content_type.startswith(_FORM_TYPES):
        given = (await request.form()).get(CSRF_FIELD)
    expected = principal.csrf_token or ""
    if not isinstance(given, str) or not expected or not hmac.compare_digest(given, expected):
        raise HTTPException(
            403,
            f"the CSRF token is missing or wrong: a form must send the field {CSRF_FIELD!r} "
            f"(or the header {CSRF_HEADER}) of the signed-in session",
        )


def _refusal(principal: Principal, permissions: tuple[str, ...]) -> str:
    allowed = sorted({r for p in permissions for r in PERMISSIONS[p]}, key=ROLES.index)
    return (
        f"role {principal.role} may not {' or '.join(permissions)} "
        f"(roles that may: {', '.join(allowed)})"
    )


@functools.cache
def require(*permissions: str) -> Callable[..., Awaitable[Principal]]:
    """A FastAPI dependency that admits a principal holding any one of ``permissions``.

    The same permissions give the same dependency object, so FastAPI runs it once per
    request even when a route names it twice (in ``dependencies`` and as a parameter).

    Returns:
        The dependency; it returns the ``Principal`` and raises 401 without valid
        credentials (``WWW-Authenticate: Bearer``), 403 "role X may not <permission>"
        without the role, and 403 for a cookie-authenticated unsafe request without
        the CSRF token.
    """
    unknown = [p for p in permissions if p not in PERMISSIONS]
    if not permissions or unknown:
        raise ValueError(f"unknown permissions {unknown}; known: {', '.join(PERMISSIONS)}")

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_credentials)],
    ) -> Principal:
        principal = await authenticate(request, credentials)
        await check_csrf(request, principal)
        if not any(principal.can(p) for p in permissions):
            raise HTTPException(403, _refusal(principal, permissions))
        return principal

    dependency.__name__ = "require_" + "_or_".join(permissions)
    dependency.permissions = permissions  # type: ignore[attr-defined]  # read by tests
    return dependency


Reader = Annotated[Principal, Depends(require("read"))]
Manager = Annotated[Principal, Depends(require("manage_cases"))]
Operator = Annotated[Principal, Depends(require("operate"))]
FactRecorder = Annotated[Principal, Depends(require("manage_cases", "operate"))]
Admin = Annotated[Principal, Depends(require("admin"))]


#: Failed sign-ins of one email allowed within the window before it is locked for a while.
SIGN_IN_ATTEMPTS = 5
SIGN_IN_WINDOW = dt.timedelta(minutes=15)


class TooManySignIns(Exception):
    """Too many failed sign-ins for this email lately; ``retry_after`` seconds to wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after // 60 + 1} minutes")
        self.retry_after = retry_after


def _recent_failures(session: Session, email: str, now: dt.datetime) -> list[dt.datetime]:
    rows = session.exec(
        select(AuditEntry.at).where(
            AuditEntry.action == "sign_in_failed",
            AuditEntry.actor == email,
            col(AuditEntry.at) >= now - SIGN_IN_WINDOW,
        )
    ).all()
    return sorted(rows)


def start_console_session(session: Session, email: str, password: str) -> tuple[str, str] | None:
    """Signs a user in: checks the password and opens a console session (commits).

    Every failed sign-in is in the audit trail; after ``SIGN_IN_ATTEMPTS`` failures of
    one email within ``SIGN_IN_WINDOW`` that email is refused, even with the right
    password, until the oldest of them is out of the window (password guessing).

    Returns:
        ``(cookie value, csrf token)``, or None for an unknown email, a wrong password
        or a deactivated user (the same answer for each, in about the same time).

    Raises:
        TooManySignIns: the email is locked for now.
    """
    now = dt.datetime.now(dt.UTC)
    who = normalise_email(email)[:200]
    failures = _recent_failures(session, who, now)
    if len(failures) >= SIGN_IN_ATTEMPTS:
        burn_verification_time(password)
        unlock = failures[-SIGN_IN_ATTEMPTS] + SIGN_IN_WINDOW
        raise TooManySignIns(max(1, int((unlock - now).total_seconds())))
    user = find_user_by_email(session, email)
    if user is None:
        burn_verification_time(password)
        why = "unknown email"
    elif not verify_password(user.password_hash, password):
        why = "wrong password"
    elif not user.active:
        why = "user deactivated"
    else:
        why = ""
    if why or user is None:
        session.add(AuditEntry(at=now, actor=who, action="sign_in_failed", reason=why))
        session.commit()
        return None
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
    max_age = dt.timedelta(seconds=get_settings().session_max_age_seconds)
    cookie, row = create_console_session(session, user, max_age)
    session.commit()
    return cookie, row.csrf_token


def end_console_session(session: Session, cookie_value: str) -> None:
    """Signs out: ends the cookie's session (commits); unknown cookies are ignored."""
    revoke_console_session(session, cookie_value)
    session.commit()


def set_session_cookie(response: Response, cookie_value: str, settings: Settings) -> None:
    """Sets the session cookie: HttpOnly, SameSite=Lax, Secure when configured."""
    response.set_cookie(
        SESSION_COOKIE,
        cookie_value,
        max_age=settings.session_max_age_seconds,
        httponly=True,
        samesite="lax",
        secure=settings.session_cookie_secure,
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    """Removes the session cookie from the browser."""
    response.delete_cookie(
        SESSION_COOKIE,
        httponly=True,
        samesite="lax",
        secure=settings.session_cookie_secure,
        path="/",
    )


def document_auth_responses(app: FastAPI) -> None:
    """Adds the 401 and 403 answers to every operation in the OpenAPI schema that needs
    a token, so that clients (and schemathesis) know them."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                if not isinstance(operation, dict) or not operation.get("security"):
                    continue
                responses = operation.setdefault("responses", {})
                responses.setdefault(
                    "401", {"description": "No token, or one that is unknown or revoked"}
                )
                responses.setdefault(
                    "403", {"description": "The token's role may not do this (or CSRF failed)"}
                )
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
