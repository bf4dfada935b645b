"""The pool asks the server whether a connection still works only after it was idle (pos.db._ping_after_idle):
a connection lost while idle is replaced without failing the request; a busy one is not asked."""
from __future__ import annotations

from sqlalchemy import text

from pos import db
from tests.databases import fresh_database


def _engine(tmp_path):
    return db.make_engine(fresh_database("pool", tmp_path / "pool.db"))


def _pings(engine, monkeypatch) -> list[int]:
    asked: list[int] = []
    real = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: asked.append(1) or real(conn))
    return asked


def test_a_connection_lost_while_idle_is_replaced(tmp_path, monkeypatch):
    engine = _engine(tmp_path)
    try:
        pooled = engine.raw_connection()
        dbapi_connection = pooled.dbapi_connection
        pooled.close()  # back in the pool
        dbapi_connection.close()  # and lost while it sat there (the server restarted, a proxy timed out)
        monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)
        asked = _pings(engine, monkeypatch)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 41 + 1")).scalar_one() == 42
        assert asked, "an idle connection is asked first"
    finally:
        engine.dispose()


def test_a_connection_in_use_is_not_asked(tmp_path, monkeypatch):
    engine = _engine(tmp_path)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        monkeypatch.setattr(db, "PING_AFTER_IDLE", 60.0)
        asked = _pings(engine, monkeypatch)
        for _ in range(3):
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        assert asked == []
    finally:
        engine.dispose()
