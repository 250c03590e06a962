"""case_count follows the case rows: whatever is written to "case", the counts agree.

The case list's counts per state and the ops summary's open and escalated cases are read
from ``case_count`` (migration 0007) instead of counting the case rows. Triggers keep it
in the transaction that writes a case, on SQLite and on PostgreSQL: a case inserted
(through the API's opening row or otherwise), moved to another state, escalated, closed,
given to another contract or deleted is counted where it now is, at once; a rolled-back
write leaves the counts as they were.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session, col, delete, func, select, update

from store.cases import forget_opening_row, write_opening_row
from store.db import get_engine
from store.models import Case, CaseCount, Contract

NOW = dt.datetime.now(dt.UTC)
KEY = ("contract_id", "clause", "state", "escalated", "closed")


def counted() -> dict[tuple[Any, ...], int]:
    """case_count's non-zero rows, by key."""
    with Session(get_engine()) as s:
        rows = s.exec(select(CaseCount).where(col(CaseCount.cases) != 0)).all()
        return {tuple(getattr(r, k) for k in KEY): r.cases for r in rows}


def counted_from_the_rows() -> dict[tuple[Any, ...], int]:
    """The same counts, counted from the case rows."""
    columns = [getattr(Case, k) for k in KEY]
    with Session(get_engine()) as s:
        rows = s.exec(select(*columns, func.count()).group_by(*columns)).all()
        return {tuple(r[:-1]): r[-1] for r in rows}


def agree() -> dict[tuple[Any, ...], int]:
    found = counted()
    assert found == counted_from_the_rows()
    return found


def a_case(case_id: str, **kw: Any) -> Case:
    values: dict[str, Any] = dict(
        id=case_id,
        contract_id="ctr_a",
        clause="termination_for_convenience",
        rulebook_version=1,
        state="notice_period_running",
        state_label="Notice period running",
        facts={},
        opened_at=NOW,
        updated_at=NOW,
        next_deadline_at=NOW + dt.timedelta(days=30),
    )
    values.update(kw)
    return Case(**values)


@pytest.fixture
def contracts(db_url: str) -> None:
    with Session(get_engine()) as s:
        for contract_id in ("ctr_a", "ctr_b"):
            s.add(
                Contract(
                    id=contract_id,
                    title=contract_id,
                    customer_name="Customer",
                    provider_name="Provider",
                    time_zone="Europe/Paris",
                    effective_date=NOW.date(),
                    terms={},
                    created_at=NOW,
                )
            )
        s.commit()


def test_the_counts_follow_every_write_to_a_case(contracts: None) -> None:
    assert agree() == {}
    with Session(get_engine()) as s:
        s.add_all([a_case(f"case_{n}", escalated=n == 2) for n in range(4)])
        s.commit()
    assert agree() == {
        ("ctr_a", "termination_for_convenience", "notice_period_running", False, False): 3,
        ("ctr_a", "termination_for_convenience", "notice_period_running", True, False): 1,
    }
    with Session(get_engine()) as s:
        case = s.get(Case, "case_0")
        assert case is not None
        case.state, case.state_label = "terminated", "Terminated"
        case.closed = True
        s.add(case)
        moved = s.get(Case, "case_1")
        assert moved is not None
        moved.contract_id, moved.clause = "ctr_b", "material_breach"
        s.add(moved)
        s.commit()
    agree()
    # Writes that leave the counted columns alone leave the counts alone.
    with Session(get_engine()) as s:
        s.exec(update(Case).values(last_step=Case.last_step + 1, updated_at=NOW))
        s.exec(
            update(Case)
            .where(col(Case.id) == "case_3")
            .values(state="notice_period_running", escalated=False)
        )
        s.commit()
    before = agree()
    # Several cases at once, in both directions, then a delete.
    with Session(get_engine()) as s:
        s.exec(update(Case).values(escalated=~col(Case.escalated)))
        s.exec(delete(Case).where(col(Case.id) == "case_2"))
        s.commit()
    after = agree()
    assert after != before and sum(after.values()) == 3


def test_a_rolled_back_write_leaves_the_counts_as_they_were(contracts: None) -> None:
    with Session(get_engine()) as s:
        s.add(a_case("case_kept"))
        s.commit()
    before = agree()
    with Session(get_engine()) as s:
        s.add(a_case("case_dropped"))
        s.exec(update(Case).where(col(Case.id) == "case_kept").values(state="terminated"))
        s.flush()
        assert sum(n for n in counted().values()) == 1  # another session sees nothing yet
        s.rollback()
    assert agree() == before


def test_the_apis_opening_row_is_counted_and_uncounted(contracts: None) -> None:
    assert write_opening_row(a_case("case_opening", state="opened", last_step=0))
    # A retried start finds the row: not counted twice.
    assert not write_opening_row(a_case("case_opening", state="opened", last_step=0))
    assert agree() == {("ctr_a", "termination_for_convenience", "opened", False, False): 1}
    assert forget_opening_row("case_opening")
    assert agree() == {}


def test_the_counts_are_kept_by_the_database_not_the_application(contracts: None) -> None:
    # Plain SQL, as an operator's fix in psql would be: counted all the same.
    with get_engine().begin() as c:
        c.execute(
            text(
                'INSERT INTO "case" (id, contract_id, clause, rulebook_version, state,'
                " state_label, closed, escalated, facts, opened_at, last_step, updated_at,"
                " failing_attempts) VALUES ('case_sql', 'ctr_b', 'invoice_payment', 1,"
                " 'overdue', 'Overdue', false, true, '{}', :now, 1, :now, 0)"
            ),
            {"now": NOW},
        )
        c.execute(text("UPDATE \"case\" SET closed = true WHERE id = 'case_sql'"))
    assert agree() == {("ctr_b", "invoice_payment", "overdue", True, True): 1}
