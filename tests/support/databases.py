"""Fresh, migrated databases for tests: a SQLite file always, a PostgreSQL
schema when ALLIANCE_TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, text

from bot.store.db import normalize_url, upgrade

POSTGRES_ENV = "ALLIANCE_TEST_DATABASE_URL"


def postgres_base_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def fresh_sqlite(directory: Path) -> str:
    url = f"sqlite:///{directory / 'alliance-test.db'}"
    upgrade(url)
    return url


def fresh_postgres(base_url: str) -> tuple[str, str]:
    """A new schema in the test database, migrated; returns (url, schema)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(normalize_url(base_url))
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    separator = "&" if "?" in base_url else "?"
    url = f"{normalize_url(base_url)}{separator}options={quote(f'-csearch_path={schema}')}"
    upgrade(url)
    return url, schema


def drop_postgres_schema(base_url: str, schema: str) -> None:
    engine = create_engine(normalize_url(base_url))
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()
