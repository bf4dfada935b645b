"""applicants and Open311: the token of an API-created request

Revision ID: 0100
Revises: 0001
Create Date: 2026-11-24 12:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0100'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('api_token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_message_api_token', ['api_token'])


def downgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_constraint('uq_message_api_token', type_='unique')
        batch_op.drop_column('api_token')
