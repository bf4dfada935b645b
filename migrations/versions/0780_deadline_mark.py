"""deadline_mark: what the deadline sweep has told, apart from the message; message.deadline_state goes

A beat marked a message by rewriting its row, and a row of `message` is in two dozen indexes (three of them
GIN): a first sweep after an outage at 1,000,000 messages spent 50 s in that UPDATE alone. The marks are now
narrow rows of their own (the sweep, jobs/sweep.py); the active messages already marked keep their marks, so
the upgrade reminds nobody twice.

Revision ID: 0780
Revises: 0770
Create Date: 2026-12-02 19:00:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0780'
down_revision = '0770'
branch_labels = None
depends_on = None

ACTIVE = "stage IN ('moderation', 'coordination', 'execution', 'agreement', 'approval')"
UNSETTLED = ("deadline_state IN ('due_soon', 'overdue') AND "
             "stage NOT IN ('moderation', 'coordination', 'execution', 'agreement', 'approval')")


def upgrade() -> None:
    op.create_table(
        'deadline_mark',
        sa.Column('message_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('stage_due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('marked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('message_id'))
    op.create_index('ix_deadline_mark_marked_at', 'deadline_mark', ['marked_at'], unique=False)
    op.execute("INSERT INTO deadline_mark (message_id, stage_due_at, state, marked_at) "
               "SELECT id, stage_due_at, deadline_state, stage_due_at FROM message "
               f"WHERE {ACTIVE} AND deadline_state IN ('due_soon', 'overdue')")
    op.drop_index('ix_message_sweep', table_name='message')
    op.drop_index('ix_message_unsettled', table_name='message')
    # Both databases drop a column in place (SQLite since 3.35): no copy of the table, its triggers stay.
    op.execute("ALTER TABLE message DROP COLUMN deadline_state")


def downgrade() -> None:
    op.add_column('message', sa.Column('deadline_state', sqlmodel.sql.sqltypes.AutoString(length=16),
                                       nullable=False, server_default='ok'))
    op.execute("UPDATE message SET deadline_state = COALESCE((SELECT state FROM deadline_mark d "
               "WHERE d.message_id = message.id AND d.stage_due_at = message.stage_due_at), 'ok') "
               "WHERE id IN (SELECT message_id FROM deadline_mark)")
    op.create_index('ix_message_unsettled', 'message', ['deadline_state', 'id'],
                    postgresql_where=sa.text(UNSETTLED), sqlite_where=sa.text(UNSETTLED))
    op.create_index('ix_message_sweep', 'message', ['deadline_state', 'stage_due_at'], unique=False,
                    postgresql_where=sa.text(ACTIVE), sqlite_where=sa.text(ACTIVE))
    op.drop_index('ix_deadline_mark_marked_at', table_name='deadline_mark')
    op.drop_table('deadline_mark')
