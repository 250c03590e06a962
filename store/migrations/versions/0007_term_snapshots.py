"""term snapshots: the term sheet a case runs on, kept once per content

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from store.types import UTCDateTime

revision: str = '0007'
down_revision: str | None = '0006'
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
    with op.batch_alter_table('case') as batch:
        batch.add_column(
            sa.Column('terms_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('case') as batch:
        batch.drop_column('terms_sha256')
    op.drop_table('term_snapshot')
