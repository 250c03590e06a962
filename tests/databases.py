"""Test databases: a SQLite file per test, or a PostgreSQL database per test run.

PostgreSQL runs on 127.0.0.1:5432 on these machines (trust auth). Each test run gets
its own database, created here and dropped at the end, so runs never share data; the
tables are emptied between tests, which is much faster than migrating each time.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

import store.models  # noqa: F401  (registers the tables)
from store.db import normalise_url

#: DATABASE_URL as the test run started (tests change the variable as they go).
RUN_DATABASE_URL = os.environ.get("DATABASE_URL", "")
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def run_uses_postgres() -> bool:
    """`DATABASE_URL=postgresql://... make test`: every test runs on PostgreSQL."""
    return RUN_DATABASE_URL.startswith(("postgresql", "postgres"))


def postgres_server() -> str:
    """The server to create test databases on (from DATABASE_URL when it is PostgreSQL)."""
    return RUN_DATABASE_URL if run_uses_postgres() else DEFAULT_POSTGRES


@contextmanager
def temporary_postgres_database() -> Iterator[str]:
    """Creates an empty database on the test server and drops it afterwards."""
    server = normalise_url(postgres_server())
    name = f"clauseflow_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        base, _, _ = server.rpartition("/")
        yield f"{base}/{name}"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def empty_tables(url: str) -> None:
    """Deletes every row, keeping the schema (between tests on a shared database)."""
    engine = create_engine(normalise_url(url))
    try:
        names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        with engine.begin() as c:
            c.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()
