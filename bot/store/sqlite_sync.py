"""A SQLite COMMIT returns once it is on disk, synced after the write lock is free.

What a user was told is stored must survive a power cut or a crash of the machine, not
only a crash of the process. In WAL mode, `PRAGMA synchronous=NORMAL` syncs only at
checkpoints, so such a crash could take back commits already acknowledged; FULL syncs
the WAL inside COMMIT, while the database's one write lock is held, so every other
writer waits for the disk too (with 8 senders it cost one process up to a quarter of its
throughput: bench/findings.md). So connections to a database file run with NORMAL, and
`TurnConnection.commit` (bot/store/sqlite_turns.py) syncs the WAL itself once the commit
is done and the lock given back. The commit's frames are in the WAL, which SQLite appends
in order and syncs before any checkpoint copies them out or reuses the file, so syncing
it makes that commit and every one before it durable (what FULL would have done), and
writers that commit meanwhile share the disk's time. A WAL file new to this process has
its directory synced once, as SQLite does for a file it creates. A database named by a
`file:` URI, whose WAL this does not name, keeps FULL.

Two kinds of rows cost nothing if such a crash takes them back and are written for every
signed request: the replay guard's claim and its record of the answer
(bot/store/seen_requests.py; lost, a replay would at worst be handled again). Their
commits are not synced (`sqlite_turns.unsynced`); the next synced commit syncs them with
it. (On PostgreSQL the same transactions turn `synchronous_commit` off.)"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

SYNC_AT_CHECKPOINTS = "PRAGMA synchronous=NORMAL"  # where `WalSync` syncs each commit
SYNC_AT_COMMIT = "PRAGMA synchronous=FULL"  # where it cannot (a database in memory, a `file:` URI)


class WalSync:
    """Syncs one database's WAL (`<database>-wal`) to disk."""

    def __init__(self, database: Path) -> None:
        self.wal = Path(f"{database}-wal").absolute()
        # The WAL file (device, inode) whose directory is synced. No lock (one would outlive a
        # fork half-taken): two threads seeing a new file at once both sync its directory.
        self._directory_synced_for: tuple[int, int] | None = None

    def sync(self) -> None:
        """Everything written to the WAL so far is on disk when this returns; raises
        sqlite3.OperationalError when it could not be synced."""
        try:
            descriptor = os.open(self.wal, os.O_RDONLY)
            try:
                os.fdatasync(descriptor)
                status = os.fstat(descriptor)
            finally:
                os.close(descriptor)
            identity = (status.st_dev, status.st_ino)
            if identity == self._directory_synced_for:
                return
            directory = os.open(self.wal.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
            self._directory_synced_for = identity
        except OSError as error:
            raise sqlite3.OperationalError(f"the commit could not be synced to disk: {error}") from error
