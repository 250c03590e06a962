"""case counts kept by triggers, and the indexes of the ops summary's counts

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

The case list's counts per state and the ops summary's open cases counted every case
row: 25 to 45 ms each at 100,000 cases on PostgreSQL (issue 14). ``case_count`` holds
how many cases there are of each contract, clause, state, escalated or not and closed or
not; triggers on ``case`` keep it in the transaction that writes the case, so the counts
read from it are never behind the rows. The ops summary's count of failing activities
and of failed notices read the whole table; each gets an index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = ('contract_id', 'clause', 'state', 'escalated', 'closed')


def _match(row: str) -> str:
    return ' AND '.join(f'{c} = {row}.{c}' for c in KEY)


def _changed() -> str:
    return ' OR '.join(f'OLD.{c} IS DISTINCT FROM NEW.{c}' for c in KEY)


# PostgreSQL: one function for the three triggers. When a case moves from one count to
# another, the two count rows are locked in key order, so two cases moving in opposite
# directions at once wait for each other rather than deadlock.
_PG_FUNCTION = f"""
CREATE FUNCTION case_count_follows() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND ROW(NEW.{', NEW.'.join(KEY)}) < ROW(OLD.{', OLD.'.join(KEY)}) THEN
    INSERT INTO case_count ({', '.join(KEY)}, cases)
      VALUES (NEW.{', NEW.'.join(KEY)}, 1)
      ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET cases = case_count.cases + 1;
    UPDATE case_count SET cases = cases - 1 WHERE {_match('OLD')};
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE case_count SET cases = cases - 1 WHERE {_match('OLD')};
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    INSERT INTO case_count ({', '.join(KEY)}, cases)
      VALUES (NEW.{', NEW.'.join(KEY)}, 1)
      ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET cases = case_count.cases + 1;
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
_PG_TRIGGERS = [
    'CREATE TRIGGER case_count_insert AFTER INSERT ON "case" FOR EACH ROW'
    ' EXECUTE FUNCTION case_count_follows()',
    'CREATE TRIGGER case_count_delete AFTER DELETE ON "case" FOR EACH ROW'
    ' EXECUTE FUNCTION case_count_follows()',
    f'CREATE TRIGGER case_count_update AFTER UPDATE OF {", ".join(KEY)} ON "case"'
    f' FOR EACH ROW WHEN ({_changed()}) EXECUTE FUNCTION case_count_follows()',
]

# SQLite: one writer at a time, so no lock order to keep.
_SQLITE_ADD = (
    f'INSERT OR IGNORE INTO case_count ({", ".join(KEY)}, cases)'
    f' VALUES (NEW.{", NEW.".join(KEY)}, 0);'
    f' UPDATE case_count SET cases = cases + 1 WHERE {_match("NEW")};'
)
_SQLITE_REMOVE = f'UPDATE case_count SET cases = cases - 1 WHERE {_match("OLD")};'
_SQLITE_TRIGGERS = [
    f'CREATE TRIGGER case_count_insert AFTER INSERT ON "case" BEGIN {_SQLITE_ADD} END',
    f'CREATE TRIGGER case_count_delete AFTER DELETE ON "case" BEGIN {_SQLITE_REMOVE} END',
    f'CREATE TRIGGER case_count_update AFTER UPDATE OF {", ".join(KEY)} ON "case"'
    f' WHEN {_changed().replace("IS DISTINCT FROM", "IS NOT")}'
    f' BEGIN {_SQLITE_REMOVE} {_SQLITE_ADD} END',
]


def upgrade() -> None:
    op.create_table(
        'case_count',
        sa.Column('contract_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('clause', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('escalated', sa.Boolean(), nullable=False),
        sa.Column('closed', sa.Boolean(), nullable=False),
        sa.Column('cases', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('contract_id', 'clause', 'state', 'escalated', 'closed'),
    )
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.create_index('ix_case_failing_activity', ['failing_activity'], unique=False)
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index('ix_notice_status', ['status'], unique=False)
    # The triggers first, then the counts of the cases there are: on PostgreSQL creating
    # a trigger locks out writes to "case" until this migration commits, so no case is
    # written between the two and missed.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_PG_FUNCTION)
        for trigger in _PG_TRIGGERS:
            op.execute(trigger)
    else:
        for trigger in _SQLITE_TRIGGERS:
            op.execute(trigger)
    op.execute(
        f'INSERT INTO case_count ({", ".join(KEY)}, cases)'
        f' SELECT {", ".join(KEY)}, count(*) FROM "case" GROUP BY {", ".join(KEY)}'
    )


def downgrade() -> None:
    for name in ('case_count_insert', 'case_count_delete', 'case_count_update'):
        op.execute(f'DROP TRIGGER IF EXISTS {name}' + (' ON "case"' if op.get_bind().dialect.name == 'postgresql' else ''))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS case_count_follows()')
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_index('ix_notice_status')
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_failing_activity')
    op.drop_table('case_count')
