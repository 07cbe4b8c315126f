"""Engine, sessions and migrations. SQLite (WAL) by default, PostgreSQL alike."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.store.sqlite_files import keep_sqlite_private

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

SessionFactory = sessionmaker[Session]


def normalize_url(url: str) -> str:
    """`postgres://` and `postgresql://` use psycopg 3, the driver we ship."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling starts a transaction only at the first
    # write, so a SAVEPOINT before it committed on RELEASE, outside the caller's
    # transaction. Transactions are begun explicitly instead (`_sqlite_begin`).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


WRITER_WAIT_SECONDS = 5.0  # as long as SQLite's own busy timeout


class _SqliteTurns:
    """Every transaction takes SQLite's write lock at its start (BEGIN IMMEDIATE,
    waiting up to the busy timeout): one that read first and wrote later could
    otherwise fail at once when another had written meanwhile, and a savepoint is
    inside it. Threads of one process take turns on a lock of their own first, so a
    waiting transaction starts the moment the previous one ends, rather than when
    SQLite's busy handler next wakes up (it sleeps up to 100 ms at a time)."""

    KEY = "alliance_sqlite_turn"

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def begin(self, connection: Any) -> None:
        if self._lock.acquire(timeout=WRITER_WAIT_SECONDS):  # else SQLite's own wait decides
            connection.info[self.KEY] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self.end(connection)
            raise

    def end(self, connection: Any) -> None:
        if connection.info.pop(self.KEY, False):
            self._lock.release()


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalize_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        keep_sqlite_private(url)  # 0600, -wal and -shm too
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 5}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        turns = _SqliteTurns()
        event.listen(engine, "begin", turns.begin)
        event.listen(engine, "commit", turns.end)
        event.listen(engine, "rollback", turns.end)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("connect_args", {"connect_timeout": 5})
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> SessionFactory:
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    keep_sqlite_private(normalize_url(url))
    command.upgrade(alembic_config(url), revision)


def database_answers(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not answering"
        return False
