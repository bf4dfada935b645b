"""sessions: the user's session token (rotated to end every session of the user)

Revision ID: 0400
Revises: 0300
Create Date: 2026-12-01 20:10:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0400'
down_revision = '0300'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_token')
