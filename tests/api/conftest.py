"""An API client wired to the test database and a Temporal environment with a worker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from api.main import create_app
from tests.conftest import use_database
from tests.workflows.helpers import seed_reference_contract


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """API tests run on SQLite and on PostgreSQL."""
    return use_database(request.param, request, tmp_path, monkeypatch)


@pytest.fixture
async def api(worker: Client) -> AsyncIterator[httpx.AsyncClient]:
    """The API in-process, on the same event loop as the Temporal client."""
    app = create_app()
    app.state.temporal = worker
    seed_reference_contract()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://clauseflow.test") as client:
        yield client
