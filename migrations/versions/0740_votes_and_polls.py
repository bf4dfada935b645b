"""votes and polls: one table for both kinds, questions, options, anonymous ballots and answers, the participation records (UNIQUE vote, applicant), the applicants' subscriptions

Revision ID: 0740
Revises: 0610
Create Date: 2026-12-01 22:59:41.739850
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0740'
down_revision = '0730'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('vote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('jurisdiction_id', sa.Integer(), nullable=False),
    sa.Column('settlements', sa.JSON(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('starts_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ends_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('budget', sa.Integer(), nullable=True),
    sa.Column('scheduled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('results_published_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('results_published_by_id', sa.Integer(), nullable=True),
    sa.Column('opening_announced_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['results_published_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vote_jurisdiction_id'), ['jurisdiction_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vote_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_vote_organization_id'), ['organization_id'], unique=False)

    op.create_table('vote_ballot',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('vote_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['vote_id'], ['vote.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('vote_ballot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vote_ballot_vote_id'), ['vote_id'], unique=False)

    op.create_table('vote_participation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vote_id', sa.Integer(), nullable=False),
    sa.Column('applicant_id', sa.Integer(), nullable=False),
    sa.Column('cast_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['applicant_id'], ['applicant.id'], ),
    sa.ForeignKeyConstraint(['vote_id'], ['vote.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('vote_id', 'applicant_id', name='uq_vote_participation')
    )
    with op.batch_alter_table('vote_participation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vote_participation_applicant_id'), ['applicant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vote_participation_vote_id'), ['vote_id'], unique=False)

    op.create_table('vote_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vote_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('min_choices', sa.Integer(), nullable=False),
    sa.Column('max_choices', sa.Integer(), nullable=True),
    sa.Column('other_allowed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['vote_id'], ['vote.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('vote_question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vote_question_vote_id'), ['vote_id'], unique=False)

    op.create_table('vote_subscription',
    sa.Column('applicant_id', sa.Integer(), nullable=False),
    sa.Column('jurisdiction_id', sa.Integer(), nullable=True),
    sa.Column('notify', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['applicant_id'], ['applicant.id'], ),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('applicant_id')
    )
    with op.batch_alter_table('vote_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vote_subscription_jurisdiction_id'), ['jurisdiction_id'], unique=False)

    op.create_table('vote_option',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('cost', sa.Integer(), nullable=True),
    sa.Column('picture_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('picture_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['vote_question.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('vote_option', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vote_option_question_id'), ['question_id'], unique=False)

    op.create_table('vote_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('option_id', sa.Integer(), nullable=True),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['ballot_id'], ['vote_ballot.id'], ),
    sa.ForeignKeyConstraint(['option_id'], ['vote_option.id'], ),
    sa.ForeignKeyConstraint(['question_id'], ['vote_question.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('vote_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vote_answer_ballot_id'), ['ballot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vote_answer_option_id'), ['option_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vote_answer_question_id'), ['question_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('vote_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vote_answer_question_id'))
        batch_op.drop_index(batch_op.f('ix_vote_answer_option_id'))
        batch_op.drop_index(batch_op.f('ix_vote_answer_ballot_id'))

    op.drop_table('vote_answer')
    with op.batch_alter_table('vote_option', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vote_option_question_id'))

    op.drop_table('vote_option')
    with op.batch_alter_table('vote_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vote_subscription_jurisdiction_id'))

    op.drop_table('vote_subscription')
    with op.batch_alter_table('vote_question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vote_question_vote_id'))

    op.drop_table('vote_question')
    with op.batch_alter_table('vote_participation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vote_participation_vote_id'))
        batch_op.drop_index(batch_op.f('ix_vote_participation_applicant_id'))

    op.drop_table('vote_participation')
    with op.batch_alter_table('vote_ballot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vote_ballot_vote_id'))

    op.drop_table('vote_ballot')
    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vote_organization_id'))
        batch_op.drop_index(batch_op.f('ix_vote_kind'))
        batch_op.drop_index(batch_op.f('ix_vote_jurisdiction_id'))

    op.drop_table('vote')
