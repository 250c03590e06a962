"""Shared fixtures: a migrated database per test, Temporal test servers and a worker."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from store.db import get_engine
from store.migrate import upgrade
from store.settings import get_settings
from workers.temporal import (
    DATA_CONVERTER,
    SEARCH_ATTRIBUTES,
    build_worker,
    register_search_attributes,
)

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A file in ../shared; fails (never skips) when it is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"{path} is missing: tests read the reference material from ../shared")
    return path


def _reset_caches() -> None:
    get_settings.cache_clear()
    get_engine.cache_clear()


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, migrated SQLite database that the whole process uses for this test."""
    url = f"sqlite:///{tmp_path / 'clauseflow.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("SENDGRID_API_KEY", raising=False)
    _reset_caches()
    upgrade(url)
    yield url
    get_engine(url).dispose()
    _reset_caches()


@pytest.fixture
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """A fresh time-skipping test server: 90 days pass in milliseconds.

    One per test, because skipped time cannot be turned back.
    """
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER,
        test_server_existing_path=str(BIN / "temporal-test-server"),
    )
    await register_search_attributes(env.client)
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """A real Temporal dev server (the `temporal` CLI) with our search attributes."""
    from temporalio.common import SearchAttributeKey

    keys = [SearchAttributeKey.for_keyword(name) for name in SEARCH_ATTRIBUTES]
    env = await WorkflowEnvironment.start_local(
        data_converter=DATA_CONVERTER,
        dev_server_existing_path=str(BIN / "temporal"),
        search_attributes=keys,
    )
    yield env
    await env.shutdown()


@pytest.fixture
def task_queue(monkeypatch: pytest.MonkeyPatch) -> str:
    queue = f"test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("TEMPORAL_TASK_QUEUE", queue)
    get_settings.cache_clear()
    return queue


@pytest.fixture
async def worker(
    time_env: WorkflowEnvironment, db_url: str, task_queue: str
) -> AsyncIterator[Client]:
    """A case worker on the time-skipping server; yields the client."""
    async with build_worker(time_env.client, task_queue=task_queue):
        yield time_env.client


os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
