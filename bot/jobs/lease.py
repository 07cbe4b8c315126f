"""A lease row in `scheduler_leases`: whoever holds an unexpired lease is the one
scheduler that acts. Works the same on SQLite and PostgreSQL.

Taking or renewing is one conditional UPDATE (`… WHERE expires_at < now OR
holder = me`), which the database applies atomically: of two contenders only one
sees its row count at 1. The very first use INSERTs the row; the primary key
turns a simultaneous second INSERT into an IntegrityError, i.e. a lost race.

Expiry is judged by the database's clock (read in the same transaction), never by
the process's: two machines whose clocks disagree by minutes still agree on who
holds the lease and when it runs out.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import Connection, or_, update
from sqlalchemy.exc import IntegrityError

from bot.store.db import SessionFactory, database_now
from bot.store.models import SchedulerLease

SCHEDULER_LEASE = "scheduler"
DEFAULT_TTL = timedelta(minutes=2)
DatabaseClock = Callable[[Connection], datetime]


def make_holder_id() -> str:
    """Unique per process and per start: `host:pid:random`."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    def __init__(self, session_factory: SessionFactory, holder: str | None = None,
                 name: str = SCHEDULER_LEASE, ttl: timedelta = DEFAULT_TTL,
                 clock: DatabaseClock = database_now) -> None:
        """`clock`: the database's time, read on the lease's own connection (tests
        pass a settable one)."""
        self._sessions = session_factory
        self.holder = holder or make_holder_id()
        self.name = name
        self.ttl = ttl
        self._clock = clock

    def acquire(self) -> bool:
        """Take the lease if it is free or expired, or renew it if it is ours.
        True when this holder now holds it until the database's now + ttl."""
        if self._take():
            return True
        try:
            with self._sessions.begin() as session:
                now = self._clock(session.connection())
                session.add(SchedulerLease(name=self.name, holder=self.holder, expires_at=now + self.ttl))
        except IntegrityError:
            # The row appeared meanwhile: ours if another thread of this holder
            # made it, else someone else's until it expires.
            return self._take()
        return True

    def _take(self) -> bool:
        with self._sessions.begin() as session:
            now = self._clock(session.connection())
            result = session.execute(
                update(SchedulerLease)
                .where(SchedulerLease.name == self.name,
                       or_(SchedulerLease.expires_at < now, SchedulerLease.holder == self.holder))
                .values(holder=self.holder, expires_at=now + self.ttl)
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]

    def release(self) -> None:
        """Give the lease up at once (on shutdown), if it is ours."""
        with self._sessions.begin() as session:
            now = self._clock(session.connection())
            session.execute(
                update(SchedulerLease)
                .where(SchedulerLease.name == self.name, SchedulerLease.holder == self.holder)
                .values(expires_at=now - timedelta(seconds=1))
                .execution_options(synchronize_session=False)
            )

    def current_holder(self) -> str | None:
        """Who holds an unexpired lease now (the database's now), if anyone."""
        with self._sessions.begin() as session:
            now = self._clock(session.connection())
            row = session.get(SchedulerLease, self.name)
            return row.holder if row is not None and row.expires_at >= now else None
