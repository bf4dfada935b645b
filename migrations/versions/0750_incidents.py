"""incidents: public internet posts grouped into messages of kind incident, their public reply, their clock

Revision ID: 0750
Revises: 0610
Create Date: 2026-12-01 23:15:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0750'
down_revision = '0740'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('message') as batch:
        batch.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), server_default='message',
                                   nullable=False))
        batch.create_index('ix_message_kind', ['kind'], unique=False)
    # After a downgrade past this revision the kind is gone but the source says it (nothing else is «internet»).
    op.execute("UPDATE message SET kind = 'incident' WHERE source = 'internet'")
    for table in ('stage_visit', 'answer_period'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('is_incident', sa.Boolean(), server_default='0', nullable=False))
        op.execute(f"UPDATE {table} SET is_incident = true WHERE message_id IN "
                   "(SELECT id FROM message WHERE kind = 'incident')")
    # The rating leaves incidents out (2.2.5): the flag joins its index, so the count stays index-only.
    op.drop_index('ix_stage_visit_rating', table_name='stage_visit')
    op.create_index('ix_stage_visit_rating', 'stage_visit', ['stage', 'left_at', 'due_at', 'entered_at',
                                                             'organization_id', 'is_repeated', 'working_hours',
                                                             'is_incident'])
    with op.batch_alter_table('rating_month') as batch:
        batch.add_column(sa.Column('with_incidents', sa.Boolean(), server_default='0', nullable=False))
    with op.batch_alter_table('stage_deadline') as batch:
        batch.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), server_default='message',
                                   nullable=False))
    op.create_table(
        'public_post',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('network', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('author_handle', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('published_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('place', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('latitude', sa.Float(), nullable=True),
        sa.Column('longitude', sa.Float(), nullable=True),
        sa.Column('pictures', sa.JSON(), nullable=False),
        sa.Column('lemmas', sa.JSON(), nullable=False),
        sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['message.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('url'),
    )
    op.create_index('ix_public_post_incident_id', 'public_post', ['incident_id'], unique=False)
    op.create_index('ix_public_post_published_at', 'public_post', ['published_at'], unique=False)
    op.create_table(
        'public_reply',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('reply_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('error', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('published_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('published_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['incident_id'], ['message.id']),
        sa.ForeignKeyConstraint(['post_id'], ['public_post.id']),
        sa.ForeignKeyConstraint(['published_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('incident_id'),
    )


def downgrade() -> None:
    op.drop_table('public_reply')
    op.drop_index('ix_public_post_published_at', table_name='public_post')
    op.drop_index('ix_public_post_incident_id', table_name='public_post')
    op.drop_table('public_post')
    with op.batch_alter_table('stage_deadline') as batch:
        batch.drop_column('kind')
    with op.batch_alter_table('rating_month') as batch:
        batch.drop_column('with_incidents')
    op.drop_index('ix_stage_visit_rating', table_name='stage_visit')
    op.create_index('ix_stage_visit_rating', 'stage_visit',
                    ['stage', 'left_at', 'due_at', 'entered_at', 'organization_id', 'is_repeated', 'working_hours'])
    for table in ('stage_visit', 'answer_period'):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('is_incident')
    # Not in batch mode: rebuilding `message` on SQLite would drop the search triggers of 0700.
    op.drop_index('ix_message_kind', table_name='message')
    op.execute("ALTER TABLE message DROP COLUMN kind")
