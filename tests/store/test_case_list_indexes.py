"""The case list (nearest deadline first, filtered) is read off indexes, not sorted.

Shown with EXPLAIN on PostgreSQL over 100,000 cases of 50 contracts: the first page comes from
an index scan in deadline order, with no sort of the whole table; the console's filters (stuck,
escalated, due within N days) and its counts per state are index reads, never a table scan.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.dialects import postgresql
from sqlmodel import col, select

from store.db import normalise_url
from store.models import Case
from tests.databases import empty_tables

CASES = 100_000


@pytest.fixture(scope="module")
def filled(postgres_database: str) -> Iterator[Any]:
    empty_tables(postgres_database)
    engine = create_engine(normalise_url(postgres_database))
    # Deadlines from a month ahead, counted from the application's clock (never the
    # database server's, which a run with the clock ahead does not move).
    now = dt.datetime.now(dt.UTC)
    start = now + dt.timedelta(days=30)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO contract (id, title, customer_name, provider_name, time_zone,"
                " effective_date, terms, created_at) SELECT 'c' || g, 't', 'a', 'b',"
                " 'America/New_York', '2026-01-01', '{}', :now FROM generate_series(0, 49) g"
            ),
            {"now": now},
        )
        c.execute(
            text(
                'INSERT INTO "case" (id, contract_id, clause, rulebook_version, state,'
                " state_label, closed, escalated, facts, opened_at, next_deadline_at, last_step,"
                " updated_at, failing_activity, failing_attempts, failing_since, dwell_overdue_at)"
                " SELECT 'case_' || g, 'c' || (g % 50),"
                " (ARRAY['termination_for_convenience','material_breach',"
                " 'invoice_payment'])[g % 3 + 1], 1,"
                " (ARRAY['notice_period_running','cure_period_running','overdue',"
                " 'paid'])[g % 4 + 1],"
                " 'label', g % 4 = 3, g % 97 = 0, '{}', :now,"
                " CASE WHEN g % 10 = 0 THEN NULL ELSE :start + (g || ' minutes')::interval END,"
                " 1, :now,"
                # About one case in a hundred has a failing activity, one in 200 overstayed.
                " CASE WHEN g % 101 = 0 THEN 'send_notice' END,"
                " CASE WHEN g % 101 = 0 THEN g % 7 ELSE 0 END,"
                " CASE WHEN g % 101 = 0 THEN :now - (g % 60 || ' minutes')::interval END,"
                " CASE WHEN g % 199 = 0 THEN :now - interval '1 day'"
                " WHEN g % 2 = 0 THEN :now + interval '30 days' END"
                " FROM generate_series(1, :n) AS g"
            ),
            {"start": start, "n": CASES, "now": now},
        )
    # VACUUM (outside a transaction) sets the visibility map, as autovacuum would.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text('VACUUM ANALYZE "case"'))
    yield engine
    engine.dispose()
    empty_tables(postgres_database)


def _plan(engine: Any, *where: Any) -> str:
    # The same statement the API builds for GET /api/cases (see api/ops.py).
    from api.ops import case_page_statement

    query = case_page_statement(list(where), 50, 0)
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


NOW = dt.datetime.now(dt.UTC)


def _explain(engine: Any, query: Any) -> str:
    sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    with engine.connect() as c:
        return "\n".join(row[0] for row in c.execute(text("EXPLAIN " + sql)))


def _filters() -> dict[str, Any]:
    from api.ops import CaseFilters

    return {
        "stuck": CaseFilters(stuck=True),
        "escalated": CaseFilters(escalated=True),
        "due within 7 days": CaseFilters(within_days=7),
        "stuck by clause": CaseFilters(stuck=True, clause="invoice_payment"),
    }


@pytest.mark.parametrize("name", list(_filters()))
def test_the_consoles_filters_and_counts_never_scan_the_table(filled: Any, name: str) -> None:
    from sqlmodel import func

    from api.ops import _where
    from runtime.settings import Settings

    where = _where(_filters()[name], NOW, Settings())
    page_plan = _plan(filled, *where)
    count_plan = _explain(filled, select(func.count()).select_from(Case).where(*where))
    states_plan = _explain(
        filled,
        select(Case.state, func.count()).where(*where).group_by(col(Case.state)),
    )
    for plan in (page_plan, count_plan, states_plan):
        # (The 50 contracts, joined for their time zones, may well be read whole.)
        assert 'Seq Scan on "case"' not in plan, plan
        assert "Index" in plan, plan


def _cursor_keys(engine: Any) -> dict[str, Any]:
    """A case half-way through the dated cases, and one half-way through the undated."""
    from api.ops import CaseKey

    with engine.connect() as c:
        dated = c.execute(
            text(
                'SELECT next_deadline_at, id FROM "case" WHERE next_deadline_at IS NOT NULL'
                " ORDER BY next_deadline_at, id OFFSET 45000 LIMIT 1"
            )
        ).one()
        undated = c.execute(
            text(
                'SELECT id FROM "case" WHERE next_deadline_at IS NULL ORDER BY id'
                " OFFSET 5000 LIMIT 1"
            )
        ).one()
    return {"dated": CaseKey(dated[0], dated[1]), "undated": CaseKey(None, undated[0])}


@pytest.mark.parametrize("cursor", ["dated", "undated"])
@pytest.mark.parametrize(
    "where",
    [
        (),
        (Case.state == "overdue",),
        (Case.clause == "invoice_payment",),
        (Case.contract_id == "c1",),
        (col(Case.escalated).is_(True),),
    ],
    ids=["all", "by state", "by clause", "by contract", "escalated"],
)
def test_a_page_by_cursor_is_read_from_an_index_starting_at_the_cursor(
    filled: Any, where: tuple[Any, ...], cursor: str
) -> None:
    from api.ops import case_page_statement

    key = _cursor_keys(filled)[cursor]
    query = case_page_statement(list(where), 51, after=key)
    sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    assert "OFFSET" not in sql, sql
    with filled.connect() as c:
        plan = "\n".join(row[0] for row in c.execute(text("EXPLAIN ANALYZE " + sql)))
    assert 'Seq Scan on "case"' not in plan, plan
    # The cursor's key bounds the index range (an Index Cond, not a Filter): the scan
    # starts at the cursor rather than at the first case.
    if cursor == "dated":
        assert re.search(r"Index Cond: .*ROW\(next_deadline_at, \(?id\)?", plan), plan
    else:
        assert re.search(r"Index Cond: .*next_deadline_at IS NULL.*id\)?(::text)? >", plan), plan
    # However deep the page, no index scan reads much more than the page.
    read = [int(n) for n in re.findall(r"Index Scan using ix_case_\w+ on .*rows=(\d+) loops", plan)]
    assert read and max(read) <= 51 * 4, plan


def test_the_per_state_counts_of_the_whole_list_read_only_an_index(filled: Any) -> None:
    from sqlmodel import func

    plan = _explain(filled, select(Case.state, func.count()).group_by(col(Case.state)))
    assert "Index Only Scan" in plan and "Seq Scan" not in plan, plan
