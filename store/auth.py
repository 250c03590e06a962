"""Users, API tokens and console sessions in the store: hashing, creating, finding.

Passwords are hashed with argon2id (argon2-cffi's ``PasswordHasher``, its default
parameters). API tokens and console session cookies are long random secrets, so a
plain SHA-256 of them is enough to find them and is all that is stored: whoever reads
the database cannot use what it holds.

These are store functions: they add and flush rows but leave the commit to the caller.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, select

from store.models import ApiToken, AuditEntry, ConsoleSession, User

#: Roles, least to most powerful.
ROLES = ("viewer", "contract_manager", "operator", "admin")

#: Every token starts with this, so that a leaked one is easy to recognise (secret scanners).
TOKEN_PREFIX = "cf_"

#: ``last_used_at`` is written at most this often per token: not a write per request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)

_hasher = PasswordHasher()  # argon2id


class AuthError(ValueError):
    """A user or token that cannot be created as asked (unknown role, duplicate email...)."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def hash_password(password: str) -> str:
    """The password's argon2id hash (salted; its parameters are in the string)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; False for a malformed hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than the current ones."""
    return _hasher.check_needs_rehash(password_hash)


#: A valid hash of a password nobody has: verified against when the email is unknown,
#: so that a sign-in takes as long for an unknown email as for a wrong password.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def burn_verification_time(password: str) -> None:
    """Spends as long as one password check, for unknown users."""
    verify_password(_DUMMY_HASH, password)


def secret_hash(secret: str) -> str:
    """SHA-256 hex of a token or cookie value: the form in which the store keeps it."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A new API token: ``(plaintext, sha256 hex)``. Only the hash may be stored."""
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return plaintext, secret_hash(plaintext)


def generate_password() -> str:
    """A random password for bootstrapped users (about 128 bits)."""
    return secrets.token_urlsafe(16)


def check_role(role: str) -> str:
    """``role`` if it is one of ``ROLES``.

    Raises:
        AuthError: any other value, naming the roles that exist.
    """
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    return role


def lesser_role(a: str, b: str) -> str:
    """The less powerful of two roles."""
    return a if ROLES.index(a) <= ROLES.index(b) else b


def normalise_email(email: str) -> str:
    """Emails are matched case-insensitively: stored lower-cased and trimmed."""
    return email.strip().lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    """The user with this email (any case), active or not."""
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


def user_snapshot(user: User) -> dict[str, Any]:
    """A user as an audit entry records it: never the password hash."""
    return {
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
        "active": user.active,
    }


def token_snapshot(token: ApiToken) -> dict[str, Any]:
    """A token as an audit entry records it: never the secret or its hash."""
    return {
        "name": token.name,
        "role": token.role,
        "prefix": token.prefix,
        "user_id": token.user_id,
        "issued_by_user_id": token.issued_by_user_id,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
    }


def audit(
    session: Session,
    actor: str,
    action: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEntry:
    """Adds an audit entry for a change to users or tokens."""
    entry = AuditEntry(
        at=_now(), actor=actor, action=action, before=before, after=after, reason=reason
    )
    session.add(entry)
    return entry


def create_user(
    session: Session,
    email: str,
    role: str,
    password: str,
    *,
    display_name: str | None = None,
    created_by: str,
) -> User:
    """Adds a user with an argon2id-hashed password and an audit entry ``user_created``.

    Raises:
        AuthError: unknown role, empty password, or a user with this email exists.
    """
    check_role(role)
    email = normalise_email(email)
    if not email:
        raise AuthError("an email is required")
    if not password:
        raise AuthError("a password is required")
    if find_user_by_email(session, email) is not None:
        raise AuthError(f"a user with email {email!r} already exists")
    user = User(
        id="usr_" + uuid.uuid4().hex[:16],
        email=email,
        display_name=(display_name or email.split("@", 1)[0]).strip()[:200],
        role=role,
        password_hash=hash_password(password),
        active=True,
        created_at=_now(),
        created_by=created_by,
    )
    session.add(user)
    audit(session, created_by, "user_created", after={"id": user.id, **user_snapshot(user)})
    session.flush()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Replaces the user's password and signs out their console sessions (flushes)."""
    if not password:
        raise AuthError("a password is required")
    user.password_hash = hash_password(password)
    session.add(user)
    revoke_user_sessions(session, user.id)
    session.flush()


def create_token(
    session: Session,
    name: str,
    role: str,
    *,
    created_by: str,
    user_id: str | None = None,
    issued_by_user_id: str | None = None,
) -> tuple[ApiToken, str]:
    """Adds an API token; returns the row and the plaintext, which is not kept anywhere.

    A token that belongs to a user acts as that user: never with more than the user's
    current role (see ``api.access``), and not once the user is deactivated. A token
    with no user stands for the user who issued it (``issued_by_user_id``; None from the
    command line) when the four-eyes rule asks who is behind it.

    Raises:
        AuthError: unknown role, empty name, or an unknown ``user_id``.
    """
    check_role(role)
    if not name.strip():
        raise AuthError("a token name is required")
    if user_id is not None and session.get(User, user_id) is None:
        raise AuthError(f"user {user_id!r} not found")
    plaintext, digest = new_token()
    token = ApiToken(
        id="tok_" + uuid.uuid4().hex[:16],
        name=name.strip()[:200],
        role=role,
        token_hash=digest,
        prefix=plaintext[: len(TOKEN_PREFIX) + 6],
        user_id=user_id,
        issued_by_user_id=issued_by_user_id,
        created_at=_now(),
        created_by=created_by,
    )
    session.add(token)
    audit(session, created_by, "token_created", after={"id": token.id, **token_snapshot(token)})
    session.flush()
    return token, plaintext


def find_token(session: Session, plaintext: str) -> ApiToken | None:
    """The unrevoked token whose hash matches ``plaintext``, if any."""
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    return session.exec(
        select(ApiToken).where(
            ApiToken.token_hash == secret_hash(plaintext), col(ApiToken.revoked_at).is_(None)
        )
    ).first()


def touch_token(session: Session, token: ApiToken, now: dt.datetime | None = None) -> bool:
    """Sets ``last_used_at`` unless it was set less than a minute ago; True if it wrote."""
    now = now or _now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return False
    token.last_used_at = now
    session.add(token)
    session.flush()
    return True


def revoke_token(session: Session, token: ApiToken, *, revoked_by: str) -> bool:
    """Revokes the token (kept, for the record); False if it was revoked already."""
    if token.revoked_at is not None:
        return False
    before = token_snapshot(token)
    token.revoked_at = _now()
    session.add(token)
    audit(
        session,
        revoked_by,
        "token_revoked",
        before={"id": token.id, **before},
        after={"id": token.id, **token_snapshot(token)},
    )
    session.flush()
    return True


def create_console_session(
    session: Session, user: User, max_age: dt.timedelta
) -> tuple[str, ConsoleSession]:
    """A new console session for ``user``; returns the cookie value and the row."""
    cookie = secrets.token_urlsafe(32)
    now = _now()
    row = ConsoleSession(
        id=secret_hash(cookie),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + max_age,
    )
    session.add(row)
    session.flush()
    return cookie, row


def find_console_session(
    session: Session, cookie: str, now: dt.datetime | None = None
) -> tuple[ConsoleSession, User] | None:
    """The live session for a cookie and its user: None if unknown, expired, revoked,
    or if the user has been deactivated."""
    now = now or _now()
    row = session.get(ConsoleSession, secret_hash(cookie))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return row, user


def revoke_console_session(session: Session, cookie: str) -> None:
    """Ends the session of a cookie (no-op when unknown)."""
    row = session.get(ConsoleSession, secret_hash(cookie))
    if row is not None and row.revoked_at is None:
        row.revoked_at = _now()
        session.add(row)
        session.flush()


def revoke_user_sessions(session: Session, user_id: str) -> int:
    """Ends every live console session of a user; returns how many."""
    rows = session.exec(
        select(ConsoleSession).where(
            ConsoleSession.user_id == user_id, col(ConsoleSession.revoked_at).is_(None)
        )
    ).all()
    now = _now()
    for row in rows:
        row.revoked_at = now
        session.add(row)
    session.flush()
    return len(rows)
