"""Users, API tokens and ``/api/me``: admins manage who may sign in and call the API.

Secrets never come back: a user's password hash is not shown, and a token's plaintext
is returned once, by the request that creates it. Every change is an audit entry with
the acting principal and the before and after (without secrets).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, func, select

from api.access import Admin, Principal, Reader
from api.deps import SessionDep
from api.pagination import Limit, Offset, page_answer
from store.auth import (
    ROLES,
    AuthError,
    audit,
    create_token,
    create_user,
    revoke_token,
    revoke_user_sessions,
    set_password,
    user_snapshot,
)
from store.models import ApiToken, User

# Who the caller is, users and tokens: three top-level names of one kind (access).
router = APIRouter(prefix="/api", tags=["access"])

_ROLE_FIELD = Field(
    pattern="^(viewer|contract_manager|operator|admin)$",
    description="viewer, contract_manager, operator or admin",
)


class UserPublic(BaseModel):
    """A user, without the password hash."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    display_name: str
    role: str
    active: bool
    created_at: dt.datetime
    created_by: str | None


class UsersPublic(BaseModel):
    items: list[UserPublic]
    total: int
    limit: int
    offset: int


class UserCreate(BaseModel):
    """A new console user."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(
        max_length=320, pattern=r"^[^@\s]+@[^@\s]+$", description="Sign-in name; any case"
    )
    role: str = _ROLE_FIELD
    password: str = Field(min_length=12, max_length=1024, description="At least 12 characters")
    display_name: str | None = Field(default=None, min_length=1, max_length=200)


class UserUpdate(BaseModel):
    """What an admin may change; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    role: str | None = Field(
        default=None,
        pattern="^(viewer|contract_manager|operator|admin)$",
        description="viewer, contract_manager, operator or admin",
    )
    active: bool | None = Field(
        default=None, description="false signs the user out and stops their tokens"
    )
    password: str | None = Field(
        default=None, min_length=12, max_length=1024, description="signs the user out"
    )
    display_name: str | None = Field(default=None, min_length=1, max_length=200)


class TokenPublic(BaseModel):
    """An API token as listed: its prefix, never the secret or its hash."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    role: str
    prefix: str
    user_id: str | None
    created_at: dt.datetime
    created_by: str | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokensPublic(BaseModel):
    items: list[TokenPublic]
    total: int
    limit: int
    offset: int


class TokenCreate(BaseModel):
    """A new API token."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="What uses it, e.g. 'billing-sync'")
    role: str = _ROLE_FIELD
    user_id: str | None = Field(
        default=None,
        max_length=40,
        description="The user it acts for: it never exceeds their role, and stops with them",
    )


class TokenCreated(TokenPublic):
    token: str = Field(description="The secret: shown this once, stored only as a hash")


class Me(BaseModel):
    """Who the caller is, and what they may do."""

    kind: str
    id: str
    name: str
    role: str
    permissions: list[str]
    via_session: bool
    user_id: str | None = Field(
        description="The user the credential acts as; null for a token with no user"
    )


_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "Unknown id"}}


@router.get("/me", response_model=Me)
def me(principal: Reader) -> Me:
    """The calling user or token, its role and its permissions."""
    return Me(
        kind=principal.kind,
        id=principal.id,
        name=principal.name,
        role=principal.role,
        permissions=principal.permissions,
        via_session=principal.via_session,
        user_id=principal.acts_as_user,
    )


@router.get("/users", response_model=UsersPublic)
def list_users(_: Admin, session: SessionDep, limit: Limit = 50, offset: Offset = 0) -> UsersPublic:
    """Every user, by email."""
    return page_answer(UsersPublic, UserPublic, session, User, [], [col(User.email)], limit, offset)


@router.post(
    "/users",
    status_code=201,
    response_model=UserPublic,
    responses={409: {"description": "A user with this email exists"}},
)
def add_user(principal: Admin, body: UserCreate, session: SessionDep) -> User:
    """Creates a console user with a role and a password (stored as an argon2id hash)."""
    try:
        user = create_user(
            session,
            body.email,
            body.role,
            body.password,
            display_name=body.display_name,
            created_by=principal.name,
        )
    except AuthError as exc:
        raise HTTPException(409, str(exc)) from exc
    session.commit()
    return user


@router.patch(
    "/users/{user_id}",
    response_model=UserPublic,
    responses={
        **_NOT_FOUND,
        409: {
            "description": "No credential may demote or deactivate its own user (a session "
            "or a token of that user), and the last active admin stays one"
        },
    },
)
def update_user(principal: Admin, user_id: str, body: UserUpdate, session: SessionDep) -> User:
    """Changes a user's role, active flag, display name or password.

    Deactivating a user or changing their password ends their console sessions; a
    deactivated user's tokens stop working.
    """
    user = session.get(User, user_id)
    if user is None:
        raise HTTPException(404, f"user {user_id!r} not found")
    why = _lockout(session, principal, user, body)
    if why:
        raise HTTPException(409, why)
    before = user_snapshot(user)
    if body.role is not None:
        user.role = body.role
    if body.display_name is not None:
        user.display_name = body.display_name
    if body.active is not None:
        user.active = body.active
        if not body.active:
            revoke_user_sessions(session, user.id)
    if body.password is not None:
        set_password(session, user, body.password)
    session.add(user)
    after: dict[str, Any] = user_snapshot(user)
    if body.password is not None:
        after["password"] = "changed"
    audit(
        session,
        principal.name,
        "user_updated",
        before={"id": user.id, **before},
        after={"id": user.id, **after},
    )
    session.commit()
    return user


def _lockout(session: Session, principal: Principal, user: User, body: UserUpdate) -> str:
    """Why the change would lock its author (or every admin) out; empty if it would not."""
    lowered = body.role is not None and ROLES.index(body.role) < ROLES.index(user.role)
    if not (lowered or body.active is False):
        return ""
    if principal.acts_as_user == user.id:
        # A session or a token of the user: undoing it would need another admin.
        how = "signed in as" if principal.via_session else "whose token you are using"
        return (
            f"you may not demote or deactivate {user.email}, the user you are {how}: "
            "ask another admin to do it"
        )
    if user.role != "admin" or not user.active:
        return ""
    others = session.exec(
        select(func.count())
        .select_from(User)
        .where(User.role == "admin", col(User.active).is_(True), User.id != user.id)
    ).one()
    if not others:
        return (
            f"{user.email} is the last active admin: make another user admin first, or "
            "nobody could manage users and tokens from the console"
        )
    return ""


@router.get("/tokens", response_model=TokensPublic)
def list_tokens(
    _: Admin,
    session: SessionDep,
    include_revoked: bool = Query(False, description="Also list revoked tokens"),
    limit: Limit = 50,
    offset: Offset = 0,
) -> TokensPublic:
    """API tokens, newest first: names, roles and prefixes, never the secrets."""
    where = [] if include_revoked else [col(ApiToken.revoked_at).is_(None)]
    order = [col(ApiToken.created_at).desc(), col(ApiToken.id)]
    return page_answer(TokensPublic, TokenPublic, session, ApiToken, where, order, limit, offset)


@router.post(
    "/tokens",
    status_code=201,
    response_model=TokenCreated,
    responses={422: {"description": "Bad role, or an unknown user_id"}},
)
def add_token(principal: Admin, body: TokenCreate, session: SessionDep) -> TokenCreated:
    """Creates an API token; the answer holds its secret, which is never shown again."""
    try:
        token, plaintext = create_token(
            session,
            body.name,
            body.role,
            created_by=principal.name,
            user_id=body.user_id,
            # Whoever makes a token holds its secret: the person behind a token with no user.
            issued_by_user_id=principal.acts_as_user or principal.issued_by,
        )
    except AuthError as exc:
        raise HTTPException(
            422,
            [
                {
                    "loc": ["body", "user_id"],
                    "field": "user_id",
                    "msg": str(exc),
                    "type": "unknown_user",
                }
            ],
        ) from exc
    session.commit()
    return TokenCreated(**TokenPublic.model_validate(token).model_dump(), token=plaintext)


@router.delete("/tokens/{token_id}", response_model=TokenPublic, responses=_NOT_FOUND)
def delete_token(principal: Admin, token_id: str, session: SessionDep) -> ApiToken:
    """Revokes a token at once (safe to repeat); it stays listed with ``revoked_at``."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise HTTPException(404, f"token {token_id!r} not found")
    revoke_token(session, token, revoked_by=principal.name)
    session.commit()
    return token
