"""Who may do what: tokens, console sessions, roles, CSRF, and that a refusal changes nothing.

The route walk at the top holds the rule for the whole app: every route answers 401
without credentials (the console's pages send the browser to sign in instead) except
the few listed in ``EXEMPT``, each with its reason, and every API route states its
permission in ``PERMISSION_TABLE``, which is the issue's table of roles.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Form
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, select

from api.access import (
    CSRF_HEADER,
    PERMISSIONS,
    ROLES,
    SESSION_COOKIE,
    Operator,
    Principal,
    end_console_session,
    start_console_session,
)
from api.main import create_app
from runtime.settings import get_settings
from store.auth import (
    create_console_session,
    create_token,
    create_user,
    find_token,
    secret_hash,
    touch_token,
    verify_password,
)
from store.db import get_engine
from store.models import ApiToken, AuditEntry, ConsoleSession, Contract, User
from tests.api.conftest import ApiAs, MakeToken, bearer
from tests.api.helpers import BASE_URL, clients_of
from tests.api.test_contracts import term_sheet
from tests.conftest import use_database
from tests.workflows.helpers import seed_reference_contract


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """SQLite only: who may do what does not depend on the database, and every other API
    test authenticates with a token on both SQLite and PostgreSQL."""
    return use_database("sqlite", request, tmp_path, monkeypatch)


# -- the table -------------------------------------------------------------------------

#: Routes that need no token, and why.
EXEMPT = {
    "GET /healthz": "health: load balancers probe it",
    "GET /readyz": "health: load balancers probe it",
    "POST /webhooks/sendgrid": "SendGrid's signed-webhook signature",
    "POST /codec/decode": "its own CODEC_AUTH_TOKEN (the Temporal Web UI's)",
    "POST /codec/encode": "its own CODEC_AUTH_TOKEN (the Temporal Web UI's)",
    "OPTIONS /codec/decode": "CORS preflight: browsers send no token with it",
    "OPTIONS /codec/encode": "CORS preflight: browsers send no token with it",
    "GET /console/login": "the sign-in page",
    "POST /console/login": "signing in (the password is the credential)",
    "GET /calendar/{token}.ics": "a secret URL: calendar apps cannot send a token",
    "MOUNT /static": "the console's stylesheet and htmx",
}

READ, MANAGE, OPERATE, ADMIN = ("read",), ("manage_cases",), ("operate",), ("admin",)
FACTS = ("manage_cases", "operate")

#: Every API route's permission (any one suffices), as the issue assigns them.
PERMISSION_TABLE: dict[str, tuple[str, ...]] = {
    "GET /api/contracts": READ,
    "GET /api/contracts/{contract_id}": READ,
    "GET /api/contracts/{contract_id}/position": READ,
    "GET /api/contracts/{contract_id}/provenance": READ,
    "POST /api/contracts": MANAGE,
    "POST /api/contracts/proposals": MANAGE,
    "POST /api/contracts/proposals/document": MANAGE,
    "POST /api/contracts/{contract_id}/sla-review": MANAGE,
    "POST /api/contracts/{contract_id}/standing-cases": MANAGE,
    "POST /api/contracts/{contract_id}/what-if": MANAGE,
    "POST /api/contracts/{contract_id}/cases": MANAGE,
    "POST /api/contracts/{contract_id}/downtime": MANAGE,
    "POST /api/contracts/{contract_id}/maintenance-windows": MANAGE,
    "POST /api/contracts/{contract_id}/calendar-feed": MANAGE,
    "DELETE /api/contracts/{contract_id}/calendar-feed": MANAGE,
    "GET /api/cases": READ,
    "GET /api/cases/{case_id}": READ,
    "GET /api/ops/summary": READ,
    "GET /api/ops/cases-in-the-other-partys-name": READ,
    "POST /api/cases/{case_id}/facts": FACTS,
    "POST /api/cases/{case_id}/retry": OPERATE,
    "POST /api/cases/{case_id}/escalations/{escalation_id}/resolve": OPERATE,
    "POST /api/cases/{case_id}/deadlines/{deadline}/amendments": OPERATE,
    "POST /api/cases/{case_id}/amendments/{amendment_id}/approve": OPERATE,
    "POST /api/cases/{case_id}/amendments/{amendment_id}/reject": OPERATE,
    "POST /api/cases/{case_id}/close": OPERATE,
    "POST /api/cases/{case_id}/owner": OPERATE,
    "POST /api/cases/{case_id}/notes": OPERATE,
    "POST /api/cases/{case_id}/notices/{notice_key}/approve": FACTS,
    "POST /api/cases/{case_id}/notices/{notice_key}/revise": FACTS,
    "GET /api/outbox": READ,
    "GET /api/notices": READ,
    "GET /api/notices/{notice_id}": READ,
    "GET /api/notices/{notice_id}/html": READ,
    "GET /api/notices/{notice_id}/evidence": READ,
    "GET /api/cases/{case_id}/notices/{notice}/preview": READ,
    "GET /api/clauses": READ,
    "GET /api/me": READ,
    "GET /metrics": READ,
    "GET /openapi.json": READ,
    "GET /docs": READ,
    "GET /redoc": READ,
    "GET /api/users": ADMIN,
    "POST /api/users": ADMIN,
    "PATCH /api/users/{user_id}": ADMIN,
    "GET /api/tokens": ADMIN,
    "POST /api/tokens": ADMIN,
    "DELETE /api/tokens/{token_id}": ADMIN,
}


def _permissions(dependant: Any) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for dep in dependant.dependencies:
        if getattr(dep.call, "permissions", None):
            found.append(dep.call.permissions)
        found += _permissions(dep)
    return found


def _routes() -> Iterator[tuple[str, str, Any]]:
    """(label "METHOD /path", path, route) for every route of the app, routers included."""
    for context in iter_route_contexts(create_app().routes):
        methods = sorted(context.methods or []) or ["MOUNT"]
        for method in methods:
            if method == "HEAD":
                continue
            yield f"{method} {context.path}", context.path, context.route


ROUTES = list(_routes())
GUARDED = [(label, path) for label, path, _ in ROUTES if label not in EXEMPT]
API_ROUTES = {label: route for label, _, route in ROUTES if isinstance(route, APIRoute)}


def _url(path: str) -> str:
    # Any value will do for path parameters: the request must be refused before it is read.
    return re.sub(r"\{[^}]+\}", "1", path)


def _is_console(path: str) -> bool:
    """Pages for a browser: without credentials they send it to sign in."""
    return path in ("/console", "/docs", "/redoc") or path.startswith("/console/")


# -- fixtures --------------------------------------------------------------------------


class _NoTemporal:
    """Stands in for the Temporal client: a refused request must never reach it."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a refused request reached Temporal ({name})")


@pytest.fixture
async def bare(db_url: str) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """Clients of an app without Temporal: for answers given before any work is done."""
    app = create_app()
    app.state.temporal = _NoTemporal()
    seed_reference_contract()
    async with clients_of(app) as client:
        yield client


def _store_snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (a token's last_used_at aside: using a token is no change)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with get_engine().connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            columns = [
                c
                for c in table.columns
                if not (table.name == "api_token" and c.name == "last_used_at")
            ]
            rows = conn.execute(sa_select(*columns)).all()
            out[table.name] = sorted(tuple(map(repr, r)) for r in rows)
    return out


def _user(email: str, role: str, password: str = "correct horse battery") -> User:
    with Session(get_engine(), expire_on_commit=False) as session:
        user = create_user(session, email, role, password, created_by="tests")
        session.commit()
    return user


def _session_cookie(user: User, max_age: dt.timedelta = dt.timedelta(hours=1)) -> tuple[str, str]:
    with Session(get_engine(), expire_on_commit=False) as session:
        cookie, row = create_console_session(session, user, max_age)
        session.commit()
    return cookie, row.csrf_token


# -- every route is guarded ------------------------------------------------------------


def test_every_exemption_names_a_route_that_exists() -> None:
    labels = {label for label, _, _ in ROUTES}
    assert set(EXEMPT) <= labels, f"no such routes: {set(EXEMPT) - labels}"


def test_every_api_route_states_its_permission_as_the_issue_assigns_it() -> None:
    """A new route fails here until it is guarded and added to ``PERMISSION_TABLE``."""
    for label, route in API_ROUTES.items():
        if label in EXEMPT or _is_console(route.path):
            continue
        declared = _permissions(route.dependant)
        assert label in PERMISSION_TABLE, (
            f"{label} is not in PERMISSION_TABLE (tests/api/test_access.py): add it with its "
            f"permission, or to EXEMPT with the reason it needs no token"
        )
        assert declared == [PERMISSION_TABLE[label]], f"{label}: declares {declared}"
    assert set(PERMISSION_TABLE) <= set(API_ROUTES), set(PERMISSION_TABLE) - set(API_ROUTES)


@pytest.mark.parametrize(("label", "path"), GUARDED, ids=[label for label, _ in GUARDED])
async def test_without_credentials_every_route_is_refused(
    bare: Callable[..., httpx.AsyncClient], label: str, path: str
) -> None:
    method = label.split(" ", 1)[0]
    r = await bare().request(method, _url(path))
    if _is_console(path):
        # The console's pages send a browser to the sign-in page instead of a bare 401.
        assert r.status_code in (401, 303), (label, r.status_code, r.text[:300])
        if r.status_code == 303:
            assert r.headers["location"].startswith("/console/login"), r.headers["location"]
        return
    assert r.status_code == 401, (label, r.status_code, r.text[:300])
    assert r.headers["www-authenticate"] == "Bearer"
    assert "bearer token" in r.json()["detail"]


@pytest.mark.parametrize("label", sorted(EXEMPT))
async def test_exempt_routes_answer_without_a_token(
    bare: Callable[..., httpx.AsyncClient], label: str
) -> None:
    method, path = label.split(" ", 1)
    if method == "MOUNT":
        method, path = "GET", path + "/console.css"
    r = await bare().request(method, _url(path))
    assert r.status_code != 401 or path.startswith("/codec"), (label, r.status_code)
    assert "bearer token is required" not in r.text


async def test_the_api_docs_need_a_token_or_a_console_session(
    bare: Callable[..., httpx.AsyncClient], make_token: MakeToken
) -> None:
    anonymous = bare()
    assert (await anonymous.get("/openapi.json")).status_code == 401
    # A browser asking for the docs is sent to sign in, and comes back to them after.
    r = await anonymous.get("/docs")
    assert r.status_code == 303 and r.headers["location"] == "/console/login?next=%2Fdocs"
    assert (await anonymous.get("/redoc")).status_code == 303
    # With a token, the schema; with a console session, the page and then its schema.
    schema = await bare(bearer(make_token("viewer"))).get("/openapi.json")
    assert schema.status_code == 200 and "/api/cases" in schema.json()["paths"]
    cookie, _ = _session_cookie(_user("reader@example.com", "viewer"))
    browser = bare(cookies={SESSION_COOKIE: cookie})
    page = await browser.get("/docs")
    assert page.status_code == 200 and "/openapi.json" in page.text
    assert (await browser.get("/openapi.json")).status_code == 200
    assert (await browser.get("/redoc")).status_code == 200


WRITES = sorted(
    (label, role)
    for label, permissions in PERMISSION_TABLE.items()
    if not label.startswith("GET ")
    for role in ROLES
    if not any(role in PERMISSIONS[p] for p in permissions)
)


@pytest.mark.parametrize(("label", "role"), WRITES, ids=[f"{lb}-{r}" for lb, r in WRITES])
async def test_a_role_without_the_permission_gets_403_and_changes_nothing(
    bare: Callable[..., httpx.AsyncClient], make_token: MakeToken, label: str, role: str
) -> None:
    method, path = label.split(" ", 1)
    client = bare(bearer(make_token(role)))
    before = _store_snapshot()
    r = await client.request(method, _url(path), json={})
    assert r.status_code == 403, (label, role, r.status_code, r.text)
    detail = r.json()["detail"]
    assert detail.startswith(f"role {role} may not {' or '.join(PERMISSION_TABLE[label])}")
    assert _store_snapshot() == before


async def test_every_role_reads(
    bare: Callable[..., httpx.AsyncClient], make_token: MakeToken
) -> None:
    for role in ROLES:
        r = await bare(bearer(make_token(role))).get("/api/me")
        assert r.status_code == 200, r.text
        me = r.json()
        assert me["role"] == role and me["kind"] == "token" and me["name"] == f"token:test-{role}"
        assert me["permissions"] == [p for p, roles in PERMISSIONS.items() if role in roles]
        assert (await bare(bearer(make_token(role))).get("/api/contracts")).status_code == 200


# -- a refusal is real: the same request with the role goes through -------------------


async def test_registering_a_contract_needs_manage_cases(api_as: ApiAs) -> None:
    def contracts() -> int:
        with Session(get_engine()) as session:
            return len(session.exec(select(Contract)).all())

    refused = [api_as("viewer"), api_as("operator")]  # their tokens are made here
    before, snapshot = contracts(), _store_snapshot()
    for client in refused:
        r = await client.post("/api/contracts", json=term_sheet())
        assert r.status_code == 403, r.text
    assert _store_snapshot() == snapshot
    r = await api_as("contract_manager").post("/api/contracts", json=term_sheet())
    assert r.status_code == 201, r.text
    assert contracts() == before + 1
    with Session(get_engine()) as session:
        entry = session.exec(
            select(AuditEntry).where(
                AuditEntry.action == "contract_registered", AuditEntry.contract_id == r.json()["id"]
            )
        ).one()
    assert entry.actor == "token:test-contract_manager"


async def test_recording_a_fact_is_for_managers_and_operators_not_viewers(api_as: ApiAs) -> None:
    r = await api_as("contract_manager").post(
        "/api/contracts/ctr_reference_msa/cases",
        json={
            "clause": "termination_for_convenience",
            "facts": {"notice_received_at": "2026-11-02T10:00:00-05:00", "given_by": "customer"},
        },
        headers={"Idempotency-Key": "access-fact"},
    )
    assert r.status_code == 201, r.text
    url = f"/api/cases/{r.json()['id']}/facts"
    fact = {
        "fact": "withdrawal_agreed",
        "values": {
            "customer_signatory": "Dana Whitfield",
            "provider_signatory": "Sam Okafor",
            "agreed_on": "2026-11-03",
        },
        "recorded_by": "dana@customer.example.com",
        "reason": "both sides signed",
    }
    refused = await api_as("viewer").post(url, json=fact)
    assert refused.status_code == 403
    assert (await api_as("viewer").get(url.removesuffix("/facts"))).json()["state"] == (
        "notice_period_running"
    )
    done = await api_as("operator").post(url, json=fact)
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "withdrawn"


# -- tokens ----------------------------------------------------------------------------


def _everything_stored() -> str:
    return repr(_store_snapshot())


async def test_tokens_are_stored_hashed_and_shown_once(
    bare: Callable[..., httpx.AsyncClient], make_token: MakeToken
) -> None:
    admin = bare(bearer(make_token("admin")))
    r = await admin.post("/api/tokens", json={"name": "billing-sync", "role": "viewer"})
    assert r.status_code == 201, r.text
    created = r.json()
    plaintext = created["token"]
    assert plaintext.startswith("cf_") and len(plaintext) > 40
    assert created["prefix"] == plaintext[:9]
    with Session(get_engine()) as session:
        row = session.get(ApiToken, created["id"])
        assert row is not None
        assert row.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext not in _everything_stored()
    listed = await admin.get("/api/tokens")
    assert plaintext not in listed.text and "token_hash" not in listed.text
    assert created["id"] in [t["id"] for t in listed.json()["items"]]
    me = await bare(bearer(plaintext)).get("/api/me")
    assert me.json() == {
        "kind": "token",
        "id": created["id"],
        "name": "token:billing-sync",
        "role": "viewer",
        "permissions": ["read"],
        "via_session": False,
        "user_id": None,
    }


async def test_a_revoked_token_is_refused_and_the_revocation_audited(
    bare: Callable[..., httpx.AsyncClient], make_token: MakeToken
) -> None:
    admin = bare(bearer(make_token("admin", "ops-admin")))
    created = (await admin.post("/api/tokens", json={"name": "ci", "role": "operator"})).json()
    user = bare(bearer(created["token"]))
    assert (await user.get("/api/cases")).status_code == 200
    r = await admin.delete(f"/api/tokens/{created['id']}")
    assert r.status_code == 200 and r.json()["revoked_at"], r.text
    refused = await user.get("/api/cases")
    assert refused.status_code == 401
    assert refused.json()["detail"] == "the bearer token is not valid (unknown or revoked)"
    assert (await admin.delete(f"/api/tokens/{created['id']}")).status_code == 200  # repeatable
    assert created["id"] not in [t["id"] for t in (await admin.get("/api/tokens")).json()["items"]]
    with_revoked = await admin.get("/api/tokens", params={"include_revoked": "true"})
    assert created["id"] in [t["id"] for t in with_revoked.json()["items"]]
    with Session(get_engine()) as session:
        entries = session.exec(
            select(AuditEntry).where(col(AuditEntry.action).in_(["token_created", "token_revoked"]))
        ).all()
    revoked = [e for e in entries if e.action == "token_revoked"]
    assert len(revoked) == 1 and revoked[0].actor == "token:ops-admin"
    assert revoked[0].before["revoked_at"] is None and revoked[0].after["revoked_at"]
    assert created["token"] not in repr([(e.before, e.after) for e in entries])


@pytest.mark.parametrize(
    "header",
    ["Bearer cf_not-a-token", "Bearer something", "Basic YWRtaW46YWRtaW4=", "Bearer", "cf_x"],
)
async def test_bad_credentials_are_401(bare: Callable[..., httpx.AsyncClient], header: str) -> None:
    r = await bare({"Authorization": header}).get("/api/cases")
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"] == "Bearer"


async def test_unknown_token_id_is_404_and_bad_role_422(
    bare: Callable[..., httpx.AsyncClient], make_token: MakeToken
) -> None:
    admin = bare(bearer(make_token("admin")))
    assert (await admin.delete("/api/tokens/tok_nope")).status_code == 404
    r = await admin.post("/api/tokens", json={"name": "x", "role": "superuser"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "role"
    r = await admin.post("/api/tokens", json={"name": "x", "role": "viewer", "user_id": "usr_no"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "user_id"


async def test_a_users_token_acts_with_no_more_than_the_users_role_and_stops_with_them(
    bare: Callable[..., httpx.AsyncClient], make_token: MakeToken
) -> None:
    admin = bare(bearer(make_token("admin")))
    user = _user("vera@customer.example.com", "viewer")
    r = await admin.post(
        "/api/tokens", json={"name": "vera-laptop", "role": "admin", "user_id": user.id}
    )
    assert r.status_code == 201, r.text
    vera = bare(bearer(r.json()["token"]))
    assert (await vera.get("/api/me")).json()["role"] == "viewer"
    assert (await vera.get("/api/users")).status_code == 403
    r = await admin.patch(f"/api/users/{user.id}", json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    refused = await vera.get("/api/me")
    assert refused.status_code == 401
    assert "deactivated" in refused.json()["detail"]


def test_last_used_at_is_written_at_most_once_a_minute(db_url: str) -> None:
    with Session(get_engine(), expire_on_commit=False) as session:
        token, plaintext = create_token(session, "t", "viewer", created_by="tests")
        t0 = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
        assert touch_token(session, token, t0)
        assert not touch_token(session, token, t0 + dt.timedelta(seconds=59))
        assert token.last_used_at == t0
        assert touch_token(session, token, t0 + dt.timedelta(seconds=61))
        session.commit()
        assert find_token(session, plaintext) is not None
        assert find_token(session, plaintext.replace("cf_", "xx_")) is None


async def test_a_request_records_when_its_token_was_used(
    bare: Callable[..., httpx.AsyncClient], make_token: MakeToken
) -> None:
    plaintext = make_token("viewer")
    await bare(bearer(plaintext)).get("/api/me")
    with Session(get_engine()) as session:
        token = session.exec(
            select(ApiToken).where(ApiToken.token_hash == secret_hash(plaintext))
        ).one()
    assert token.last_used_at is not None
    assert dt.datetime.now(dt.UTC) - token.last_used_at < dt.timedelta(minutes=1)


# -- users -----------------------------------------------------------------------------


async def test_users_get_an_argon2id_hash_and_changes_are_audited(
    bare: Callable[..., httpx.AsyncClient], make_token: MakeToken
) -> None:
    admin = bare(bearer(make_token("admin", "root")))
    password = "a long enough passphrase"
    r = await admin.post(
        "/api/users",
        json={"email": "Olga@Provider.example", "role": "operator", "password": password},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["email"] == "olga@provider.example" and body["display_name"] == "olga"
    assert "password" not in r.text and "hash" not in r.text
    with Session(get_engine()) as session:
        row = session.get(User, body["id"])
        assert row is not None
    assert row.password_hash.startswith("$argon2id$")
    assert verify_password(row.password_hash, password)
    assert not verify_password(row.password_hash, "wrong")
    assert password not in _everything_stored()

    duplicate = await admin.post(
        "/api/users",
        json={"email": "olga@provider.example", "role": "viewer", "password": password},
    )
    assert duplicate.status_code == 409

    r = await admin.patch(
        f"/api/users/{body['id']}", json={"role": "viewer", "password": "another passphrase"}
    )
    assert r.status_code == 200 and r.json()["role"] == "viewer"
    listed = await admin.get("/api/users")
    assert [u["email"] for u in listed.json()["items"]] == ["olga@provider.example"]
    with Session(get_engine()) as session:
        entries = session.exec(
            select(AuditEntry)
            .where(col(AuditEntry.action).in_(["user_created", "user_updated"]))
            .order_by(col(AuditEntry.id))
        ).all()
    assert [(e.action, e.actor) for e in entries] == [
        ("user_created", "token:root"),
        ("user_updated", "token:root"),
    ]
    assert entries[1].before["role"] == "operator" and entries[1].after["role"] == "viewer"
    assert entries[1].after["password"] == "changed"
    recorded = repr([(e.before, e.after) for e in entries])
    assert "argon2" not in recorded and password not in recorded
    assert "another passphrase" not in recorded


async def test_an_admin_may_not_lock_themselves_out(
    bare: Callable[..., httpx.AsyncClient],
) -> None:
    admin = _user("root@provider.example", "admin")
    cookie, csrf = _session_cookie(admin)
    client = bare({CSRF_HEADER: csrf}, cookies={SESSION_COOKIE: cookie})
    for change in ({"role": "viewer"}, {"active": False}):
        r = await client.patch(f"/api/users/{admin.id}", json=change)
        assert r.status_code == 409, r.text
    assert (await client.patch(f"/api/users/{admin.id}", json={"role": "admin"})).status_code == 200


async def test_unknown_user_is_404(
    bare: Callable[..., httpx.AsyncClient], make_token: MakeToken
) -> None:
    r = await bare(bearer(make_token("admin"))).patch("/api/users/usr_nope", json={"active": True})
    assert r.status_code == 404


# -- console sessions and CSRF ---------------------------------------------------------


def test_signing_in_checks_the_password_and_the_user(db_url: str) -> None:
    user = _user("ann@provider.example", "operator", "her own passphrase")
    with Session(get_engine(), expire_on_commit=False) as session:
        assert start_console_session(session, "ann@provider.example", "wrong") is None
        assert start_console_session(session, "nobody@provider.example", "x") is None
        started = start_console_session(session, "ANN@provider.example", "her own passphrase")
        assert started is not None
        cookie, csrf = started
        row = session.get(ConsoleSession, secret_hash(cookie))
        assert row is not None and row.user_id == user.id and row.csrf_token == csrf
        assert cookie not in _everything_stored()
        max_age = dt.timedelta(seconds=get_settings().session_max_age_seconds)
        assert abs(row.expires_at - row.created_at - max_age) < dt.timedelta(seconds=1)
        db_user = session.get(User, user.id)
        assert db_user is not None
        db_user.active = False
        session.add(db_user)
        session.commit()
        assert start_console_session(session, "ann@provider.example", "her own passphrase") is None


async def test_a_session_cookie_authenticates_and_unsafe_requests_need_its_csrf_token(
    bare: Callable[..., httpx.AsyncClient],
) -> None:
    user = _user("maria@customer.example.com", "contract_manager")
    cookie, csrf = _session_cookie(user)
    browser = bare(cookies={SESSION_COOKIE: cookie})
    me = await browser.get("/api/me")
    assert me.status_code == 200, me.text
    assert me.json()["name"] == "maria@customer.example.com" and me.json()["via_session"]

    before = _store_snapshot()
    body = {"clause": "termination_for_convenience", "facts": {}}
    for headers in ({}, {CSRF_HEADER: "forged"}, {CSRF_HEADER: ""}):
        r = await browser.post(
            "/api/contracts/ctr_reference_msa/cases",
            json=body,
            headers={"Idempotency-Key": "csrf", **headers},
        )
        assert r.status_code == 403, r.text
        assert "CSRF token" in r.json()["detail"]
    assert _store_snapshot() == before
    # With the token the request is let through (and fails on its facts, not on access).
    r = await browser.post(
        "/api/contracts/ctr_reference_msa/cases",
        json=body,
        headers={"Idempotency-Key": "csrf", CSRF_HEADER: csrf},
    )
    assert r.status_code == 422, r.text


async def test_a_bearer_token_needs_no_csrf_token(
    bare: Callable[..., httpx.AsyncClient], make_token: MakeToken
) -> None:
    r = await bare(bearer(make_token("admin"))).post(
        "/api/tokens", json={"name": "no-csrf", "role": "viewer"}
    )
    assert r.status_code == 201, r.text


async def test_expired_ended_and_deactivated_sessions_are_refused(
    bare: Callable[..., httpx.AsyncClient],
) -> None:
    user = _user("sam@provider.example", "operator")
    expired, _ = _session_cookie(user, dt.timedelta(seconds=-1))
    ended, _ = _session_cookie(user)
    with Session(get_engine()) as session:
        end_console_session(session, ended)
    for cookie in (expired, ended, "made-up"):
        r = await bare(cookies={SESSION_COOKIE: cookie}).get("/api/me")
        assert r.status_code == 401, r.text
        assert r.json()["detail"].startswith("the console session has expired or was ended")
    live, _ = _session_cookie(user)
    assert (await bare(cookies={SESSION_COOKIE: live}).get("/api/me")).status_code == 200
    with Session(get_engine()) as session:
        row = session.get(User, user.id)
        assert row is not None
        row.active = False
        session.add(row)
        session.commit()
    assert (await bare(cookies={SESSION_COOKIE: live}).get("/api/me")).status_code == 401


async def test_a_bad_bearer_token_is_refused_even_with_a_good_cookie(
    bare: Callable[..., httpx.AsyncClient],
) -> None:
    cookie, _ = _session_cookie(_user("kim@provider.example", "admin"))
    r = await bare({"Authorization": "Bearer cf_wrong"}, cookies={SESSION_COOKIE: cookie}).get(
        "/api/me"
    )
    assert r.status_code == 401


async def test_changing_a_password_signs_the_user_out(
    bare: Callable[..., httpx.AsyncClient], make_token: MakeToken
) -> None:
    user = _user("lee@provider.example", "viewer")
    cookie, _ = _session_cookie(user)
    browser = bare(cookies={SESSION_COOKIE: cookie})
    assert (await browser.get("/api/me")).status_code == 200
    r = await bare(bearer(make_token("admin"))).patch(
        f"/api/users/{user.id}", json={"password": "a brand new passphrase"}
    )
    assert r.status_code == 200, r.text
    assert (await browser.get("/api/me")).status_code == 401


def _form_app() -> FastAPI:
    app = FastAPI()

    @app.post("/act")
    async def act(principal: Operator, note: str = Form()) -> dict[str, str]:
        return {"actor": principal.name, "note": note}

    return app


async def test_a_console_form_carries_the_csrf_token_as_a_field(db_url: str) -> None:
    cookie, csrf = _session_cookie(_user("op@provider.example", "operator"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_form_app()),
        base_url=BASE_URL,
        cookies={SESSION_COOKIE: cookie},
    ) as browser:
        refused = await browser.post("/act", data={"note": "hi", "csrf_token": "forged"})
        assert refused.status_code == 403
        missing = await browser.post("/act", data={"note": "hi"})
        assert missing.status_code == 403
        ok = await browser.post("/act", data={"note": "hi", "csrf_token": csrf})
        assert ok.status_code == 200, ok.text
        assert ok.json() == {"actor": "op@provider.example", "note": "hi"}


def test_principals_know_their_permissions() -> None:
    viewer = Principal(kind="token", id="tok_1", name="token:x", role="viewer")
    assert viewer.can("read") and not viewer.can("operate") and not viewer.can("nonsense")
    admin = Principal(kind="user", id="usr_1", name="a@b", role="admin")
    assert all(admin.can(p) for p in PERMISSIONS)


# -- the store down, and the schema ----------------------------------------------------


async def test_with_the_store_down_a_recently_checked_token_still_reads_but_never_writes(
    bare: Callable[..., httpx.AsyncClient], make_token: MakeToken, monkeypatch: pytest.MonkeyPatch
) -> None:
    known, unseen = make_token("admin"), make_token("admin")
    assert (await bare(bearer(known)).get("/api/me")).status_code == 200
    monkeypatch.setenv("DATABASE_URL", "postgresql://clauseflow@127.0.0.1:1/none")
    get_settings.cache_clear()
    get_engine.cache_clear()
    assert (await bare(bearer(known)).get("/api/me")).status_code == 200
    r = await bare(bearer(known)).post("/api/tokens", json={"name": "x", "role": "viewer"})
    assert r.status_code == 503 and "store is unavailable" in r.json()["detail"]
    assert (await bare(bearer(unseen)).get("/api/me")).status_code == 503


def test_the_openapi_schema_documents_the_bearer_scheme_and_its_refusals() -> None:
    schema = create_app().openapi()
    assert schema["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            label = f"{method.upper()} {path}"
            if label in EXEMPT:
                assert not operation.get("security"), label
                continue
            assert operation.get("security") == [{"bearerToken": []}], label
            assert {"401", "403"} <= set(operation["responses"]), label
