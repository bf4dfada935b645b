"""incidents: public internet posts grouped into messages of kind incident, their public reply, their clock

Revision ID: 0750
Revises: 0610
Create Date: 2026-12-01 23:15:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0750'
down_revision = '0610'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('message') as batch:
        batch.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), server_default='message',
                                   nullable=False))
        batch.create_index('ix_message_kind', ['kind'], unique=False)
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
    with op.batch_alter_table('message') as batch:
        batch.drop_index('ix_message_kind')
        batch.drop_column('kind')
