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

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from sqlalchemy import Connection, Engine, Table, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.store.crypto import NoteCipher
from bot.store.db import SessionFactory, database_now
from bot.store.models import SeenRequest

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


def _no_flush_wait(connection: Connection) -> None:
    """PostgreSQL: this transaction's commit does not wait for the WAL flush (a
    database crash in the next fraction of a second could forget it: at worst a
    replay is then handled again)."""
    connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


def claim(engine: Engine, key: str, request_ts: int) -> bool:
    """True when this is the first copy of the request (now claimed, in its own
    transaction, one statement: the database stamps it); False when another copy
    claimed it first. Its lock wait is the request engine's (on SQLite the turn
    taken before a first write sets it: bot/store/db.py), as for the change after it."""
    with engine.connect() as connection:
        try:
            with connection.begin():
                if connection.dialect.name != "sqlite":
                    _no_flush_wait(connection)
                connection.execute(insert(_TABLE).values(key=key, request_ts=request_ts, status=IN_FLIGHT,
                                                         created_at=func.now()))
            return True
        except IntegrityError:
            return False


def record(engine: Engine, cipher: NoteCipher, key: str, answer: Answer) -> None:
    with engine.begin() as connection:
        if connection.dialect.name != "sqlite":
            _no_flush_wait(connection)
        connection.execute(update(_TABLE).where(_TABLE.c.key == key).values(
            status=ANSWERED, response_status=answer.status, response_headers=[list(h) for h in answer.headers],
            response_body=cipher.encrypt(answer.body.decode("utf-8", "surrogateescape"), BODY_CONTEXT)))


def release(engine: Engine, key: str) -> None:
    """Forget a claim whose request was never answered (it failed before dispatch)."""
    with engine.begin() as connection:
        connection.execute(delete(_TABLE).where(_TABLE.c.key == key, _TABLE.c.status == IN_FLIGHT))


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
