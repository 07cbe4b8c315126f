"""Writers take turns on SQLite's one write lock: the threads of an engine, the
engines of a process (requests', jobs') and the processes of `serve --workers`.

SQLite lets one transaction at a time write. One that finds the write lock held
sleeps in SQLite's busy handler, which looks again after 1, 2, 5, 10, 15, 20, 25,
25, 25, 50, 50 and then every 100 ms: a writer of another process started up to
100 ms after the lock was free. So a writer takes its turn here first and only
then BEGIN IMMEDIATE, which finds the lock free:

- threads of one engine queue on a `FairLock`, in the order they came (a
  `threading.Lock` let newcomers take a turn ahead of threads already waiting),
  so only one of them at a time waits for the files below;
- engines and processes queue on `flock` of two files next to the database, 0600
  like it. A writer waits at the door (`<database>-door`) and, once alone there,
  for the turn (`<database>-turn`), so a process whose writers follow one another
  cannot take the turn again and again ahead of one already waiting (without the
  door such a writer waited up to 300 ms behind 3 ms turns). flock has no
  timeout: each file is tried without blocking every 0.2 to 1 ms until the
  deadline. The kernel drops a flock with the process (kill -9 leaves no turn
  held). It belongs to an open file description, so each engine opens its own,
  in the process that uses it: one inherited across a fork is closed in the
  child, never unlocked there.

A turn ends once SQLite's transaction has: `TurnConnection` gives it back after
its COMMIT or ROLLBACK (SQLAlchemy's commit event comes before them; a writer let
in then found the lock still held and slept 1 to 8 ms). An automatic checkpoint
run by a COMMIT (every 1000 pages) is thus inside the turn. Both waits together
stay within one bound (`Waits.lock`); a turn not had in time leaves SQLite what is
left of it, at least a millisecond, so it says "database is locked" at once (the
user reads "Not saved")."""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import time
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from bot.store.fair_lock import FairLock
from bot.store.sqlite_files import DOOR, TURN, open_private
from bot.store.sqlite_sync import WalSync

logger = logging.getLogger("alliance")

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT")
FIRST_PAUSE = 0.0002  # seconds between tries of a file locked by another, doubling up to
LONGEST_PAUSE = 0.001
SLACK_MS = 50  # how far above what is left of the bound SQLite's busy timeout may stay

_OPEN: weakref.WeakSet[LockFile] = weakref.WeakSet()  # closed in a forked child


class LockFile:
    """An exclusive flock on `path` through this process's own open file (opened
    at first use: OSError if it cannot be)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._descriptor: int | None = None
        self._closer: weakref.finalize[Any, Any] | None = None
        _OPEN.add(self)

    def wait(self, deadline: float) -> bool:
        """Whether the lock was had before `deadline` (time.monotonic())."""
        descriptor = self._open()
        pause = FIRST_PAUSE
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                time.sleep(min(pause, left))
                pause = min(pause * 2, LONGEST_PAUSE)

    def release(self) -> None:
        if self._descriptor is not None:
            fcntl.flock(self._descriptor, fcntl.LOCK_UN)

    def forget_inherited(self) -> None:
        """In a forked child: close the parent's file without unlocking it (what the
        parent holds stays the parent's); the child opens its own at first use."""
        if self._closer is not None:
            self._closer()
        self._descriptor, self._closer = None, None

    def _open(self) -> int:
        if self._descriptor is None:
            self._descriptor = open_private(self.path)
            self._closer = weakref.finalize(self, os.close, self._descriptor)
        return self._descriptor


def _forget_inherited_files() -> None:
    for lock_file in list(_OPEN):
        lock_file.forget_inherited()


os.register_at_fork(after_in_child=_forget_inherited_files)


class TurnFiles:
    """The door and the turn of one database, for one engine."""

    def __init__(self, database: Path) -> None:
        self.door = LockFile(Path(f"{database}{DOOR}"))
        self.turn = LockFile(Path(f"{database}{TURN}"))
        self._usable = True

    def take(self, deadline: float) -> bool:
        """Whether the turn was had before `deadline`. Files that cannot be opened are
        no turn to wait for (logged once: the threads of this engine still take turns)."""
        if not self._usable:
            return True
        try:
            if not self.door.wait(deadline):
                return False
            try:
                return self.turn.wait(deadline)
            finally:
                self.door.release()
        except OSError as error:
            self._usable = False
            logger.warning("writers of other processes cannot take turns (%s): %s", self.turn.path, error)
            return True

    def give_back(self) -> None:
        self.turn.release()


class TurnConnection(sqlite3.Connection):
    """A SQLite connection that gives its writer's turn back once its transaction
    has ended, whichever way: commit, rollback (a pool's reset too) or close."""

    turns: SqliteTurns | None = None
    holds_turn = False
    busy_ms: int | None = None  # SQLite's busy timeout as last set on this connection
    sync_commits = True  # a commit syncs the WAL before it returns (bot/store/sqlite_sync.py)

    def wait_at_most(self, cursor: Any, milliseconds: int) -> None:
        """Set SQLite's busy timeout, unless it is already within SLACK_MS above that
        (a turn had at once leaves nearly the whole bound: no PRAGMA per transaction)."""
        if self.busy_ms is None or not milliseconds <= self.busy_ms <= milliseconds + SLACK_MS:
            cursor.execute(f"PRAGMA busy_timeout = {milliseconds}")
            self.busy_ms = milliseconds

    def commit(self) -> None:
        """COMMIT, the turn given back, then the WAL synced (bot/store/sqlite_sync.py): on
        disk when this returns, without holding up the next writer meanwhile."""
        wrote = self.in_transaction
        try:
            super().commit()
        finally:
            self.end_turn()
        if wrote and self.sync_commits and self.turns is not None and self.turns.wal is not None:
            self.turns.wal.sync()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.end_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.end_turn(closed=True)

    def end_turn(self, closed: bool = False) -> None:
        if self.holds_turn and self.turns is not None and (closed or not self.in_transaction):
            self.holds_turn = False
            self.turns.give_back()


class SqliteTurns:
    """One engine's writers' turns: a thread lock, then the database's files (none
    for a database in memory: threads only)."""

    def __init__(self, wait_seconds: float, database: Path | None) -> None:
        self._threads = FairLock()
        self._files = TurnFiles(database) if database is not None else None
        self.wal = WalSync(database) if database is not None else None  # none for a database in memory
        self._wait = wait_seconds

    def on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        if isinstance(dbapi_connection, TurnConnection):
            dbapi_connection.turns = self

    def before_statement(self, connection: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                         executemany: bool) -> None:
        """A transaction's first write (or savepoint) takes a turn, then SQLite's write
        lock (BEGIN IMMEDIATE); reads before it take neither. The driver's own handling
        began no transaction before a SAVEPOINT, so the savepoint's RELEASE committed."""
        raw = connection.connection.dbapi_connection
        if not isinstance(raw, TurnConnection) or raw.in_transaction \
                or not statement.lstrip()[:9].upper().startswith(WRITES):
            return
        self.begin_writing(raw, cursor)

    def begin_writing(self, raw: TurnConnection, cursor: Any) -> None:
        """Take a turn, then BEGIN IMMEDIATE on `raw` (not in a transaction): what a
        first write does through SQLAlchemy, and what a write on the driver's own
        connection does first (bot/store/seen_requests.py)."""
        raw.end_turn()  # one left by a transaction ended behind the driver's back (a COMMIT in SQL)
        deadline = time.monotonic() + self._wait
        raw.holds_turn = self._take(deadline)
        # SQLite waits only for what is left of the bound (a turn not had in time means
        # one held that long: SQLite then says "database is locked" at once).
        left = max(0.001, deadline - time.monotonic())
        try:
            raw.wait_at_most(cursor, int(left * 1000))
            cursor.execute("BEGIN IMMEDIATE")
        except BaseException:
            raw.end_turn()
            raise

    def waiting(self) -> int:
        """How many threads of this engine are waiting for a turn."""
        return self._threads.waiting()

    def give_back(self) -> None:
        """The files' turn first, then the threads'."""
        try:
            if self._files is not None:
                self._files.give_back()
        finally:
            self._threads.release()

    def _take(self, deadline: float) -> bool:
        if not self._threads.acquire(timeout=max(0.0, deadline - time.monotonic())):
            return False
        try:
            if self._files is None or self._files.take(deadline):
                return True
        except BaseException:
            self._threads.release()
            raise
        self._threads.release()
        return False


@contextmanager
def unsynced(driver: Any) -> Iterator[None]:
    """Within: `driver`'s commits return without syncing the WAL (a `TurnConnection`'s;
    any other driver, PostgreSQL's among them, is left as it is). What it was is restored."""
    if not isinstance(driver, TurnConnection):
        yield
        return
    before, driver.sync_commits = driver.sync_commits, False
    try:
        yield
    finally:
        driver.sync_commits = before
