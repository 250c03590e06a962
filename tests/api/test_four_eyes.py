"""Four eyes per person: a deadline amendment is approved by another person, not by
another credential (a second token, a console session) of the one who proposed it."""

from __future__ import annotations

import datetime as dt

import httpx
from fastapi import FastAPI
from sqlmodel import Session, select

from api.access import CSRF_HEADER, SESSION_COOKIE
from store.auth import create_console_session, create_token
from store.db import get_engine
from store.models import Deadline, User
from tests.api.helpers import BASE_URL, open_case, person_with_tokens
from tests.workflows.helpers import audit, eventually


def _due(case_id: str) -> dt.datetime:
    with Session(get_engine()) as s:
        row = s.exec(
            select(Deadline).where(Deadline.case_id == case_id, Deadline.name == "effective_date")
        ).one()
        return row.due_at


async def _case_and_its_due(api: httpx.AsyncClient, key: str) -> tuple[str, dt.datetime]:
    """A new termination case, and when its effective date is due before any amendment."""
    case_id = (await open_case(api, key))["id"]
    return case_id, _due(case_id)


async def _propose(api: httpx.AsyncClient, case_id: str, headers: dict[str, str]) -> str:
    r = await api.post(
        f"/api/cases/{case_id}/deadlines/effective_date/amendments",
        json={
            "due_at": (_due(case_id) + dt.timedelta(days=7)).isoformat(),
            "reason": "parties agreed a week's extension",
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["amendment_id"])


async def _approve(
    api: httpx.AsyncClient, case_id: str, amendment: str, headers: dict[str, str], **kw: object
) -> httpx.Response:
    return await api.post(
        f"/api/cases/{case_id}/amendments/{amendment}/approve",
        json={"reason": "checked against the signed letter"},
        headers=headers,
        **kw,  # type: ignore[arg-type]
    )


def _browser(app: FastAPI, user_id: str) -> httpx.AsyncClient:
    """A signed-in console session of the user, sending its CSRF token as the console does."""
    with Session(get_engine(), expire_on_commit=False) as s:
        user = s.get(User, user_id)
        assert user is not None
        cookie, row = create_console_session(s, user, dt.timedelta(hours=1))
        s.commit()
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=BASE_URL,
        cookies={SESSION_COOKIE: cookie},
        headers={CSRF_HEADER: row.csrf_token},
    )


async def test_two_tokens_of_one_user_cannot_propose_and_approve_an_amendment(
    api: httpx.AsyncClient,
) -> None:
    case_id, before = await _case_and_its_due(api, "two-tokens")
    _, [laptop, ci] = person_with_tokens("alice@customer.example.com", "operator", "laptop", "ci")
    amendment = await _propose(api, case_id, laptop)

    same = await _approve(api, case_id, amendment, ci)
    assert same.status_code == 409, same.text
    detail = same.json()["detail"]
    assert "a second person must approve it" in detail
    assert "alice@customer.example.com (token ci) is the same person" in detail
    assert _due(case_id) == before
    assert audit(case_id, "approve_amendment") == []

    _, [bob] = person_with_tokens("bob@customer.example.com", "operator", "ci")
    ok = await _approve(api, case_id, amendment, bob)
    assert ok.status_code == 200, ok.text
    await eventually(lambda: _due(case_id) == before + dt.timedelta(days=7))
    [approved] = await eventually(lambda: audit(case_id, "approve_amendment"))
    assert approved.actor == "bob@customer.example.com (token ci)"


async def test_a_users_console_session_and_their_token_are_one_person(
    api: httpx.AsyncClient, api_app: FastAPI
) -> None:
    case_id, before = await _case_and_its_due(api, "session-and-token")
    alice, [token] = person_with_tokens("alice@customer.example.com", "operator", "laptop")
    async with _browser(api_app, alice) as session:
        # Proposed with the token, approved in the session: refused.
        amendment = await _propose(api, case_id, token)
        r = await _approve(session, case_id, amendment, {})
        assert r.status_code == 409, r.text
        assert "alice@customer.example.com is the same person" in r.json()["detail"]
        rejected = await session.post(
            f"/api/cases/{case_id}/amendments/{amendment}/reject", json={"reason": "withdrawn"}
        )
        assert rejected.status_code == 200, rejected.text
        # Proposed in the session, approved with the token: refused too.
        amendment = await _propose(session, case_id, {})
        r = await _approve(api, case_id, amendment, token)
        assert r.status_code == 409, r.text
    assert _due(case_id) == before


async def test_a_token_with_no_user_never_approves_and_stands_for_its_issuer(
    api: httpx.AsyncClient, api_app: FastAPI
) -> None:
    case_id, before = await _case_and_its_due(api, "no-user")
    root, [root_token] = person_with_tokens("root@provider.example", "admin", "root")
    # Two tokens with no user, made by one admin through the API.
    made = []
    for name in ("bot-1", "bot-2"):
        r = await api.post(
            "/api/tokens", json={"name": name, "role": "operator"}, headers=root_token
        )
        assert r.status_code == 201 and r.json()["user_id"] is None, r.text
        made.append({"Authorization": f"Bearer {r.json()['token']}"})
    amendment = await _propose(api, case_id, made[0])

    refused = await _approve(api, case_id, amendment, made[1])
    assert refused.status_code == 403, refused.text
    assert "token:bot-2 is a token with no user" in refused.json()["detail"]
    assert "cannot be the second person who approves" in refused.json()["detail"]
    # The admin who issued the token that proposed it is the same person.
    async with _browser(api_app, root) as session:
        r = await _approve(session, case_id, amendment, {})
        assert r.status_code == 409, r.text
        assert "root@provider.example is the same person" in r.json()["detail"]
    assert _due(case_id) == before

    # A token of the command line (no issuer) cannot approve either; another person can.
    with Session(get_engine()) as s:
        _, cli = create_token(s, "cli-bot", "admin", created_by="clauseflow cli")
        s.commit()
    r = await _approve(api, case_id, amendment, {"Authorization": f"Bearer {cli}"})
    assert r.status_code == 403, r.text
    _, [bob] = person_with_tokens("bob@customer.example.com", "operator", "ci")
    assert (await _approve(api, case_id, amendment, bob)).status_code == 200
    await eventually(lambda: _due(case_id) == before + dt.timedelta(days=7))
