"""stage_visit: the ended passages by stage, organization and time of leaving, for «Сроки»'s percentiles;
«Удовлетворённость»'s indexes cover the kind, and the answered one the id its repeats point at

Revision ID: 0770
Revises: 0750
Create Date: 2026-12-02 04:10:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0770'
down_revision = '0750'
branch_labels = None
depends_on = None

ENDED = sa.text("left_at IS NOT NULL AND organization_id IS NOT NULL")


def upgrade() -> None:
    op.create_index('ix_stage_visit_org_period', 'stage_visit',
                    ['stage', 'organization_id', 'left_at', 'due_at', 'entered_at', 'working_hours', 'is_repeated',
                     'is_incident'], postgresql_where=ENDED, sqlite_where=ENDED)
    _satisfaction_indexes(rated=['rated_at', 'organization_id', 'category_id', 'rating', 'kind'],
                          answered=['answered_at', 'organization_id', 'category_id', 'kind', 'id'])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ANALYZE stage_visit, message')


def downgrade() -> None:
    _satisfaction_indexes(rated=['rated_at', 'organization_id', 'category_id', 'rating'],
                          answered=['answered_at', 'organization_id', 'category_id'])
    op.drop_index('ix_stage_visit_org_period', table_name='stage_visit')


def _satisfaction_indexes(rated: list[str], answered: list[str]) -> None:
    for name, columns in (('ix_message_rated', rated), ('ix_message_answered', answered)):
        op.drop_index(name, table_name='message')
        op.create_index(name, 'message', columns, unique=False)
