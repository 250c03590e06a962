"""`/readyz`: 200 when the database and Temporal answer, 503 naming what does not."""

from __future__ import annotations

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from runtime.codec import format_key, new_key
from runtime.settings import get_settings
from store.db import get_engine
from tests.conftest import BIN


async def test_ready_when_database_and_temporal_answer(api: httpx.AsyncClient) -> None:
    r = await api.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "status": "ok",
        "down": [],
        "components": {"database": {"status": "ok"}, "temporal": {"status": "ok"}},
    }


async def test_database_down_is_a_503_naming_the_database(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Port 1: nothing listens, the connection is refused at once.
    monkeypatch.setenv("DATABASE_URL", "postgresql://clauseflow@127.0.0.1:1/clauseflow")
    get_settings.cache_clear()
    get_engine.cache_clear()
    r = await api.get("/readyz")
    assert r.status_code == 503, r.text
    body = r.json()
    assert body["down"] == ["database"]
    assert body["components"]["database"]["status"] == "down"
    assert body["components"]["database"]["error"]
    assert body["components"]["temporal"] == {"status": "ok"}


async def test_temporal_down_is_a_503_naming_temporal(db_url: str) -> None:
    # A client whose server has gone away, as after a Temporal outage.
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN / "temporal-test-server"),
    )
    app = create_app()
    app.state.temporal = env.client
    await env.shutdown()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://clauseflow.test") as api:
        r = await api.get("/readyz")
    assert r.status_code == 503, r.text
    body = r.json()
    assert body["down"] == ["temporal"]
    assert body["components"]["temporal"]["status"] == "down"
    assert body["components"]["database"] == {"status": "ok"}


async def test_temporal_unreachable_at_start_is_a_503_naming_temporal(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")
    # A valid key, so that the connection itself is what fails.
    monkeypatch.setenv("PAYLOAD_ENCRYPTION_KEYS", format_key(*new_key("test-")))
    get_settings.cache_clear()
    app = create_app()  # no client yet: the check connects
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://clauseflow.test") as api:
        r = await api.get("/readyz")
    assert r.status_code == 503, r.text
    assert r.json()["down"] == ["temporal"]
    assert "connect" in r.json()["components"]["temporal"]["error"]
