"""`alliance-bot outbox`: what waits to be sent, for operators — counts per kind,
channel, status and what (reminder, digest, export, …), the oldest row's age and the
last error code; never a message."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError, ProgrammingError

from bot.settings import Settings, SettingsError
from bot.store import outbox
from bot.store.db import make_engine


def format_age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def print_outbox(settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    try:
        rows = outbox.backlog(engine)
    except (OperationalError, ProgrammingError) as error:
        raise SettingsError("the outbox could not be read; run `alliance-bot db upgrade` first") from error
    finally:
        engine.dispose()
    if not rows:
        print("outbox: nothing waiting")
        return 0
    print(f"{'kind':<8} {'channel':<12} {'status':<8} {'count':>6} {'oldest':>7}  {'last error':<16} what")
    for row in rows:
        print(f"{row.kind:<8} {row.channel:<12} {row.status:<8} {row.count:>6} {format_age(row.oldest_seconds):>7}  "
              f"{row.last_error or '-':<16} {row.what or '-'}")
    return 0
