"""merge applicant and background branches: one head again

Revision ID: 0300
Revises: 0100, 0201
Create Date: 2026-11-24 07:48:39.897189
"""

revision = '0300'
down_revision = ('0100', '0201')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
