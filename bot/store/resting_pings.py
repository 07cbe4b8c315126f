"""PostgreSQL connections are pinged before use only when they have rested.

SQLAlchemy's `pool_pre_ping` asks the server `SELECT 1` at every checkout: a round
trip per transaction, two or three per `/alliance log` (its replay claim, its change,
the answer stored after). A connection that answered a moment ago is almost always
still there, so this pings only one that has rested in the pool for `REST_SECONDS`
or more (the usual case after a quiet spell, when a restarted or failed-over server,
or an idle-timeout proxy, has dropped it). One that fails the ping is replaced
before the transaction starts: the pool tries again, up to three times.

A connection dropped in the last few seconds while in steady use is found out by
the statement that uses it instead: SQLAlchemy then invalidates it and every pooled
connection older than it, and that one request answers "not saved, try again"
(bot/store/db.py bounds how long it waits)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError

REST_SECONDS = 2.0
_RESTED_SINCE = "alliance_rested_since"  # connection record info: monotonic time of its checkin


def _checkin(dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info[_RESTED_SINCE] = time.monotonic()


def _pinging(engine: Engine) -> Any:
    def on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get(_RESTED_SINCE)
        if since is None or time.monotonic() - since < REST_SECONDS:
            return  # new (it just connected), or used a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)  # what pool_pre_ping does, at every checkout
        except Exception as error:  # noqa: BLE001 - any failure: the pool replaces the connection
            raise DisconnectionError(f"a rested connection did not answer: {type(error).__name__}") from error

    return on_checkout


def ping_rested_connections(engine: Engine) -> None:
    event.listen(engine, "checkin", _checkin)
    event.listen(engine, "checkout", _pinging(engine))
