"""Migrations upgrade from empty, downgrade and upgrade again, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from store.db import normalise_url
from store.migrate import downgrade, upgrade

TABLES = {
    "contract",
    "case",
    "case_count",
    "transition",
    "decision",
    "deadline",
    "notice",
    "notice_event",
    "expected_notice",
    "term_snapshot",
    "agreement_draft",
    "figure_provenance",
    "escalation",
    "deadline_amendment",
    "app_user",
    "api_token",
    "console_session",
    "calendar_feed",
    "audit_entry",
}
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test."""
    name = f"clauseflow_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is needed for this test: {exc}")
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(normalise_url(url))
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _round_trip(url: str) -> None:
    upgrade(url)
    assert _tables(url) == TABLES
    downgrade(url)
    assert _tables(url) == set()
    upgrade(url)
    assert _tables(url) == TABLES


def test_migrations_round_trip_on_sqlite(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'm.db'}")


def test_migrations_round_trip_on_postgresql(postgres_url: str) -> None:
    _round_trip(postgres_url)


def test_the_models_match_the_migrations(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import store.models  # noqa: F401

    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert diff == [], "models changed without a migration: run alembic revision --autogenerate"


def _rows_after_upgrading_from(
    tmp_path: Path, revision: str, query: str, *inserts: tuple[str, dict[str, Any]]
) -> list[tuple[Any, ...]]:
    """Upgrades a new database to ``revision``, writes the rows of that day (each insert
    with its parameters), upgrades it to the head and answers ``query``."""
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url, revision)
    engine = create_engine(url)
    with engine.begin() as c:
        for insert, params in inserts:
            c.execute(text(insert), params)
    engine.dispose()
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as c:
        rows = c.execute(text(query)).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_upgrading_keeps_notices_sent_before_the_evidence_columns(tmp_path: Path) -> None:
    contract = (
        "INSERT INTO contract (id, title, customer_name, provider_name, time_zone,"
        " effective_date, terms, created_at) VALUES ('c', 't', 'a', 'b',"
        " 'America/New_York', '2026-01-01', '{}', '2026-11-01 00:00:00')"
    )
    case = (
        'INSERT INTO "case" (id, contract_id, clause, rulebook_version, state,'
        " state_label, closed, escalated, facts, opened_at, last_step, updated_at)"
        " VALUES ('k', 'c', 'x', 1, 's', 'l', 0, 0, '{}', '2026-11-01 00:00:00', 1,"
        " '2026-11-01 00:00:00')"
    )
    notice = (
        'INSERT INTO notice (id, case_id, notice_key, notice, clause, "to", cc,'
        " subject, body_text, body_html, channel, status, due_at, created_at)"
        " VALUES ('n', 'k', 'key', 'ack', 'x', '[]', '[]', 's', 't', 'h', 'outbox',"
        " 'outboxed', '2026-11-01 00:00:00', '2026-11-01 00:00:00')"
    )
    query = "SELECT id, text_sha256, delivery_status FROM notice"
    [row] = _rows_after_upgrading_from(
        tmp_path, "0001", query, (contract, {}), (case, {}), (notice, {})
    )
    assert row == ("n", "", None)


def test_upgrading_names_the_issuer_of_tokens_a_user_made_before(tmp_path: Path) -> None:
    user = (
        "INSERT INTO app_user (id, email, display_name, role, password_hash, active,"
        " created_at) VALUES ('usr_root', 'root@provider.example', 'r', 'admin', 'h',"
        " 1, '2026-11-01 00:00:00')"
    )
    token = (
        "INSERT INTO api_token (id, name, role, token_hash, prefix, created_at,"
        " created_by) VALUES (:id, :id, 'operator', :id, 'cf_', "
        " '2026-11-01 00:00:00', :by)"
    )
    made_by = {"tok_a": "root@provider.example", "tok_b": "clauseflow cli"}
    tokens = [(token, {"id": t, "by": by}) for t, by in made_by.items()]
    query = "SELECT id, issued_by_user_id FROM api_token ORDER BY id"
    rows = _rows_after_upgrading_from(tmp_path, "0004", query, (user, {}), *tokens)
    assert rows == [("tok_a", "usr_root"), ("tok_b", None)]


def test_upgrading_counts_the_cases_there_are_and_keeps_counting(tmp_path: Path) -> None:
    contract = (
        "INSERT INTO contract (id, title, customer_name, provider_name, time_zone,"
        " effective_date, terms, created_at) VALUES ('c', 't', 'a', 'b',"
        " 'America/New_York', '2026-01-01', '{}', '2026-11-01 00:00:00')"
    )
    case = (
        'INSERT INTO "case" (id, contract_id, clause, rulebook_version, state,'
        " state_label, closed, escalated, facts, opened_at, last_step, updated_at)"
        " VALUES (:id, 'c', 'invoice_payment', 1, :state, 's', 0, :escalated, '{}',"
        " '2026-11-01 00:00:00', 1, '2026-11-01 00:00:00')"
    )
    cases = [
        (case, {"id": "k1", "state": "overdue", "escalated": 0}),
        (case, {"id": "k2", "state": "overdue", "escalated": 0}),
        (case, {"id": "k3", "state": "paid", "escalated": 1}),
    ]
    query = "SELECT state, escalated, cases FROM case_count ORDER BY state, escalated"
    rows = _rows_after_upgrading_from(tmp_path, "0006", query, (contract, {}), *cases)
    assert rows == [("overdue", 0, 2), ("paid", 1, 1)]
    # The triggers count what comes after.
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    with engine.begin() as c:
        c.execute(text("UPDATE \"case\" SET state = 'paid' WHERE id = 'k1'"))
    with engine.connect() as c:
        assert [tuple(r) for r in c.execute(text(query))] == [
            ("overdue", 0, 1),
            ("paid", 0, 1),
            ("paid", 1, 1),
        ]
    engine.dispose()
