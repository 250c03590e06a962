"""Shared fixtures: a migrated database per test, Temporal test servers and a worker."""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import time_machine
from sqlalchemy.exc import OperationalError
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from runtime.codec import EncryptionCodec, format_key, new_key, parse_keys
from runtime.settings import get_settings
from runtime.temporal import SEARCH_ATTRIBUTES, encrypting_converter, register_search_attributes
from store.db import get_engine
from store.migrate import upgrade
from tests.clock import CLOCK_AHEAD, runs_on_the_real_clock
from tests.databases import (
    empty_tables,
    postgres_server,
    run_uses_postgres,
    temporary_postgres_database,
)
from workers.temporal import build_worker

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
#: The throwaway payload key of the test servers' clients (PAYLOAD_ENCRYPTION_KEYS format):
#: a worker started as a subprocess needs it in its environment to read their cases.
TEST_PAYLOAD_KEYS = format_key(*new_key("test-"))


def shared_path(*parts: str) -> Path:
    """A file in ../shared; fails (never skips) when it is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"{path} is missing: tests read the reference material from ../shared")
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A test on a real dev server is one, whether or not its module says so.
    for item in items:
        if "dev_env" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.devserver)


def pytest_report_header() -> str | None:
    if CLOCK_AHEAD is None:
        return None
    return (
        f"the application's clock runs {CLOCK_AHEAD.days} days ahead of the machine's "
        "(tests on a real Temporal dev server keep the machine's clock, and run only in "
        "the first pass; the API and store tests run on SQLite here, on PostgreSQL too "
        "in the first pass)"
    )


def _reset_caches() -> None:
    get_settings.cache_clear()
    get_engine.cache_clear()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """This run's own PostgreSQL database, migrated once."""
    try:
        with temporary_postgres_database() as url:
            upgrade(url)
            yield url
    except OperationalError as exc:
        pytest.fail(f"PostgreSQL at {postgres_server()} is needed by these tests: {exc}")


@functools.cache
def _migrated_sqlite() -> Path:
    """A SQLite database migrated to the newest revision, made once per test process."""
    folder = tempfile.mkdtemp(prefix="clauseflow-migrated-")
    atexit.register(shutil.rmtree, folder, True)
    path = Path(folder) / "clauseflow.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    # The store writes SQLite in WAL mode: fold the log into the file before copying it.
    get_engine(url).dispose()
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA journal_mode=DELETE")
    return path


def use_database(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Points the whole process (API, activities, store) at a clean database of ``kind``."""
    if kind == "postgresql":
        url = request.getfixturevalue("postgres_database")
        empty_tables(url)
    else:
        url = f"sqlite:///{tmp_path / 'clauseflow.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("SENDGRID_API_KEY", raising=False)
    _reset_caches()
    if kind != "postgresql":
        # A copy of one database migrated once per process: the same schema as
        # migrating each test's own, a fraction of the time.
        shutil.copyfile(_migrated_sqlite(), tmp_path / "clauseflow.db")
    request.addfinalizer(_reset_caches)
    request.addfinalizer(lambda: get_engine(url).dispose())
    return url


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A clean, migrated database for this test: SQLite, or PostgreSQL when the run's
    DATABASE_URL points there (tests/api and tests/store run on both anyway)."""
    return use_database(
        "postgresql" if run_uses_postgres() else "sqlite", request, tmp_path, monkeypatch
    )


def pytest_configure(config: pytest.Config) -> None:
    # Under `make test-later` this whole process runs ahead, collection included, so that
    # a module's own "now" agrees with the application's.
    if CLOCK_AHEAD is not None:
        time_machine.travel(time.time() + CLOCK_AHEAD.total_seconds(), tick=True).start()


@pytest.fixture(autouse=True)
def _real_clock_for_a_real_server(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test on a real Temporal dev server runs on the machine's clock, as the server does."""
    if CLOCK_AHEAD is None or not runs_on_the_real_clock(request):
        yield
        return
    with time_machine.travel(time_machine.escape_hatch.time.time(), tick=True):
        yield


@pytest.fixture
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """A fresh time-skipping test server: 90 days pass in milliseconds.

    One per test, because skipped time cannot be turned back. Its clock starts at this
    process's (CLOCK_AHEAD ahead under ``make test-later``).
    """
    env = await WorkflowEnvironment.start_time_skipping(
        # Encrypted like production, under a throwaway key.
        data_converter=encrypting_converter(EncryptionCodec(parse_keys(TEST_PAYLOAD_KEYS))),
        test_server_existing_path=str(BIN / "temporal-test-server"),
    )
    if CLOCK_AHEAD is not None:
        await env.sleep(CLOCK_AHEAD)
    await register_search_attributes(env.client)
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """A real Temporal dev server (the `temporal` CLI) with our search attributes."""
    from temporalio.common import SearchAttributeKey

    keys = [SearchAttributeKey.for_keyword(name) for name in SEARCH_ATTRIBUTES]
    env = await WorkflowEnvironment.start_local(
        data_converter=encrypting_converter(EncryptionCodec(parse_keys(TEST_PAYLOAD_KEYS))),
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
