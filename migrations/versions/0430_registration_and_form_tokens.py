"""applicants: registrations waiting for their e-mail, and the form token of a message

Revision ID: 0430
Revises: 0400
Create Date: 2026-12-01 20:10:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0430'
down_revision = '0400'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'pending_registration',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column('profile', sa.JSON(), nullable=False),
        sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('consent_version', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('confirmed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index(op.f('ix_pending_registration_email'), 'pending_registration', ['email'], unique=False)
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('form_token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_message_form_token', ['form_token'])


def downgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_constraint('uq_message_form_token', type_='unique')
        batch_op.drop_column('form_token')
    op.drop_index(op.f('ix_pending_registration_email'), table_name='pending_registration')
    op.drop_table('pending_registration')
