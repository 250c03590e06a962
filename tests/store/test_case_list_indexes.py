"""The case list (nearest deadline first, filtered) is read off indexes, not sorted.

Shown with EXPLAIN on PostgreSQL over 20,000 cases of 50 contracts: the first page comes from an
index scan in deadline order, with no sort of the whole table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.dialects import postgresql
from sqlmodel import col, select

from store.db import normalise_url
from store.models import Case
from tests.databases import empty_tables

CASES = 20_000


@pytest.fixture
def filled(postgres_database: str) -> Iterator[Any]:
    empty_tables(postgres_database)
    engine = create_engine(normalise_url(postgres_database))
    start = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO contract (id, title, customer_name, provider_name, time_zone,"
                " effective_date, terms, created_at) SELECT 'c' || g, 't', 'a', 'b',"
                " 'America/New_York', '2026-01-01', '{}', now() FROM generate_series(0, 49) g"
            )
        )
        c.execute(
            text(
                'INSERT INTO "case" (id, contract_id, clause, rulebook_version, state,'
                " state_label, closed, escalated, facts, opened_at, next_deadline_at, last_step,"
                " updated_at) SELECT 'case_' || g, 'c' || (g % 50),"
                " (ARRAY['termination_for_convenience','material_breach',"
                " 'invoice_payment'])[g % 3 + 1], 1,"
                " (ARRAY['notice_period_running','cure_period_running','overdue',"
                " 'paid'])[g % 4 + 1],"
                " 'label', g % 4 = 3, false, '{}', now(),"
                " CASE WHEN g % 10 = 0 THEN NULL ELSE :start + (g || ' minutes')::interval END,"
                " 1, now() FROM generate_series(1, :n) AS g"
            ),
            {"start": start, "n": CASES},
        )
        c.execute(text('ANALYZE "case"'))
    yield engine
    engine.dispose()
    empty_tables(postgres_database)


def _plan(engine: Any, *where: Any) -> str:
    # The same statement the API builds for GET /api/cases (see api/routes/cases.py).
    query = (
        select(Case)
        .where(*where)
        .order_by(col(Case.next_deadline_at).asc().nulls_last(), col(Case.id))
        .offset(0)
        .limit(50)
    )
    sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    with engine.connect() as c:
        return "\n".join(row[0] for row in c.execute(text("EXPLAIN " + sql)))


@pytest.mark.parametrize(
    ("where", "index"),
    [
        ((), "ix_case_next_deadline"),
        ((Case.state == "overdue",), "ix_case_state_next_deadline"),
        ((Case.clause == "invoice_payment",), "ix_case_clause_next_deadline"),
        ((Case.contract_id == "c1",), "ix_case_contract_next_deadline"),
    ],
    ids=["all", "by state", "by clause", "by contract"],
)
def test_the_case_list_is_read_from_an_index_in_deadline_order(
    filled: Any, where: tuple[Any, ...], index: str
) -> None:
    plan = _plan(filled, *where)
    assert f"Index Scan using {index}" in plan, plan
    assert "Sort" not in plan and "Seq Scan" not in plan, plan
