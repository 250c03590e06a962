"""the agreement's legal state on the contract row, written by its contract workflow

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from store.types import UTCDateTime

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # "contract" has no triggers: columns are added in place on SQLite too.
    op.add_column(
        'contract', sa.Column('legal_state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True)
    )
    op.add_column(
        'contract', sa.Column('end_route', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True)
    )
    op.add_column('contract', sa.Column('ends_at', UTCDateTime(timezone=True), nullable=True))
    op.add_column(
        'contract',
        sa.Column('ended_by_case', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    )
    op.add_column(
        'contract',
        sa.Column('agreement_step', sa.Integer(), nullable=False, server_default='0'),
    )


def downgrade() -> None:
    with op.batch_alter_table('contract') as batch:
        for column in ('agreement_step', 'ended_by_case', 'ends_at', 'end_route', 'legal_state'):
            batch.drop_column(column)
