"""When a SQLite COMMIT waits for the disk.

Every connection syncs at commit (`PRAGMA synchronous=FULL`, bot/store/db.py): what a
user was told is stored survives a power cut or a crash of the machine, not only a crash
of the process. Two kinds of rows cost nothing if such a crash takes them back and are
written for every signed request: the replay guard's claim and its record of the answer
(bot/store/seen_requests.py; lost, a replay would at worst be handled again). Their
transactions commit unsynced, and the next synced commit syncs them with it, since SQLite
appends to its WAL in order. (On PostgreSQL the same transactions turn
`synchronous_commit` off.)"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from typing import Iterator

SYNCED = "PRAGMA synchronous=FULL"
UNSYNCED = "PRAGMA synchronous=NORMAL"


@contextmanager
def unsynced(driver: sqlite3.Connection) -> Iterator[None]:
    """Within: `driver`'s COMMITs return without waiting for the disk. After: synced again,
    or the connection is closed (its pool then replaces it) rather than kept unsynced."""
    driver.execute(UNSYNCED)
    try:
        yield
    finally:
        try:
            driver.execute(SYNCED)
        except sqlite3.Error:
            driver.close()
            raise
