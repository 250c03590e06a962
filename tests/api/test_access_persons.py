"""Credentials and the person behind them: a user's tokens act as that user, and no
credential can lock its own user out (or leave the console without an admin)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, col, select

from api.access import CSRF_HEADER, SESSION_COOKIE
from api.main import create_app
from store.auth import create_console_session, create_token
from store.db import get_engine
from store.models import ApiToken, AuditEntry, User
from tests.api.helpers import clients_of, person_with_tokens
from tests.conftest import use_database

Client = Callable[..., httpx.AsyncClient]


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """SQLite only, as tests/api/test_access.py: access does not depend on the database."""
    return use_database("sqlite", request, tmp_path, monkeypatch)


@pytest.fixture
async def bare(db_url: str) -> AsyncIterator[Client]:
    """Clients of an app whose Temporal client must never be reached."""
    app = create_app()
    app.state.temporal = object()  # any use of it fails the test
    async with clients_of(app) as client:
        yield client


def _user(user_id: str) -> User:
    with Session(get_engine()) as s:
        user = s.get(User, user_id)
        assert user is not None
        return user


def _signed_in(bare: Client, user_id: str) -> httpx.AsyncClient:
    with Session(get_engine(), expire_on_commit=False) as s:
        cookie, row = create_console_session(s, _user(user_id), dt.timedelta(hours=1))
        s.commit()
    return bare({CSRF_HEADER: row.csrf_token}, cookies={SESSION_COOKIE: cookie})


async def test_two_tokens_of_one_user_act_as_that_user_with_its_role(bare: Client) -> None:
    vera, tokens = person_with_tokens("vera@customer.example.com", "operator", "laptop", "ci")
    for name, headers in zip(("laptop", "ci"), tokens, strict=True):
        me = (await bare(headers).get("/api/me")).json()
        assert me["user_id"] == vera and me["role"] == "operator" and me["kind"] == "token"
        assert me["name"] == f"vera@customer.example.com (token {name})"
    _, [admin] = person_with_tokens("root@provider.example", "admin", "root")
    r = await bare(admin).patch(f"/api/users/{vera}", json={"role": "viewer"})
    assert r.status_code == 200, r.text
    for headers in tokens:  # both follow the user's role at once
        assert (await bare(headers).get("/api/me")).json()["role"] == "viewer"
        r = await bare(headers).post("/api/cases/c/amendments/a/approve", json={"reason": "x"})
        assert r.status_code == 403 and "role viewer may not operate" in r.json()["detail"]


async def test_no_credential_can_demote_or_deactivate_its_own_user(bare: Client) -> None:
    root, [laptop, ci] = person_with_tokens("root@provider.example", "admin", "laptop", "ci")
    _, [other_admin] = person_with_tokens("ops@provider.example", "admin", "ops")
    credentials = [bare(laptop), bare(ci), _signed_in(bare, root)]
    for client in credentials:
        for change in ({"role": "operator"}, {"role": "viewer"}, {"active": False}):
            r = await client.patch(f"/api/users/{root}", json=change)
            assert r.status_code == 409, r.text
            assert "you may not demote or deactivate root@provider.example" in r.text
    user = _user(root)
    assert (user.role, user.active) == ("admin", True)
    # What locks nobody out is still allowed, and another admin may demote them.
    r = await credentials[0].patch(f"/api/users/{root}", json={"display_name": "Root"})
    assert r.status_code == 200, r.text
    r = await bare(other_admin).patch(f"/api/users/{root}", json={"role": "operator"})
    assert r.status_code == 200, r.text
    assert (await bare(laptop).get("/api/me")).json()["role"] == "operator"


async def test_the_last_active_admin_stays_an_admin(bare: Client) -> None:
    root, _ = person_with_tokens("root@provider.example", "admin")
    with Session(get_engine()) as s:  # a token of the command line: no user behind it
        _, cli = create_token(s, "cli", "admin", created_by="clauseflow cli")
        s.commit()
    admin = bare({"Authorization": f"Bearer {cli}"})
    for change in ({"role": "operator"}, {"active": False}):
        r = await admin.patch(f"/api/users/{root}", json=change)
        assert r.status_code == 409, r.text
        assert "root@provider.example is the last active admin" in r.json()["detail"]
    ops, _ = person_with_tokens("ops@provider.example", "admin")
    assert (await admin.patch(f"/api/users/{root}", json={"active": False})).status_code == 200
    r = await admin.patch(f"/api/users/{ops}", json={"role": "viewer"})
    assert r.status_code == 409 and "last active admin" in r.text


async def test_a_token_made_through_the_api_records_who_issued_it(bare: Client) -> None:
    root, [token] = person_with_tokens("root@provider.example", "admin", "root")
    for name, session in (("by-token", bare(token)), ("by-session", _signed_in(bare, root))):
        r = await session.post("/api/tokens", json={"name": name, "role": "viewer"})
        assert r.status_code == 201, r.text
        with Session(get_engine()) as s:
            row = s.get(ApiToken, r.json()["id"])
            assert row is not None and row.user_id is None and row.issued_by_user_id == root
        me = (await bare({"Authorization": f"Bearer {r.json()['token']}"}).get("/api/me")).json()
        assert me["user_id"] is None and me["name"] == f"token:{name}"
    with Session(get_engine()) as s:
        actors = s.exec(
            select(AuditEntry.actor)
            .where(AuditEntry.action == "token_created", AuditEntry.actor != "tests")
            .order_by(col(AuditEntry.id))
        ).all()
    assert actors == ["root@provider.example (token root)", "root@provider.example"]
