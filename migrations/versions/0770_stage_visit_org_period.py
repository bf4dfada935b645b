"""stage_visit: the ended passages by stage, organization and time of leaving, for «Сроки»'s percentiles

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


def downgrade() -> None:
    op.drop_index('ix_stage_visit_org_period', table_name='stage_visit')
