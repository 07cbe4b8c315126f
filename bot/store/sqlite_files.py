"""The SQLite database file and its -wal and -shm companions are readable by
their owner only (0600): they hold case codes, scores and encrypted notes. So do
the -turn and -door files its writers take turns on (bot/store/sqlite_turns.py),
which hold nothing but are the database's all the same.

SQLite creates a database file with the process umask (usually 0644) and gives
the -wal and -shm files the database file's own permissions. So the file is
created here first, 0600, before SQLite opens it; a file left 0644 by an older
version is tightened at start-up, companions included."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

PRIVATE = 0o600
TURN, DOOR = "-turn", "-door"  # the files writers take turns on (bot/store/sqlite_turns.py)
COMPANIONS = ("", "-wal", "-shm", "-journal", TURN, DOOR)


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def open_private(path: Path) -> int:
    """A descriptor of `path` (created 0600 if missing, made 0600 if not), not
    inherited by a program this process runs."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE)
    try:
        if (os.fstat(descriptor).st_mode & 0o777) != PRIVATE:
            os.fchmod(descriptor, PRIVATE)
    except OSError:  # not ours to change (another owner): SECURITY.md says to check
        pass
    return descriptor


def keep_sqlite_private(url: str) -> None:
    """Create the database file 0600 if it is missing; make it and its companions 0600."""
    path = sqlite_path(url)
    if path is None:
        return
    if not path.exists() and path.parent.is_dir():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE))
    for suffix in COMPANIONS:
        companion = Path(f"{path}{suffix}")
        try:
            if companion.exists() and (companion.stat().st_mode & 0o777) != PRIVATE:
                companion.chmod(PRIVATE)
        except OSError:  # not ours to change (another owner): SECURITY.md says to check
            pass
