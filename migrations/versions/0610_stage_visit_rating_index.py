"""the rating's index on stage_visit: the columns the count reads, after (stage, left_at)

Revision ID: 0610
Revises: 0500
Create Date: 2026-12-01 21:40:00
"""
from alembic import op


revision = '0610'
down_revision = '0500'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The monthly rating reads ranges of (stage, left_at); with due_at, entered_at, the organization and
    # the repeated flag in the same index its three branches are index-only: at 1,000,000 messages the
    # table rows of some hundred thousand passages a month are no longer fetched one by one.
    # (stage, left_at) stays the prefix, so the new index serves every query the old one did.
    op.create_index('ix_stage_visit_rating', 'stage_visit',
                    ['stage', 'left_at', 'due_at', 'entered_at', 'organization_id', 'is_repeated'], unique=False)
    op.drop_index('ix_stage_visit_left', table_name='stage_visit')


def downgrade() -> None:
    op.create_index('ix_stage_visit_left', 'stage_visit', ['stage', 'left_at'], unique=False)
    op.drop_index('ix_stage_visit_rating', table_name='stage_visit')
