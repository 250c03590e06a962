"""`make dev` never changes the local admin silently: every change it makes is said on
the console and is in the audit trail, by "make dev"."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, col, select

from store.auth import find_user_by_email, set_password
from store.db import get_engine
from store.models import AuditEntry
from workers.seed import DEV_ACTOR, DEV_ADMIN_EMAIL, DevCredentials, ensure_dev_credentials


def _ensure(path: Path) -> tuple[DevCredentials, list[str]]:
    said: list[str] = []
    with Session(get_engine(), expire_on_commit=False) as session:
        return ensure_dev_credentials(session, path, say=said.append), said


def _audit_since(first_id: int) -> list[AuditEntry]:
    with Session(get_engine()) as s:
        return list(
            s.exec(
                select(AuditEntry).where(col(AuditEntry.id) > first_id).order_by(col(AuditEntry.id))
            ).all()
        )


def _last_audit_id() -> int:
    with Session(get_engine()) as s:
        ids = s.exec(select(AuditEntry.id)).all()
    return max((i for i in ids if i is not None), default=0)


def test_the_first_start_says_what_it_made_and_audits_it(db_url: str, tmp_path: Path) -> None:
    made, said = _ensure(tmp_path / "dev-credentials.json")
    assert said == [f"created the local admin {DEV_ADMIN_EMAIL}", "created its API token"]
    assert made.notices == tuple(said)
    entries = _audit_since(0)
    assert [(e.action, e.actor) for e in entries] == [
        ("user_created", DEV_ACTOR),
        ("token_created", DEV_ACTOR),
    ]
    assert DEV_ACTOR == "make dev"


def test_a_demoted_and_deactivated_local_admin_is_restored_saying_so_and_audited(
    db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "dev-credentials.json"
    first, _ = _ensure(path)
    with Session(get_engine()) as s:
        user = find_user_by_email(s, DEV_ADMIN_EMAIL)
        assert user is not None
        user.role, user.active = "viewer", False
        s.add(user)
        s.commit()
    since = _last_audit_id()

    again, said = _ensure(path)
    assert said == [
        f"{DEV_ADMIN_EMAIL} existed, but it was viewer: it is admin again; "
        "it was deactivated: it is active again"
    ]
    assert again.made == ("role", "active") and again.password == first.password
    [entry] = _audit_since(since)
    assert (entry.action, entry.actor) == ("user_updated", "make dev")
    assert entry.before is not None and entry.after is not None
    assert (entry.before["role"], entry.before["active"]) == ("viewer", False)
    assert (entry.after["role"], entry.after["active"]) == ("admin", True)
    assert "it was viewer" in (entry.reason or "")
    with Session(get_engine()) as s:
        user = find_user_by_email(s, DEV_ADMIN_EMAIL)
        assert user is not None and (user.role, user.active) == ("admin", True)


def test_a_changed_password_is_reset_saying_so_and_audited(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "dev-credentials.json"
    _ensure(path)
    with Session(get_engine()) as s:
        user = find_user_by_email(s, DEV_ADMIN_EMAIL)
        assert user is not None
        set_password(s, user, "changed in the console")
        s.commit()
    since = _last_audit_id()

    again, said = _ensure(path)
    assert said == [
        f"{DEV_ADMIN_EMAIL} existed, but its password was changed since {path}: it has a new one"
    ]
    [entry] = _audit_since(since)
    assert (entry.action, entry.actor) == ("user_updated", "make dev")
    assert entry.after is not None and entry.after["password"] == "changed"
    assert again.password not in repr((entry.before, entry.after, entry.reason))


def test_a_start_that_changes_nothing_says_nothing_and_audits_nothing(
    db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "dev-credentials.json"
    _ensure(path)
    since = _last_audit_id()
    again, said = _ensure(path)
    assert said == [] and again.notices == () and again.made == ()
    assert _audit_since(since) == []
