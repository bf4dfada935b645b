"""administration in the browser: the record of administrative changes, a temporary password's flag,
retired answer templates

Revision ID: 0730
Revises: 0610
Create Date: 2026-12-01 23:10:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0730'
down_revision = '0720'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('admin_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('entity', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('entity_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('old', sa.JSON(), nullable=False),
    sa.Column('new', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_admin_change_actor_id'), 'admin_change', ['actor_id'], unique=False)
    op.create_index(op.f('ix_admin_change_at'), 'admin_change', ['at'], unique=False)
    with op.batch_alter_table('user') as batch:
        batch.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('answer_template') as batch:
        batch.add_column(sa.Column('is_active', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('answer_template') as batch:
        batch.drop_column('is_active')
    with op.batch_alter_table('user') as batch:
        batch.drop_column('must_change_password')
    op.drop_index(op.f('ix_admin_change_at'), table_name='admin_change')
    op.drop_index(op.f('ix_admin_change_actor_id'), table_name='admin_change')
    op.drop_table('admin_change')
