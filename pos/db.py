"""Database engine and sessions: one session per request or job, committed by the service."""
import os
import time
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

_engines: dict[str, Engine] = {}
# A pooled PostgreSQL connection idle longer than this is asked whether the server is still there.
PING_AFTER_IDLE = 10.0
_CHECKED_IN = "pos.checked_in"  # in the pool's connection record: when it was last given back


def normalize_url(url: str) -> str:
    """`postgresql://…` means psycopg 3 here (SQLAlchemy's default would be psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _lemmas(value: str | None) -> str:
    from pos.services.search import lemmatized
    return lemmatized(value or "")


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    if url in _engines:
        return _engines[url]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # Let SQLAlchemy own transactions (pysqlite's own handling breaks SAVEPOINT).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            # The FTS5 index of messages holds lemmas; its triggers (migration 0700) call this.
            dbapi_conn.create_function("pos_lemmas", 1, _lemmas, deterministic=True)

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # IMMEDIATE: writers queue on busy_timeout instead of failing on a lock upgrade.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        engine = create_engine(url, pool_size=5, max_overflow=10)

        @event.listens_for(engine, "connect")
        def _pg_no_jit(dbapi_conn, _record):
            # No JIT: a page's queries are short, and compiling them took longer than running them (10–20 ms
            # of a 100 ms analytics query at 1,000,000 messages). Set per connection, as the URL's own
            # `options` (a test's search_path) must stay as they are.
            cur = dbapi_conn.cursor()
            cur.execute("SET jit = off")
            cur.close()
            dbapi_conn.commit()

        @event.listens_for(engine, "connect")
        def _pg_stop_words(dbapi_conn, _record):
            # The search leaves out the words the server's `russian` configuration never indexes: asked of
            # the server once per process, on its first connection, outside any request's statements.
            from pos.services import search
            if search.pg_stop_words_known():
                return
            cur = dbapi_conn.cursor()
            cur.execute("SELECT w FROM unnest(%s::text[]) AS w WHERE to_tsvector('russian', w) = ''::tsvector",
                        (sorted(search.STOP_WORD_CANDIDATES),))
            search.set_pg_stop_words(row[0] for row in cur.fetchall())
            cur.close()
            dbapi_conn.rollback()
    _ping_after_idle(engine)
    _engines[url] = engine
    return engine


def _ping_after_idle(engine: Engine) -> None:
    """SQLAlchemy's pool_pre_ping asks the server before every checkout: a round trip per request, where an
    inbox page sends two statements. A connection back in use within PING_AFTER_IDLE seconds is trusted; an
    older one is asked as pool_pre_ping asks, and replaced if it does not answer. A server restarted within
    those seconds fails the first statement of each process once, and SQLAlchemy then replaces the pool's
    connections."""

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn, record):
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy):
        since = record.info.get(_CHECKED_IN)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError() from error  # the pool takes a new connection and retries


def _forget_pools_in_child() -> None:
    # A forked child (an RQ work horse) must not use its parent's pooled connections.
    for engine in _engines.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_pools_in_child)


def dispose_all() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def column_values(row) -> dict:
    """An ORM object's column values but its id (left to the database), as they would go into its INSERT: for
    a Core INSERT of a row nothing reads back as an object (built with its model, it keeps the defaults)."""
    return {c.key: getattr(row, c.key) for c in row.__table__.columns if not c.primary_key}


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session for a job or a script; the caller commits."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
