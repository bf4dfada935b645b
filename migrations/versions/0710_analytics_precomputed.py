"""the analytics at scale: a passage's working hours and a message's place kept at write time, and the
indexes the analytics pages read their periods from

`stage_visit.working_hours` (counted when a passage closes) and `message.place_settlement`,
`place_street` (read from the address when it is written) are filled here for the data already there
(pos/facts_backfill.py `fill_working_hours`, `fill_places`), before the indexes that hold them are built:
one index build each rather than an index update per row.

Revision ID: 0710
Revises: 0610
Create Date: 2026-12-01 23:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

from pos.config import Config
from pos.facts_backfill import fill_places, fill_working_hours


revision = '0710'
down_revision = '0700'
branch_labels = None
depends_on = None

RECEIVED = ['received_at', 'organization_id', 'category_id', 'subcategory_id', 'source', 'stage', 'result',
            'is_repeated', 'accelerated', 'id', 'place_settlement', 'place_street']


def upgrade() -> None:
    op.add_column('stage_visit', sa.Column('working_hours', sa.Float(), nullable=True))
    op.drop_index('ix_stage_visit_rating', table_name='stage_visit')
    op.add_column('message', sa.Column('place_settlement', sqlmodel.sql.sqltypes.AutoString(length=500),
                                       nullable=True))
    op.add_column('message', sa.Column('place_street', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
    connection = op.get_bind()
    fill_working_hours(connection, Config.TIMEZONE)
    fill_places(connection)
    # The rating's index gains the working hours: «Сроки» reads the passages ended in a period from it alone.
    op.create_index('ix_stage_visit_rating', 'stage_visit',
                    ['stage', 'left_at', 'due_at', 'entered_at', 'organization_id', 'is_repeated', 'working_hours'],
                    unique=False)
    op.drop_index('ix_answer_period_closed', table_name='answer_period')
    op.create_index('ix_answer_period_closed', 'answer_period',
                    ['closed_at', 'organization_id', 'outcome', 'on_time', 'opened_at', 'due_at'], unique=False)
    op.create_index('ix_message_received_facts', 'message', RECEIVED, unique=False)
    op.create_index('ix_message_rated', 'message', ['rated_at', 'organization_id', 'category_id', 'rating'],
                    unique=False)
    op.create_index('ix_message_answered', 'message', ['answered_at', 'organization_id', 'category_id'],
                    unique=False)
    if connection.dialect.name == 'postgresql':
        connection.execute(sa.text('ANALYZE stage_visit, message'))


def downgrade() -> None:
    op.drop_index('ix_message_answered', table_name='message')
    op.drop_index('ix_message_rated', table_name='message')
    op.drop_index('ix_message_received_facts', table_name='message')
    op.drop_index('ix_stage_visit_rating', table_name='stage_visit')
    op.drop_index('ix_answer_period_closed', table_name='answer_period')
    op.create_index('ix_answer_period_closed', 'answer_period', ['closed_at'], unique=False)
    # Not in batch mode: rebuilding `message` on SQLite would drop the search triggers of 0700.
    op.execute("ALTER TABLE message DROP COLUMN place_street")
    op.execute("ALTER TABLE message DROP COLUMN place_settlement")
    with op.batch_alter_table('stage_visit') as batch:
        batch.drop_column('working_hours')
    op.create_index('ix_stage_visit_rating', 'stage_visit',
                    ['stage', 'left_at', 'due_at', 'entered_at', 'organization_id', 'is_repeated'], unique=False)
