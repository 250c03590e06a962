"""tokens carry their user: who issued a token, the person behind one with no user

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issued_by_user_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
    # Tokens made before: created_by holds the issuing user's email when a user made it
    # (a token or the command line otherwise, whose person is not known).
    op.execute(
        "UPDATE api_token SET issued_by_user_id = "
        "(SELECT app_user.id FROM app_user WHERE app_user.email = api_token.created_by)"
    )


def downgrade() -> None:
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('issued_by_user_id')
