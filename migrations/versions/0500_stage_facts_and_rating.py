"""stage visits, answer periods, rating snapshots; the facts backfilled from the history

The backfill (pos/facts_backfill.py) runs between creating the fact tables and indexing them: a bulk
INSERT into unindexed tables, then one index build each, is what stays fast on a million messages.

Revision ID: 0500
Revises: 0430
Create Date: 2026-12-01 20:05:12.227068
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

from pos.config import Config
from pos.facts_backfill import backfill


revision = '0500'
down_revision = '0430'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rating_month',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('computed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('published_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('published_automatically', sa.Boolean(), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('min_sample', sa.Integer(), nullable=False),
    sa.Column('weights', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['published_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('month')
    )
    op.create_table('rating_row',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rating_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('organization_name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('is_rated', sa.Boolean(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('coordination_first_on_time', sa.Integer(), nullable=False),
    sa.Column('coordination_first_total', sa.Integer(), nullable=False),
    sa.Column('coordination_first_percent', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('agreement_first_on_time', sa.Integer(), nullable=False),
    sa.Column('agreement_first_total', sa.Integer(), nullable=False),
    sa.Column('agreement_first_percent', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('approval_first_on_time', sa.Integer(), nullable=False),
    sa.Column('approval_first_total', sa.Integer(), nullable=False),
    sa.Column('approval_first_percent', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('coordination_repeated_on_time', sa.Integer(), nullable=False),
    sa.Column('coordination_repeated_total', sa.Integer(), nullable=False),
    sa.Column('coordination_repeated_percent', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('agreement_repeated_on_time', sa.Integer(), nullable=False),
    sa.Column('agreement_repeated_total', sa.Integer(), nullable=False),
    sa.Column('agreement_repeated_percent', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('approval_repeated_on_time', sa.Integer(), nullable=False),
    sa.Column('approval_repeated_total', sa.Integer(), nullable=False),
    sa.Column('approval_repeated_percent', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('mean', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('place', sa.Integer(), nullable=True),
    sa.Column('passages', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['parent_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['rating_id'], ['rating_month.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('rating_id', 'organization_id')
    )
    with op.batch_alter_table('rating_row', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rating_row_rating_id'), ['rating_id'], unique=False)

    op.create_table('answer_period',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('entry_due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('due_changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('closed_action', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('is_repeated', sa.Boolean(), nullable=False),
    sa.Column('accelerated', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('stage_visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('entered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('entry_due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('due_changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('left_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('left_action', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('is_repeated', sa.Boolean(), nullable=False),
    sa.Column('accelerated', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    backfill(op.get_bind(), Config.TIMEZONE)

    with op.batch_alter_table('answer_period', schema=None) as batch_op:
        batch_op.create_index('ix_answer_period_closed', ['closed_at'], unique=False)
        batch_op.create_index('ix_answer_period_message', ['message_id', 'opened_at'], unique=False)
        batch_op.create_index('ix_answer_period_open_due', ['due_at'], unique=False, postgresql_where=sa.text('closed_at IS NULL'), sqlite_where=sa.text('closed_at IS NULL'))
        batch_op.create_index(batch_op.f('ix_answer_period_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index('ux_answer_period_open', ['message_id'], unique=True, postgresql_where=sa.text('closed_at IS NULL'), sqlite_where=sa.text('closed_at IS NULL'))

    with op.batch_alter_table('stage_visit', schema=None) as batch_op:
        batch_op.create_index('ix_stage_visit_left', ['stage', 'left_at'], unique=False)
        batch_op.create_index('ix_stage_visit_message', ['message_id', 'entered_at'], unique=False)
        batch_op.create_index('ix_stage_visit_open_due', ['stage', 'due_at'], unique=False, postgresql_where=sa.text('left_at IS NULL'), sqlite_where=sa.text('left_at IS NULL'))
        batch_op.create_index(batch_op.f('ix_stage_visit_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index('ux_stage_visit_open', ['message_id'], unique=True, postgresql_where=sa.text('left_at IS NULL'), sqlite_where=sa.text('left_at IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('stage_visit', schema=None) as batch_op:
        batch_op.drop_index('ux_stage_visit_open', postgresql_where=sa.text('left_at IS NULL'), sqlite_where=sa.text('left_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_stage_visit_organization_id'))
        batch_op.drop_index('ix_stage_visit_open_due', postgresql_where=sa.text('left_at IS NULL'), sqlite_where=sa.text('left_at IS NULL'))
        batch_op.drop_index('ix_stage_visit_message')
        batch_op.drop_index('ix_stage_visit_left')

    op.drop_table('stage_visit')
    with op.batch_alter_table('answer_period', schema=None) as batch_op:
        batch_op.drop_index('ux_answer_period_open', postgresql_where=sa.text('closed_at IS NULL'), sqlite_where=sa.text('closed_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_answer_period_organization_id'))
        batch_op.drop_index('ix_answer_period_open_due', postgresql_where=sa.text('closed_at IS NULL'), sqlite_where=sa.text('closed_at IS NULL'))
        batch_op.drop_index('ix_answer_period_message')
        batch_op.drop_index('ix_answer_period_closed')

    op.drop_table('answer_period')
    with op.batch_alter_table('rating_row', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rating_row_rating_id'))

    op.drop_table('rating_row')
    op.drop_table('rating_month')
