"""Engine, sessions and migrations. SQLite (WAL) by default, PostgreSQL alike.

How long a statement may wait for the database is a property of the engine
(`Waits`): the engine that serves Slack's requests gives up well inside Slack's
3 seconds (the transaction rolls back and the user reads "Not saved"), the one the
scheduled jobs use may wait longer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.store.resting_pings import ping_rested_connections
from bot.store.sqlite_files import keep_sqlite_private, sqlite_path
from bot.store.sqlite_sync import SYNC_AT_CHECKPOINTS, SYNC_AT_COMMIT
from bot.store.sqlite_turns import SqliteTurns, TurnConnection

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

SessionFactory = sessionmaker[Session]


def normalize_url(url: str) -> str:
    """`postgres://` and `postgresql://` use psycopg 3, the driver we ship."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


@dataclass(frozen=True)
class Waits:
    """Seconds a statement may wait: for a lock (SQLite's busy timeout, PostgreSQL's
    lock_timeout), in all (PostgreSQL's statement_timeout; None: no limit), for a
    pooled connection, and to connect (PostgreSQL)."""

    lock: float
    statement: float | None
    pool: float
    connect: int


# Slack gives up after 3 s: a request's whole transaction must fail before that.
REQUEST_WAITS = Waits(lock=1.2, statement=2.0, pool=1.2, connect=2)  # a request may wait twice (replay claim, its change)
# Sweeps, migrations and the CLI: as long as before (a lock may be held by a burst of requests).
JOB_WAITS = Waits(lock=5.0, statement=None, pool=30.0, connect=5)


def _sqlite_pragmas(waits: Waits, syncs_commits: bool) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling starts a transaction only at the first
        # write, so a SAVEPOINT before it committed on RELEASE, outside the caller's
        # transaction. Transactions are begun at the first write instead (`SqliteTurns`).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(waits.lock * 1000)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        # A commit is on disk when it returns either way: `TurnConnection` syncs the WAL after
        # it, once the write lock is free (bot/store/sqlite_sync.py), or else SQLite inside it.
        cursor.execute(SYNC_AT_CHECKPOINTS if syncs_commits else SYNC_AT_COMMIT)
        cursor.close()

    return on_connect


def _postgres_timeouts(waits: Waits) -> Any:
    """Session settings on each new connection (not URL `options`, which may carry a search_path)."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET lock_timeout = '{int(waits.lock * 1000)}ms'")
        cursor.execute(f"SET statement_timeout = '{int((waits.statement or 0) * 1000)}ms'")  # 0: no limit
        cursor.close()
        dbapi_connection.commit()

    return on_connect


def make_engine(url: str, waits: Waits = JOB_WAITS, pool_size: int | None = None, max_overflow: int | None = None,
                **kwargs: Any) -> Engine:
    """`pool_size` and `max_overflow`: the connection pool's (SQLAlchemy's defaults, 5 and
    10, when not given; a database in memory has no such pool)."""
    url = normalize_url(url)
    sizes = {name: value for name, value in (("pool_size", pool_size), ("max_overflow", max_overflow))
             if value is not None}
    if make_url(url).get_backend_name() == "sqlite":
        keep_sqlite_private(url)  # 0600, -wal and -shm too
        if ":memory:" not in url and url.rstrip("/") != "sqlite:":
            kwargs.setdefault("pool_timeout", waits.pool)
            kwargs.update(sizes)
        # Writers take turns across threads, engines and processes (bot/store/sqlite_turns.py).
        turns = SqliteTurns(waits.lock, sqlite_path(url))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": waits.lock,
                                                  "factory": TurnConnection}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas(waits, syncs_commits=turns.wal is not None))
        event.listen(engine, "connect", turns.on_connect)
        event.listen(engine, "before_cursor_execute", turns.before_statement)
        return engine
    kwargs.setdefault("pool_timeout", waits.pool)
    kwargs.update(sizes)
    kwargs.setdefault("connect_args", {"connect_timeout": waits.connect})
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _postgres_timeouts(waits))
    ping_rested_connections(engine)  # not pool_pre_ping: a round trip at every checkout
    return engine


def database_now(connection: Connection) -> datetime:
    """The database's clock (aware UTC), read on `connection`: what leases and claims
    are timed by, so machines whose clocks disagree still agree on who holds what.
    PostgreSQL's is the transaction's start; SQLite's is a naive UTC string."""
    if connection.dialect.name == "sqlite":
        stamp = connection.execute(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")).scalar_one()
        return datetime.fromisoformat(str(stamp)).replace(tzinfo=timezone.utc)
    value = connection.execute(text("SELECT CURRENT_TIMESTAMP")).scalar_one()
    assert isinstance(value, datetime)
    return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)


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
