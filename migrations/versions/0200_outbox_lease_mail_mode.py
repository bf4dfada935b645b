"""background work: outbox lease, notification mail mode, the sweep's index

Revision ID: 0200
Revises: 0001
Create Date: 2026-11-24 12:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0200'
down_revision = '0001'
branch_labels = None
depends_on = None

ACTIVE = "stage IN ('moderation', 'coordination', 'execution', 'agreement', 'approval')"


def upgrade() -> None:
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        # A running job holds its row until this moment; past it the relay hands the row out again.
        batch_op.add_column(sa.Column('locked_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    with op.batch_alter_table('notification', schema=None) as batch_op:
        # none | single | digest: decided when the notification is written.
        batch_op.add_column(sa.Column('email_mode', sqlmodel.sql.sqltypes.AutoString(length=8),
                                      nullable=False, server_default='none'))
        batch_op.create_index('ix_notification_digest', ['email_mode', 'emailed_at'], unique=False)
    # The deadline sweep reads only active messages: a partial index keeps it off the archive.
    op.create_index('ix_message_active_due', 'message', ['stage_due_at'], unique=False,
                    postgresql_where=sa.text(ACTIVE), sqlite_where=sa.text(ACTIVE))


def downgrade() -> None:
    op.drop_index('ix_message_active_due', table_name='message')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_digest')
        batch_op.drop_column('email_mode')
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
