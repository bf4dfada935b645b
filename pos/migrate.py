"""Alembic, driven from code: `flask --app app db-upgrade`, tests and `make run` use it."""
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig

from pos.db import normalize_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


# Migration 0700's search objects have no place in the models: PostgreSQL's generated tsvector column and its
# GIN and trigram indexes, SQLite's FTS5 virtual table and the shadow tables FTS5 makes for it.
OUTSIDE_MODELS = {"search_vector", "ix_message_search", "ix_message_number_trgm", "ix_message_address_trgm"}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """What autogenerate compares: everything but the search objects above."""
    if name in OUTSIDE_MODELS:
        return False
    return not (type_ == "table" and name and name.startswith("message_search"))


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
