"""Bounded requests: a body over its limit is refused with 413 before it is read, and
the webhook refuses an unsigned request without reading its body at all.

The oversized requests are raw ASGI calls whose ``receive`` counts what the app takes
(or fails the test if it takes anything), so "not read" is observed, not assumed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from api.limits import BodyLimit
from api.main import create_app
from runtime.settings import get_settings
from tests.api.conftest import bearer, issue_token
from tests.api.helpers import BASE_URL
from tests.api.test_webhooks import SIG, TS, Signer
from tests.conftest import use_database
from tests.workflows.helpers import seed_reference_contract

MIB = 1024 * 1024
CHUNK = 64 * 1024


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """SQLite only: the limits are the same whatever the store."""
    return use_database("sqlite", request, tmp_path, monkeypatch)


@pytest.fixture
def app(db_url: str) -> FastAPI:
    get_settings.cache_clear()
    app = create_app()
    app.state.temporal = object()  # no request here may reach Temporal
    seed_reference_contract()
    return app


@pytest.fixture
def signer(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Signer]:
    s = Signer()
    monkeypatch.setenv("SENDGRID_WEBHOOK_PUBLIC_KEY", s.public_b64)
    get_settings.cache_clear()
    yield s
    get_settings.cache_clear()


class Body:
    """A request body the app pulls chunk by chunk; counts what it took."""

    def __init__(self, total: int, *, forbidden: bool = False) -> None:
        self.left = total
        self.taken = 0
        self.forbidden = forbidden

    async def __call__(self) -> Message:
        if self.forbidden:
            raise AssertionError("the app read a body it should have refused unread")
        size = min(CHUNK, self.left)
        self.left -= size
        self.taken += size
        return {"type": "http.request", "body": b" " * size, "more_body": self.left > 0}


async def call(
    app: Any, path: str, receive: Receive, headers: dict[str, str]
) -> tuple[int, dict[str, str], dict[str, Any]]:
    """One raw ASGI POST; returns the status, the headers and the JSON answer."""
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1234),
        "server": ("clauseflow.test", 80),
        "state": {},
    }
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    answer_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], answer_headers, json.loads(body)


async def test_a_declared_body_over_the_limit_is_refused_unread(app: FastAPI) -> None:
    headers = {**bearer(issue_token("admin")), "content-type": "application/json"}
    for length in (MIB + 1, 120 * MIB):
        body = Body(length, forbidden=True)
        status, answer_headers, answer = await call(
            app, "/api/contracts", body, {**headers, "content-length": str(length)}
        )
        assert status == 413, answer
        assert answer["detail"] == (
            f"the request body of {length} bytes is larger than the limit of 1048576 bytes "
            "(MAX_REQUEST_BYTES); send less, or raise the limit"
        )
        assert answer_headers["connection"] == "close"


async def test_a_chunked_body_over_the_limit_is_cut_off_at_the_limit(app: FastAPI) -> None:
    headers = {**bearer(issue_token("admin")), "content-type": "application/json"}
    body = Body(50 * MIB)  # no Content-Length: counted as it streams
    status, _, answer = await call(app, "/api/contracts", body, headers)
    assert status == 413, answer
    assert "larger than the limit of 1048576 bytes (MAX_REQUEST_BYTES)" in answer["detail"]
    assert body.taken <= MIB + CHUNK  # never more than the limit and one chunk


async def test_the_limit_is_a_setting(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_REQUEST_BYTES", "100")
    get_settings.cache_clear()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=BASE_URL,
        headers=bearer(issue_token("admin")),
    ) as client:
        r = await client.post("/api/tokens", json={"name": "x" * 200, "role": "viewer"})
        assert r.status_code == 413, r.text
        assert "limit of 100 bytes (MAX_REQUEST_BYTES)" in r.json()["detail"]
        # A console form is refused the same way, before its CSRF field is looked for.
        r = await client.post("/console/login", data={"email": "a" * 200, "password": "x"})
        assert r.status_code == 413, r.text


async def test_an_agreements_text_has_a_limit_of_its_own(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A DOCX or PDF of an agreement is often over a megabyte: its upload paths take
    # MAX_DOCUMENT_BYTES, every other path keeps MAX_REQUEST_BYTES.
    monkeypatch.setenv("MAX_REQUEST_BYTES", "100")
    monkeypatch.setenv("MAX_DOCUMENT_BYTES", "5000")
    get_settings.cache_clear()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=BASE_URL,
        headers=bearer(issue_token("contract_manager")),
    ) as client:
        big = "Either party may terminate this Agreement. " * 50  # about 2,200 bytes
        r = await client.post("/api/contracts/proposals", json={"text": big})
        assert r.status_code == 200, r.text
        r = await client.post(
            "/api/contracts/proposals/document", files={"file": ("a.txt", big.encode())}
        )
        assert r.status_code == 200, r.text
        r = await client.post("/api/contracts/proposals", json={"text": big * 3})
        assert r.status_code == 413, r.text
        assert "limit of 5000 bytes (MAX_DOCUMENT_BYTES)" in r.json()["detail"]
        r = await client.post("/api/tokens", json={"name": "x" * 200, "role": "viewer"})
        assert r.status_code == 413, r.text
        assert "(MAX_REQUEST_BYTES)" in r.json()["detail"]


async def test_a_request_within_the_limit_still_works(app: FastAPI) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=BASE_URL,
        headers=bearer(issue_token("admin")),
    ) as client:
        r = await client.post("/api/tokens", json={"name": "billing-sync", "role": "viewer"})
        assert r.status_code == 201, r.text
        # A request with no body at all, and one whose declared size is exactly the limit.
        assert (await client.get("/api/me")).status_code == 200
    body = Body(MIB)
    headers = {**bearer(issue_token("admin")), "content-type": "application/json"}
    status, _, answer = await call(
        app, "/api/contracts", body, {**headers, "content-length": str(MIB)}
    )
    assert status == 422 and body.taken == MIB, answer  # read whole, refused for its content


async def test_an_unsigned_webhook_is_refused_before_its_body_is_read(
    app: FastAPI, signer: Signer
) -> None:
    json_type = {"content-type": "application/json"}
    for headers in ({}, {TS: "12345"}, {SIG: "c2ln"}, {SIG: "not base64!", TS: "1"}):
        status, _, answer = await call(
            app, "/webhooks/sendgrid", Body(120 * MIB, forbidden=True), {**json_type, **headers}
        )
        assert status == 403, answer
    # 120 MB declared: refused by its size, unread, whatever its headers.
    status, _, answer = await call(
        app,
        "/webhooks/sendgrid",
        Body(120 * MIB, forbidden=True),
        {**json_type, "content-length": str(120 * MIB)},
    )
    assert status == 413 and "(MAX_WEBHOOK_BYTES)" in answer["detail"], answer


async def test_a_signed_webhook_has_its_own_larger_limit(app: FastAPI, signer: Signer) -> None:
    # A batch larger than the API's 1 MiB: 300 events with long custom arguments.
    events = [
        {"event": "processed", "sg_event_id": f"e{i}", "email": "x@y.z", "note": "n" * 4000}
        for i in range(300)
    ]
    payload = json.dumps(events).encode()
    assert MIB < len(payload) < get_settings().max_webhook_bytes
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as c:
        r = await c.post("/webhooks/sendgrid", content=payload, headers=signer.headers(payload))
        assert r.status_code == 200, r.text
        assert r.json()["received"] == 300
    # Streamed past MAX_WEBHOOK_BYTES with well-formed headers: cut off at the limit.
    body = Body(40 * MIB)
    status, _, answer = await call(app, "/webhooks/sendgrid", body, signer.headers(b"", None))
    assert status == 413 and "(MAX_WEBHOOK_BYTES)" in answer["detail"], answer
    assert body.taken <= get_settings().max_webhook_bytes + CHUNK


async def test_an_app_that_swallows_the_refusal_still_answers_413(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAX_REQUEST_BYTES", "10")
    get_settings.cache_clear()

    async def careless(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            while (await receive()).get("more_body"):
                pass
        except Exception:  # a route that turns every read error into a 400
            pass
        await send({"type": "http.response.start", "status": 400, "headers": []})
        await send({"type": "http.response.body", "body": b"bad body"})

    try:
        status, _, answer = await call(BodyLimit(careless), "/x", Body(1000), {})
    finally:
        get_settings.cache_clear()
    assert status == 413 and "limit of 10 bytes" in answer["detail"]
