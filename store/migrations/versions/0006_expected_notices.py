"""expected notices: the other party's notices a case waits for, and their receipt

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from store.types import UTCDateTime

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'expected_notice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column('notice', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column('clause', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('sender', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column('step', sa.Integer(), nullable=False),
        sa.Column('expected_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('expected_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column('due_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('received_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column('notice_text', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('text_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['case.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_id', 'notice', name='uq_expected_notice_case_notice'),
    )
    with op.batch_alter_table('expected_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expected_notice_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('expected_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expected_notice_case_id'))
    op.drop_table('expected_notice')
