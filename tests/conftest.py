"""Test fixtures: one migrated database per run (SQLite, or PostgreSQL from TEST_DATABASE_URL),
a session that rolls back after each test, and a small world of organizations and people."""
from __future__ import annotations

import os
import secrets
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

# Servers the tests start outside TESTING (the devserver, gunicorn, workers) need a real key, as in
# production; set before `pos.config` reads the environment. (`make run` keeps its own in instance/.)
os.environ.setdefault("SECRET_KEY", secrets.token_hex(32))

import pytest
from sqlalchemy import text
from sqlmodel import Session

from pos import clock, migrate
from pos.db import make_engine, normalize_url
from pos.services import accounts
from pos.services.messages import Env

accounts.use_fast_hashing()
_TMP = Path(tempfile.mkdtemp(prefix="pos-tests-"))


def _database_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url:
        return f"sqlite:///{_TMP / f'test{worker}.db'}"
    url = normalize_url(url)
    if worker:  # one database per xdist worker
        base, _, name = url.rpartition("/")
        admin = make_engine(f"{base}/postgres").execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}_{worker}"'))
            conn.execute(text(f'CREATE DATABASE "{name}_{worker}"'))
        url = f"{base}/{name}_{worker}"
    return url


def _reset_postgres(engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def database_url() -> str:
    return _database_url()


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    if engine.dialect.name == "postgresql":
        _reset_postgres(engine)
    migrate.upgrade(database_url)
    yield engine


@pytest.fixture
def session(engine):
    """A session whose commits are savepoints inside one transaction, rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    s = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield s
    finally:
        s.close()
        outer.rollback()
        connection.close()


# --- databases of a test's own, whose commits are real (two sessions, the CLI, the seed): on SQLite a new
# file; on PostgreSQL a schema of its own inside the test database, dropped afterwards.

@contextmanager
def own_database(database_url: str, engine, directory: Path) -> Iterator[str]:
    """The URL of an empty database of one's own, not migrated; removed on the way out."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{directory / f'own-{uuid.uuid4().hex[:8]}.db'}"
        yield url
        make_engine(url).dispose()
        return
    schema = f"fresh_{uuid.uuid4().hex[:10]}"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{database_url}?options={quote(f'-csearch_path={schema}')}"
    try:
        yield url
    finally:
        make_engine(url).dispose()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def empty_database(tmp_path, database_url, engine):
    """The URL of an empty database of this test's own, not migrated."""
    with own_database(database_url, engine, tmp_path) as url:
        yield url


@pytest.fixture
def fresh_database(empty_database):
    """An empty database of this test's own, migrated to the heads."""
    migrate.upgrade(empty_database)
    return empty_database


@pytest.fixture
def env(tmp_path) -> Env:
    return Env(timezone="Asia/Yakutsk", upload_dir=str(tmp_path / "uploads"))


@pytest.fixture
def world(session, env):
    from tests.factories import World
    return World(session, env)


@pytest.fixture(autouse=True)
def _no_frozen_clock_leak():
    yield
    clock._frozen = None
