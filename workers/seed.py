"""What `make dev` sets up on first start: the reference MSA and a local admin."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from rules.reference import reference_term_sheet
from store.auth import (
    audit,
    create_token,
    create_user,
    find_token,
    find_user_by_email,
    generate_password,
    set_password,
    user_snapshot,
    verify_password,
)
from store.contracts import create_contract
from store.models import Contract, User

REFERENCE_CONTRACT_ID = "ctr_reference_msa"

#: The dev stack's local admin, and the name of its API token.
DEV_ADMIN_EMAIL = "admin@localhost"
DEV_TOKEN_NAME = "clauseflow dev"
#: Who the audit trail names for what `make dev` (`clauseflow dev`) creates or restores.
DEV_ACTOR = "make dev"


def ensure_reference_contract(session: Session) -> tuple[Contract, bool]:
    """Registers the reference MSA unless it is there already; returns it and whether it is new."""
    existing = session.get(Contract, REFERENCE_CONTRACT_ID)
    if existing is not None:
        return existing, False
    contract = create_contract(
        session, reference_term_sheet(), actor=DEV_ACTOR, contract_id=REFERENCE_CONTRACT_ID
    )
    session.commit()
    return contract, True


@dataclass(frozen=True)
class DevCredentials:
    """The local admin's sign-in and API token, as kept in the credentials file."""

    email: str
    password: str
    token: str
    #: What this start made: "user", "password" (reset), "role" and "active" (restored),
    #: "token"; empty when all was reused.
    made: tuple[str, ...] = ()
    #: What it found and did, in words, as printed.
    notices: tuple[str, ...] = ()


def _write_private(path: Path, content: str) -> None:
    """Writes ``content`` readable by the owner only (0600), whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(content)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _read_saved(path: Path) -> dict[str, str]:
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in saved.items() if isinstance(v, str)} if isinstance(saved, dict) else {}


def _say(line: str) -> None:
    print(f"make dev: {line}", flush=True)


def ensure_dev_credentials(
    session: Session, path: Path, *, say: Callable[[str], None] = _say
) -> DevCredentials:
    """The dev stack's local admin (``admin@localhost``) and its API token.

    Made on first start with a random password and token and kept in ``path`` (mode
    0600); later starts reuse them. When the file is gone, or no longer matches the
    database (deleted, the password changed, the token revoked), what does not match is
    made anew so that the printed credentials always work; a local admin someone
    demoted or deactivated is made an active admin again. Nothing changes silently:
    each change is an audit entry by ``make dev`` and a line passed to ``say`` (printed
    by default), and the lines are in the answer's ``notices``. Commits.
    """
    saved = _read_saved(path)
    made: list[str] = []
    notices: list[str] = []
    password = saved.get("password") or ""
    user = find_user_by_email(session, DEV_ADMIN_EMAIL)
    if user is None:
        password = password or generate_password()
        user = create_user(
            session,
            DEV_ADMIN_EMAIL,
            "admin",
            password,
            display_name="Local admin",
            created_by=DEV_ACTOR,
        )
        made.append("user")
        notices.append(f"created the local admin {DEV_ADMIN_EMAIL}")
    else:
        restored = _restore_admin(session, user, password, path)
        if restored:
            password = restored[0]
            made.extend(restored[1])
            notices.append(f"{DEV_ADMIN_EMAIL} existed, but {restored[2]}")
    token = saved.get("token") or ""
    if not token or find_token(session, token) is None:
        _, token = create_token(
            session, DEV_TOKEN_NAME, "admin", created_by=DEV_ACTOR, user_id=user.id
        )
        if "user" in made:
            notices.append("created its API token")
        else:
            why = "no longer works" if saved.get("token") else f"is not in {path}"
            notices.append(f"made a new API token for {DEV_ADMIN_EMAIL} (the saved one {why})")
        made.append("token")
    session.commit()
    if made or saved.get("email") != DEV_ADMIN_EMAIL:
        content = {"email": DEV_ADMIN_EMAIL, "password": password, "token": token}
        _write_private(path, json.dumps(content, indent=2) + "\n")
    else:
        os.chmod(path, 0o600)  # it holds an admin's secrets: the owner's alone
    for line in notices:
        say(line)
    return DevCredentials(DEV_ADMIN_EMAIL, password, token, tuple(made), tuple(notices))


def _restore_admin(
    session: Session, user: User, password: str, path: Path
) -> tuple[str, list[str], str] | None:
    """Makes an existing local admin usable again, audited; None when it already is.

    Returns:
        The password that now signs in, what was made ("password", "role", "active"),
        and what was found and done, in words.
    """
    before = user_snapshot(user)
    made: list[str] = []
    found: list[str] = []
    if not password or not verify_password(user.password_hash, password):
        why = "was changed since" if password else "is not in"
        password = generate_password()
        set_password(session, user, password)
        made.append("password")
        found.append(f"its password {why} {path}: it has a new one")
    if user.role != "admin":
        found.append(f"it was {user.role}: it is admin again")
        user.role = "admin"
        made.append("role")
    if not user.active:
        found.append("it was deactivated: it is active again")
        user.active = True
        made.append("active")
    if not made:
        return None
    session.add(user)
    after = user_snapshot(user)
    if "password" in made:
        after["password"] = "changed"
    what = "; ".join(found)
    audit(
        session,
        DEV_ACTOR,
        "user_updated",
        before={"id": user.id, **before},
        after={"id": user.id, **after},
        reason=f"make dev restores the local admin it prints: {what}",
    )
    return password, made, what
