"""Plain SELECTs on a session's own connection, without the ORM's execute path.

`Session.execute` runs even a SELECT of table columns through the ORM: its compile
state, its result set-up and a loading step per row. For a read whose rows are
only read, that path cost as much as the statement itself (bench/log_path.py).
`read` runs the statement on the connection of the session's transaction instead,
so it sees what that transaction wrote, and flushes pending ORM changes first, as
the ORM's autoflush would have."""

from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import Connection, CursorResult, Executable
from sqlalchemy.orm import Session


def read(session: Session, statement: Executable, parameters: Mapping[str, Any] | None = None) -> CursorResult[Any]:
    return connection(session).execute(statement, dict(parameters or {}))


def connection(session: Session) -> Connection:
    """The connection of the session's transaction, its pending changes flushed."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection()
