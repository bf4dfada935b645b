"""One migration history for SQLite and PostgreSQL: it upgrades, matches the models, and downgrades.
"""
from __future__ import annotations


import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

import pos.models  # noqa: F401  (registers every table)
from pos import migrate
from pos.db import make_engine


def _differences(url: str) -> list:
    with make_engine(url).connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                           "include_object": migrate.include_object})
        return compare_metadata(context, SQLModel.metadata)


def _tables(url: str) -> set[str]:
    with make_engine(url).connect() as conn:
        return set(inspect(conn).get_table_names())


def test_upgrade_to_heads_matches_the_models(empty_database):
    migrate.upgrade(empty_database)
    assert _tables(empty_database) >= set(SQLModel.metadata.tables)
    assert _differences(empty_database) == []
    heads = set(ScriptDirectory.from_config(migrate.alembic_config(empty_database)).get_heads())
    with make_engine(empty_database).connect() as conn:
        assert set(MigrationContext.configure(conn).get_current_heads()) == heads


def test_downgrade_to_base_and_up_again(empty_database):
    migrate.upgrade(empty_database)
    migrate.downgrade(empty_database, "base")
    assert _tables(empty_database) <= {"alembic_version"}
    migrate.upgrade(empty_database)
    assert _differences(empty_database) == []


def test_the_fresh_database_is_apart_from_the_test_database(fresh_database, database_url, engine):
    # The fixture's commits must never land in the database the rolled-back tests use.
    assert fresh_database != database_url
    with make_engine(fresh_database).begin() as conn:
        conn.execute(text("INSERT INTO category (name, is_active) VALUES ('Только здесь', true)"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM category WHERE name = 'Только здесь'")).scalar() == 0


def test_the_history_has_one_head():
    """Branches (parallel work) are merged, so `alembic upgrade head` works too."""
    from alembic.script import ScriptDirectory
    from pos.migrate import alembic_config
    assert len(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()) == 1


def test_every_connection_gets_its_databases_settings_and_keeps_the_urls_own(fresh_database):
    # PostgreSQL: no JIT (compiling took longer than a page's queries ran), the URL's options (here the test's
    # search_path) kept. SQLite: foreign keys enforced, the write-ahead log.
    engine = make_engine(fresh_database)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            assert conn.execute(text("SHOW jit")).scalar() == "off"
            assert conn.execute(text("SELECT current_schema()")).scalar().startswith("fresh_")
        else:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
