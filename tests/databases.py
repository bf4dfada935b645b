"""A database of its own for a whole server or test module: a SQLite file, or a new PostgreSQL database
named after TEST_DATABASE_URL's (one per xdist worker), dropped and created afresh."""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import text

from pos.db import make_engine, normalize_url


def fresh_database(suffix: str, sqlite_file: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url:
        return f"sqlite:///{sqlite_file}"
    base, _, name = normalize_url(url).rpartition("/")
    db_name = f"{name}_{suffix}{os.environ.get('PYTEST_XDIST_WORKER', '')}"
    admin = make_engine(f"{base}/postgres").execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    return f"{base}/{db_name}"
