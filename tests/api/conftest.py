"""An API client wired to the test database and a Temporal environment with a worker.

Every route needs a token, so the ``api`` client sends an admin token by default: the
tests of what the API does need not care about access. ``make_token(role)`` makes a
token of any role and ``api_as(role)`` a client that sends one (``api_as(None)``:
no credentials at all); tests/api/test_access.py uses them to test who may do what.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import Session
from temporalio.client import Client

from api.main import create_app
from store.auth import create_token
from store.db import get_engine
from tests.clock import DATABASES
from tests.conftest import use_database
from tests.workflows.helpers import seed_reference_contract

#: ``make_token(role, name=None) -> plaintext``
MakeToken = Callable[..., str]
#: ``api_as(role | None) -> client`` sending a fresh token of that role (or none)
ApiAs = Callable[[str | None], httpx.AsyncClient]


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """API tests run on SQLite and on PostgreSQL."""
    return use_database(request.param, request, tmp_path, monkeypatch)


def issue_token(role: str, name: str | None = None) -> str:
    """Creates an API token of ``role`` in the test database; returns its plaintext."""
    with Session(get_engine(), expire_on_commit=False) as session:
        _, plaintext = create_token(session, name or f"test-{role}", role, created_by="tests")
        session.commit()
    return plaintext


def bearer(token: str) -> dict[str, str]:
    """The header that sends ``token``."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def make_token(db_url: str) -> MakeToken:
    """Makes API tokens of any role in this test's database."""
    return issue_token


@pytest.fixture
async def api_app(worker: Client) -> FastAPI:
    """The app, its Temporal client the test worker's, with the reference contract."""
    app = create_app()
    app.state.temporal = worker
    seed_reference_contract()
    return app


@pytest.fixture
async def api_as(api_app: FastAPI, make_token: MakeToken) -> AsyncIterator[ApiAs]:
    """Clients of the in-process API acting with a role (``None``: anonymous)."""
    # Imported here, not at the top: under `make test-later` this conftest loads before the
    # clock moves ahead, and tests.api.helpers takes its NOW when it is first imported.
    from tests.api.helpers import clients_of

    async with clients_of(api_app) as client:
        yield lambda role: client(bearer(make_token(role)) if role else {})


@pytest.fixture
async def api(api_as: ApiAs) -> httpx.AsyncClient:
    """The API in-process, on the same event loop as the Temporal client, as an admin."""
    return api_as("admin")
