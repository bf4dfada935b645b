"""reference_version: the token that tells each process its kept directory is out of date

The staff pages read the organizations, the classifier, the staff of an organization and the deadline policy on
every request (four to six statements of an inbox page's ten); each process now keeps them between requests
(pos.services.reference) under this row's token, which every change of those rows replaces.

Revision ID: 0790
Revises: 0780
Create Date: 2026-12-03 07:00:00
"""
import secrets

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0790'
down_revision = '0780'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        'reference_version',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id'))
    # Random, as every later one: a database made again under the same name keeps nothing of the old one.
    op.bulk_insert(table, [{"id": 1, "token": secrets.token_hex(16)}])


def downgrade() -> None:
    op.drop_table('reference_version')
