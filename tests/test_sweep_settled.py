"""The sweep's last UPDATE (finished messages still marked overdue or due soon go back to «ok») reads its
partial index, which holds only such rows, instead of every active overdue message on each beat."""
from __future__ import annotations

from sqlalchemy import event, text

from jobs import sweep
from pos import clock
from pos.models import Message
from pos.services.directory import load_policy
from pos.workflow import Stage


def _statements(session, run) -> list[tuple[str, object]]:
    seen = []
    connection = session.connection()

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(connection, "before_cursor_execute", record)
    return seen


def _plan(session, statement: str, parameters) -> str:
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # A test table is tiny: without this the planner reads it whole whatever the indexes.
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
        connection.exec_driver_sql("SET LOCAL enable_seqscan = on")
    else:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    return "\n".join(str(row[-1]) for row in rows)


def test_the_settling_update_reads_only_the_unsettled_index(world, session):
    finished = world.message(Stage.ANSWERED)
    session.execute(text("UPDATE message SET deadline_state = 'overdue' WHERE id = :id"), {"id": finished.id})
    for _ in range(3):
        world.message(Stage.EXECUTION)
    later = clock.now() + __import__("datetime").timedelta(days=60)
    policy = load_policy(session, "Asia/Yakutsk")
    executed = _statements(session, lambda: sweep.sweep(session, later, policy))
    settling = [(s, p) for s, p in executed if s.lstrip().upper().startswith("UPDATE") and "NOT IN" in s.upper()]
    assert len(settling) == 1, executed
    assert "ix_message_unsettled" in _plan(session, *settling[0])
    assert session.get(Message, finished.id, populate_existing=True).deadline_state == "ok"
