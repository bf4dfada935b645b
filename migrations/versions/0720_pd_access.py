"""the audit of looks at personal data: pd_access, append-only

Revision ID: 0720
Revises: 0610
Create Date: 2026-12-01 23:10:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0720'
down_revision = '0710'
branch_labels = None
depends_on = None

REFUSAL = "pd_access is append-only"


def upgrade() -> None:
    op.create_table(
        'pd_access',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('applicant_id', sa.Integer(), nullable=True),
        sa.Column('message_id', sa.Integer(), nullable=True),
        sa.Column('attachment_id', sa.Integer(), nullable=True),
        sa.Column('applicant_ids', sa.String(), nullable=False),
        sa.Column('detail', sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(['applicant_id'], ['applicant.id']),
        sa.ForeignKeyConstraint(['attachment_id'], ['attachment.id']),
        sa.ForeignKeyConstraint(['message_id'], ['message.id']),
        sa.ForeignKeyConstraint(['user_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_pd_access_at', 'pd_access', ['at'], unique=False)
    op.create_index('ix_pd_access_user_at', 'pd_access', ['user_id', 'at'], unique=False)
    op.create_index('ix_pd_access_applicant_at', 'pd_access', ['applicant_id', 'at'], unique=False)
    # Append-only in the database itself: no page, command or script can edit or remove a record.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""
            CREATE FUNCTION pd_access_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$""")
        op.execute("CREATE TRIGGER pd_access_no_change BEFORE UPDATE OR DELETE ON pd_access "
                   "FOR EACH ROW EXECUTE FUNCTION pd_access_refuse()")
        op.execute("CREATE TRIGGER pd_access_no_truncate BEFORE TRUNCATE ON pd_access "
                   "FOR EACH STATEMENT EXECUTE FUNCTION pd_access_refuse()")
    else:
        for event in ('UPDATE', 'DELETE'):
            op.execute(f"CREATE TRIGGER pd_access_no_{event.lower()} BEFORE {event} ON pd_access "
                       f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END")


def downgrade() -> None:
    # Dropping the table is the schema's own business (a downgrade), not an edit of the records.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TABLE pd_access")
        op.execute("DROP FUNCTION pd_access_refuse()")
    else:
        op.drop_table('pd_access')
