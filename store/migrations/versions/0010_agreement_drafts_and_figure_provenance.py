"""agreement drafts and figure provenance: an uploaded agreement under review, and where
each value of a term sheet accepted from it came from

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from store.types import UTCDateTime

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        'agreement_draft',
        sa.Column('id', _S(length=40), nullable=False),
        sa.Column('document_name', _S(length=255), nullable=False),
        sa.Column('document_sha256', _S(length=64), nullable=False),
        sa.Column('text', _S(), nullable=False),
        sa.Column('standard_contract_id', _S(length=40), nullable=True),
        sa.Column('created_by', _S(length=200), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('contract_id', _S(length=40), nullable=True),
        sa.Column('accepted_at', UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['contract_id'], ['contract.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('agreement_draft', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_agreement_draft_contract_id'), ['contract_id'], unique=False
        )
    op.create_table(
        'figure_provenance',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('contract_id', _S(length=40), nullable=False),
        sa.Column('path', _S(length=200), nullable=False),
        sa.Column('label', _S(length=300), nullable=False),
        sa.Column('value', sa.JSON(), nullable=True),
        sa.Column('how', _S(length=20), nullable=False),
        sa.Column('read_value', sa.JSON(), nullable=True),
        sa.Column('note', _S(), nullable=True),
        sa.Column('part', _S(length=80), nullable=True),
        sa.Column('sentence', _S(), nullable=True),
        sa.Column('sentence_start', sa.Integer(), nullable=True),
        sa.Column('sentence_end', sa.Integer(), nullable=True),
        sa.Column('figure_start', sa.Integer(), nullable=True),
        sa.Column('figure_end', sa.Integer(), nullable=True),
        sa.Column('written', _S(length=300), nullable=True),
        sa.Column('document_name', _S(length=255), nullable=False),
        sa.Column('document_sha256', _S(length=64), nullable=False),
        sa.Column('draft_id', _S(length=40), nullable=False),
        sa.Column('standard_contract_id', _S(length=40), nullable=True),
        sa.Column('accepted_by', _S(length=200), nullable=False),
        sa.Column('accepted_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['contract_id'], ['contract.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('contract_id', 'path', name='uq_figure_provenance_contract_path'),
    )
    with op.batch_alter_table('figure_provenance', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_figure_provenance_contract_id'), ['contract_id'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('figure_provenance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_figure_provenance_contract_id'))
    op.drop_table('figure_provenance')
    with op.batch_alter_table('agreement_draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_draft_contract_id'))
    op.drop_table('agreement_draft')
