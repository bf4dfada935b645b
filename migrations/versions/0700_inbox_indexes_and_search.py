"""the inboxes' indexes (each role's filter and order) and full-text search with Russian morphology

Revision ID: 0700
Revises: 0610
Create Date: 2026-12-01 23:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0700'
down_revision = '0610'
branch_labels = None
depends_on = None

OPEN = "stage IN ('moderation', 'coordination', 'execution', 'agreement', 'approval', 'postponed')"
DONE = "stage IN ('rejected', 'answered')"
UNSETTLED = ("deadline_state IN ('due_soon', 'overdue') AND "
             "stage NOT IN ('moderation', 'coordination', 'execution', 'agreement', 'approval')")

# PostgreSQL: the words of the number, text, address and answer, weighted in that order of importance.
PG_VECTOR = ("setweight(to_tsvector('russian', coalesce(number, '') || ' ' || \"text\"), 'A') || "
             "setweight(to_tsvector('russian', address), 'B') || "
             "setweight(to_tsvector('russian', answer_text), 'C')")
# SQLite: the same fields as pymorphy3 lemmas (pos_lemmas is registered on each connection by pos.db).
SQLITE_BODY = "pos_lemmas(coalesce({row}.number, '') || ' ' || {row}.text || ' ' || {row}.address || ' ' || " \
              "{row}.answer_text)"


def upgrade() -> None:
    # The inbox orders by (stage deadline, id) within its two halves (in work, finished); these indexes hold
    # each role's filter before that order, so a page is a seek and a scan of about one page's rows.
    # The single-column indexes on the organization and the stage are prefixes of the new ones.
    op.create_index('ix_message_inbox', 'message', ['organization_id', 'stage', 'stage_due_at', 'id'])
    op.create_index('ix_message_queue', 'message', ['stage', 'stage_due_at', 'id'])
    op.create_index('ix_message_open', 'message', ['stage_due_at', 'id', 'organization_id', 'category_id', 'stage'],
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
    op.create_index('ix_message_done', 'message', ['stage_due_at', 'id', 'organization_id'],
                    postgresql_where=sa.text(DONE), sqlite_where=sa.text(DONE))
    op.drop_index('ix_message_organization_id', table_name='message')
    op.drop_index('ix_message_stage', table_name='message')
    # The sweep's «settled» UPDATE (finished messages still marked overdue) walked every active overdue row on
    # each beat through the state's index; the rows it wants are normally none, and this index holds just them.
    op.create_index('ix_message_unsettled', 'message', ['deadline_state', 'id'],
                    postgresql_where=sa.text(UNSETTLED), sqlite_where=sa.text(UNSETTLED))
    # The state's own index offered the planner that walk again (it misjudges NOT IN); every query of the
    # state is in the sweep, with the stage: the two partial indexes serve them.
    op.drop_index('ix_message_deadline_state', table_name='message')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        # The extension may live in another schema than this database's tables (one installation, several
        # schemas): its operator class is named with its schema.
        trgm = op.get_bind().exec_driver_sql(
            "SELECT quote_ident(n.nspname) FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_trgm'").scalar_one()
        op.execute(f"ALTER TABLE message ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({PG_VECTOR}) STORED")
        op.execute("CREATE INDEX ix_message_search ON message USING gin (search_vector)")
        # Partial numbers and addresses («000123», «Ленина 1»): ILIKE '%…%' through trigrams.
        op.execute(f"CREATE INDEX ix_message_number_trgm ON message USING gin (number {trgm}.gin_trgm_ops)")
        op.execute(f"CREATE INDEX ix_message_address_trgm ON message USING gin (address {trgm}.gin_trgm_ops)")
    else:
        op.execute("CREATE VIRTUAL TABLE message_search USING fts5(body, tokenize='unicode61 remove_diacritics 0')")
        op.execute(f"INSERT INTO message_search (rowid, body) SELECT id, {SQLITE_BODY.format(row='message')} "
                   "FROM message")
        op.execute(f"""CREATE TRIGGER message_search_insert AFTER INSERT ON message BEGIN
            INSERT INTO message_search (rowid, body) VALUES (new.id, {SQLITE_BODY.format(row='new')}); END""")
        op.execute(f"""CREATE TRIGGER message_search_update AFTER UPDATE OF number, text, address, answer_text
            ON message BEGIN
            DELETE FROM message_search WHERE rowid = old.id;
            INSERT INTO message_search (rowid, body) VALUES (new.id, {SQLITE_BODY.format(row='new')}); END""")
        op.execute("""CREATE TRIGGER message_search_delete AFTER DELETE ON message BEGIN
            DELETE FROM message_search WHERE rowid = old.id; END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX ix_message_address_trgm")
        op.execute("DROP INDEX ix_message_number_trgm")
        op.execute("DROP INDEX ix_message_search")
        op.execute("ALTER TABLE message DROP COLUMN search_vector")
    else:
        for trigger in ("message_search_delete", "message_search_update", "message_search_insert"):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE message_search")
    op.create_index('ix_message_deadline_state', 'message', ['deadline_state'])
    op.drop_index('ix_message_unsettled', table_name='message')
    op.create_index('ix_message_stage', 'message', ['stage'])
    op.create_index('ix_message_organization_id', 'message', ['organization_id'])
    op.drop_index('ix_message_done', table_name='message')
    op.drop_index('ix_message_open', table_name='message')
    op.drop_index('ix_message_queue', table_name='message')
    op.drop_index('ix_message_inbox', table_name='message')
