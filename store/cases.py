"""The case row the API writes before it starts the case's workflow.

A case never runs without its row: the API writes it (state ``opened``, ``last_step``
0) before asking Temporal to start the workflow, and the worker's first ``record_step``
fills it in. A row still at step 0 is a case whose workflow has not taken its first
step; ``api/ops.py`` calls it stuck once that has lasted too long.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from store.db import get_engine
from store.models import Case

#: The state and label of a case whose workflow has not recorded its first step.
OPENING_STATE = "opened"
OPENING_LABEL = "Starting: waiting for its first step"


def write_opening_row(case: Case) -> bool:
    """Writes the case's row unless it exists already; True when this call wrote it.

    A retried request, or a concurrent one with the same Idempotency-Key, finds the row
    the first one wrote: ``INSERT ... ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL,
    so neither fails on the primary key.

    Raises:
        SQLAlchemyError: the database did not take the row (down, locked, ...).
    """
    table = Case.metadata.tables["case"]
    values = {c.name: getattr(case, c.name) for c in table.columns}
    engine = get_engine()
    dialect = engine.dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = (
            insert(table)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(table.c.id)  # a row only when this statement inserted it
        )
        with engine.begin() as conn:
            return conn.execute(stmt).first() is not None
    # Any other database: the primary key refuses the second row.
    try:
        with engine.begin() as conn:
            conn.execute(table.insert().values(**values))
    except IntegrityError:
        return False
    return True


def forget_opening_row(case_id: str) -> bool:
    """Deletes the case's row if no step of its workflow was recorded; True if it did.

    For a start that Temporal refused: a row with no workflow behind it would be a case
    that never runs.
    """
    with get_engine().begin() as conn:
        result = conn.execute(delete(Case).where(col(Case.id) == case_id, col(Case.last_step) == 0))
        return bool(result.rowcount == 1)
