"""Fresh, migrated databases for a benchmark: a SQLite file under bench/out/, a
new schema in PostgreSQL (dropped afterwards), as the tests make them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from bot.store.db import normalize_url, upgrade
from bot.store.sqlite_files import COMPANIONS
from tests.support.databases import drop_postgres_schema, fresh_postgres

OUT = Path(__file__).resolve().parent / "out"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class Database:
    backend: str  # "sqlite" or "postgresql"
    url: str
    schema: str | None = None  # PostgreSQL only
    path: Path | None = None  # SQLite only

    def drop(self, postgres_base: str | None) -> None:
        if self.schema is not None and postgres_base is not None:
            drop_postgres_schema(postgres_base, self.schema)
        if self.path is not None:
            for suffix in COMPANIONS:  # its -turn and -door files too: its servers have stopped
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)


def postgres_reachable(url: str) -> str | None:
    """None when PostgreSQL answers at `url`; else why not."""
    try:
        engine = create_engine(normalize_url(url), connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as error:  # noqa: BLE001 - any failure means "skip PostgreSQL"
        return f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"


def fresh_database(backend: str, label: str, postgres_base: str | None) -> Database:
    if backend == "sqlite":
        OUT.mkdir(exist_ok=True)
        path = OUT / f"{label}-{uuid.uuid4().hex[:8]}.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        return Database(backend, url, path=path)
    assert postgres_base is not None
    url, schema = fresh_postgres(postgres_base)
    return Database(backend, url, schema=schema)
