"""term snapshots: the term sheet a case runs on, kept once per content

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from store.types import UTCDateTime

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'term_snapshot',
        sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('terms', sa.JSON(), nullable=False),
        sa.Column('first_seen_at', UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('sha256'),
    )
    # Added and dropped in place (SQLite too): a rebuilt "case" would lose its triggers.
    op.add_column(
        'case', sa.Column('terms_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
    )


def downgrade() -> None:
    op.drop_column('case', 'terms_sha256')
    op.drop_table('term_snapshot')
