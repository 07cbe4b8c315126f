"""Signed requests already answered, in `seen_requests`.

A request Slack signed stays valid for 5 minutes, so whoever holds a copy (a
retrying proxy, a replaying attacker) can send it again. The first copy claims its
row before it is dispatched; the answer is stored once it is known; later copies get
that answer and are dispatched no more. Rows are timed by the database's clock and
purged after `KEEP` (twice Slack's window).

The answer may carry private text (a history reply), so its body is sealed with the
note cipher under its own context.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Sequence, cast

from sqlalchemy import Engine, Table, bindparam, delete, func, insert, literal_column, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError

from bot.store.crypto import NoteCipher
from bot.store.db import SessionFactory, database_now
from bot.store.models import SeenRequest
from bot.store.sqlite_turns import TurnConnection, unsynced

KEEP = timedelta(minutes=10)
IN_FLIGHT, ANSWERED = "pending", "answered"
BODY_CONTEXT = b"seen-request"

_TABLE = cast(Table, SeenRequest.__table__)


@dataclass(frozen=True)
class Answer:
    """What was answered: HTTP status, headers and body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def request_key(timestamp: str, signature: str) -> str:
    return hashlib.sha256(f"{timestamp}:{signature}".encode("ascii", "replace")).hexdigest()


# PostgreSQL: the claim is one statement in autocommit (one round trip instead of BEGIN,
# SET, the statement and COMMIT), and answers are stored a batch per transaction; each
# statement turns off the wait for the WAL flush for its own transaction: a database
# crash in the next fraction of a second could forget it, and at worst a replay is then
# handled again.
_NO_FLUSH_WAIT = func.set_config("synchronous_commit", "off", True)  # for the statement's own transaction
_PG_CLAIM = insert(_TABLE).from_select(
    ["key", "request_ts", "status", "created_at"],
    select(bindparam("key", type_=_TABLE.c.key.type), bindparam("request_ts", type_=_TABLE.c.request_ts.type),
           literal_column(f"'{IN_FLIGHT}'"), func.now()).where(_NO_FLUSH_WAIT.is_not(None)))
_CLAIM = insert(_TABLE).values(key=bindparam("key"), request_ts=bindparam("request_ts"),
                               status=literal_column(f"'{IN_FLIGHT}'"), created_at=func.now())
_RECORD = update(_TABLE).where(_TABLE.c.key == bindparam("request_key")).values(
    status=bindparam("new_status"), response_status=bindparam("new_response_status"),
    response_headers=bindparam("new_response_headers", type_=_TABLE.c.response_headers.type),
    response_body=bindparam("new_response_body", type_=_TABLE.c.response_body.type))
_PG_RECORD = _RECORD.where(select(_NO_FLUSH_WAIT).scalar_subquery().is_not(None))


def claim(engine: Engine, key: str, request_ts: int) -> bool:
    """True when this is the first copy of the request (now claimed, in its own
    transaction, one statement: the database stamps it; its commit does not wait for the
    disk, the change it claims for syncs it); False when another copy
    claimed it first. Every signed request claims, so the statement runs on a pooled
    connection's own driver, not through SQLAlchemy's execution (which cost more than
    the statement: bench/log_path.py). Its lock wait is the request engine's: on SQLite
    the writers' turn first (bot/store/sqlite_turns.py), as for the change after it."""
    sql, names, defaults = _claim_sql(engine.dialect)
    values = {**defaults, "key": key, "request_ts": request_ts}
    parameters = tuple(values[name] for name in names) if names else values
    dbapi = engine.dialect.loaded_dbapi
    try:
        pooled = engine.raw_connection()  # unlike Engine.connect, it raises the driver's own error
    except dbapi.Error as error:
        raise DBAPIError.instance(None, None, error, dbapi.Error, dialect=engine.dialect) from error
    driver: Any = pooled.driver_connection
    try:
        if engine.dialect.name == "postgresql":
            driver.autocommit = True  # one statement, its own transaction: no BEGIN and COMMIT round trips
            try:
                with driver.cursor() as cursor:
                    cursor.execute(sql, parameters)
            finally:
                driver.autocommit = False
        else:
            cursor = driver.cursor()
            try:
                with unsynced(driver):  # the change it claims for syncs it (bot/store/sqlite_sync.py)
                    try:
                        if isinstance(driver, TurnConnection) and driver.turns is not None:
                            driver.turns.begin_writing(driver, cursor)
                        else:
                            cursor.execute("BEGIN IMMEDIATE")
                        cursor.execute(sql, parameters)
                        driver.commit()  # and the turn is given back
                    except BaseException:
                        driver.rollback()
                        raise
            finally:
                cursor.close()
        return True
    except dbapi.IntegrityError:
        return False
    except dbapi.Error as error:  # as SQLAlchemy would have raised it (callers catch SQLAlchemyError)
        invalidated = engine.dialect.is_disconnect(error, driver, None)
        if invalidated:
            pooled.invalidate(error)
        raise DBAPIError.instance(sql, parameters, error, dbapi.Error, connection_invalidated=invalidated,
                                  dialect=engine.dialect) from error
    finally:
        pooled.close()


@functools.cache
def _claim_sql(dialect: Dialect) -> tuple[str, tuple[str, ...], dict[str, Any]]:
    """The claim in the driver's own form (SQL, positional parameter names or none, the
    values of its own parameters), compiled once per dialect: PostgreSQL's also turns
    off the WAL-flush wait."""
    statement = _PG_CLAIM if dialect.name == "postgresql" else _CLAIM
    compiled = statement.compile(dialect=dialect)
    return str(compiled), tuple(compiled.positiontup or ()), dict(compiled.construct_params({"key": "", "request_ts": 0}))


def record(engine: Engine, cipher: NoteCipher, key: str, answer: Answer) -> None:
    record_many(engine, cipher, [(key, answer)])


def record_many(engine: Engine, cipher: NoteCipher, answers: Sequence[tuple[str, Answer]]) -> None:
    """Store the answers to these claimed requests (body sealed), in one transaction
    that does not wait for the disk (PostgreSQL: for the WAL flush)."""
    if not answers:
        return
    rows = [{"request_key": key, "new_status": ANSWERED, "new_response_status": answer.status,
             "new_response_headers": [list(h) for h in answer.headers],
             "new_response_body": cipher.encrypt(answer.body.decode("utf-8", "surrogateescape"), BODY_CONTEXT)}
            for key, answer in answers]
    statement = _PG_RECORD if engine.dialect.name == "postgresql" else _RECORD
    with engine.connect() as connection:
        with unsynced(connection.connection.driver_connection), connection.begin():
            connection.execute(statement, rows if len(rows) > 1 else rows[0])


def release(engine: Engine, key: str) -> None:
    """Forget a claim whose request was never answered (it failed before dispatch)."""
    with engine.begin() as connection:
        connection.execute(delete(_TABLE).where(_TABLE.c.key == key, _TABLE.c.status == IN_FLIGHT))


def take_over(engine: Engine, key: str, stale: timedelta) -> bool:
    """Claim afresh a request whose first copy claimed it more than `stale` ago (by the
    database's clock) and never answered: its process died, or its failure could not
    release the claim. True for the one copy that takes it; False while the claim is
    fresh, answered, or gone. Only for requests whose change guards itself against
    running twice (an event's own `event_id` claim)."""
    with engine.begin() as connection:
        cutoff = database_now(connection) - stale
        result = connection.execute(update(_TABLE).where(
            _TABLE.c.key == key, _TABLE.c.status == IN_FLIGHT, _TABLE.c.created_at < cutoff).values(created_at=func.now()))
        return int(result.rowcount) == 1


def answer_of(engine: Engine, cipher: NoteCipher, key: str) -> Answer | None:
    """The stored answer, or None while the first copy is still in flight."""
    with engine.connect() as connection:
        row = connection.execute(select(_TABLE.c.status, _TABLE.c.response_status, _TABLE.c.response_headers,
                                        _TABLE.c.response_body).where(_TABLE.c.key == key)).one_or_none()
    if row is None or row.status != ANSWERED or row.response_status is None:
        return None
    body = cipher.decrypt(row.response_body, BODY_CONTEXT).encode("utf-8", "surrogateescape") if row.response_body else b""
    headers = [(str(name), str(value)) for name, value in (row.response_headers or [])]
    return Answer(status=int(row.response_status), headers=headers, body=body)


def purge(engine: Engine, keep: timedelta = KEEP) -> int:
    """Delete rows older than `keep` by the database's clock; how many went."""
    with engine.begin() as connection:
        cutoff = database_now(connection) - keep
        result = connection.execute(delete(_TABLE).where(_TABLE.c.created_at < cutoff))
        return int(result.rowcount)


def purge_old(sessions: SessionFactory, keep: timedelta = KEEP) -> int:
    """`purge` through a session factory (the daily scan)."""
    bind = sessions.kw["bind"]
    return purge(bind if isinstance(bind, Engine) else bind.engine, keep)
