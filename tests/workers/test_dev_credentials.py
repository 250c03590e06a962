"""`make dev`'s local admin: made once, kept owner-only, reused, repaired when out of date."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import Session

from store.auth import find_token, find_user_by_email, revoke_token, set_password
from store.db import get_engine
from workers.seed import DEV_ADMIN_EMAIL, DevCredentials, ensure_dev_credentials


def _ensure(path: Path) -> DevCredentials:
    with Session(get_engine(), expire_on_commit=False) as session:
        return ensure_dev_credentials(session, path)


def test_first_start_makes_an_admin_and_a_token_kept_owner_only(
    db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / ".clauseflow" / "dev-credentials.json"
    made = _ensure(path)
    assert made.made == ("user", "token")
    assert json.loads(path.read_text()) == {
        "email": DEV_ADMIN_EMAIL,
        "password": made.password,
        "token": made.token,
    }
    assert path.stat().st_mode & 0o777 == 0o600
    with Session(get_engine()) as session:
        user = find_user_by_email(session, DEV_ADMIN_EMAIL)
        token = find_token(session, made.token)
        assert user is not None and user.role == "admin" and user.active
        assert token is not None and token.role == "admin" and token.user_id == user.id


def test_later_starts_reuse_them(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "dev-credentials.json"
    first = _ensure(path)
    path.chmod(0o644)
    again = _ensure(path)
    assert (again.password, again.token, again.made) == (first.password, first.token, ())
    assert path.stat().st_mode & 0o777 == 0o600


def test_what_no_longer_works_is_made_anew(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "dev-credentials.json"
    first = _ensure(path)
    with Session(get_engine(), expire_on_commit=False) as session:
        user = find_user_by_email(session, DEV_ADMIN_EMAIL)
        token = find_token(session, first.token)
        assert user is not None and token is not None
        set_password(session, user, "changed in the console")
        revoke_token(session, token, revoked_by="tests")
        session.commit()
    repaired = _ensure(path)
    assert repaired.made == ("password", "token")
    assert repaired.password != first.password and repaired.token != first.token
    assert json.loads(path.read_text())["token"] == repaired.token

    path.unlink()  # the file is gone: a new password and token, the same user
    fresh = _ensure(path)
    assert fresh.made == ("password", "token")
