"""the sweep's index: active messages by deadline state and stage deadline

Revision ID: 0201
Revises: 0200
Create Date: 2026-11-24 14:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0201'
down_revision = '0200'
branch_labels = None
depends_on = None

ACTIVE = "stage IN ('moderation', 'coordination', 'execution', 'agreement', 'approval')"


def upgrade() -> None:
    # Each of the sweep's UPDATEs is a range on (state, deadline) among active messages: it touches
    # only the rows that cross a line, however large the table (0200's index on the deadline alone
    # still read every overdue message on each beat).
    op.drop_index('ix_message_active_due', table_name='message')
    op.create_index('ix_message_sweep', 'message', ['deadline_state', 'stage_due_at'], unique=False,
                    postgresql_where=sa.text(ACTIVE), sqlite_where=sa.text(ACTIVE))


def downgrade() -> None:
    op.drop_index('ix_message_sweep', table_name='message')
    op.create_index('ix_message_active_due', 'message', ['stage_due_at'], unique=False,
                    postgresql_where=sa.text(ACTIVE), sqlite_where=sa.text(ACTIVE))
