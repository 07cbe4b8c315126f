"""The ledger of scheduled messages: each one is recorded under a unique key
(`kind:recipient:period`) *before* it counts as sent.

1. claim: INSERT the key as `pending`; the primary key lets only one claimer win,
   so a rerun, a restart or a second process finds it taken and sends nothing;
2. send;
3. mark `sent` (with where it went), or on failure release the claim so a later
   sweep tries again.

A `pending` row older than `stale_after` belongs to a sender that died between
claiming and marking; it may be claimed again (the one case where a message could
go out twice: the process crashed after Slack accepted it but before marking).

Claims are timed by the database's clock (read in the claiming transaction), never
by the caller's: a sweep whose machine runs 20 minutes ahead does not judge another
machine's fresh claim stale. The `now` the functions take is the caller's (a sweep's
as-if time); it decides nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Iterable, Sequence, cast

from sqlalchemy import Connection, Engine, Table, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.store.db import SessionFactory, database_now
from bot.store.models import SentMessage

STALE_AFTER = timedelta(minutes=15)
PENDING, SENT = "pending", "sent"
DatabaseClock = Callable[[Connection], datetime]


@dataclass(frozen=True)
class Delivery:
    """Where a message landed: channel and ts (ts may be None for uploads)."""

    channel_id: str | None
    message_ts: str | None


def message_key(kind: str, recipient: str, period: str) -> str:
    key = f"{kind}:{recipient}:{period}"
    if len(key) > 160:
        raise ValueError("sent-message keys are at most 160 characters")
    return key


_TABLE = cast(Table, SentMessage.__table__)
# Plain Core statements on a connection: a sweep writes two rows per message, and
# the ORM's unit of work would cost more than the database does.
_INSERT_PENDING = insert(_TABLE)
_TAKE_STALE = (update(_TABLE)
               .where(_TABLE.c.key == bindparam("k"), _TABLE.c.status == PENDING,
                      _TABLE.c.claimed_at < bindparam("stale"))
               .values(claimed_at=bindparam("now")))
_MARK_SENT = (update(_TABLE).where(_TABLE.c.key == bindparam("k"))
              .values(status=SENT, sent_at=bindparam("now"), channel_id=bindparam("channel"),
                      message_ts=bindparam("ts")))
_RELEASE = delete(_TABLE).where(_TABLE.c.key == bindparam("k"), _TABLE.c.status == PENDING)


def _engine(sessions: SessionFactory) -> Engine:
    bind = sessions.kw["bind"]
    return bind if isinstance(bind, Engine) else bind.engine


def claim(sessions: SessionFactory, key: str, now: datetime | None = None, stale_after: timedelta = STALE_AFTER,
          clock: DatabaseClock = database_now) -> bool:
    """True when this caller may send `key` now."""
    engine = _engine(sessions)
    try:
        with engine.begin() as connection:
            connection.execute(_INSERT_PENDING, {"key": key, "status": PENDING, "claimed_at": clock(connection)})
        return True
    except IntegrityError:
        pass
    with engine.begin() as connection:
        at = clock(connection)
        result = connection.execute(_TAKE_STALE, {"k": key, "stale": at - stale_after, "now": at})
        return result.rowcount == 1


def claim_many(sessions: SessionFactory, keys: Sequence[str], now: datetime | None = None,
               stale_after: timedelta = STALE_AFTER, clock: DatabaseClock = database_now) -> set[str]:
    """Claim several keys in one transaction (a savepoint each): the ones this
    caller may send now. Claim only what is about to be sent: a claim older than
    `stale_after` may be taken over. Keys are claimed in sorted order, so two
    claimers of overlapping batches wait for each other instead of deadlocking."""
    claimed: set[str] = set()
    with _engine(sessions).begin() as connection:
        at = clock(connection)
        for key in sorted(set(keys)):
            try:
                with connection.begin_nested():
                    connection.execute(_INSERT_PENDING, {"key": key, "status": PENDING, "claimed_at": at})
                claimed.add(key)
            except IntegrityError:
                result = connection.execute(_TAKE_STALE, {"k": key, "stale": at - stale_after, "now": at})
                if result.rowcount == 1:
                    claimed.add(key)
    return claimed


def mark_sent(sessions: SessionFactory, key: str, now: datetime | None, delivery: Delivery,
              clock: DatabaseClock = database_now) -> None:
    with _engine(sessions).begin() as connection:
        connection.execute(_MARK_SENT, {"k": key, "now": clock(connection), "channel": delivery.channel_id,
                                        "ts": delivery.message_ts})


def release(sessions: SessionFactory, key: str) -> None:
    """Forget a pending claim whose send failed, so the next sweep retries it."""
    with _engine(sessions).begin() as connection:
        connection.execute(_RELEASE, {"k": key})


def was_sent(sessions: SessionFactory, key: str) -> Delivery | None:
    with sessions.begin() as session:
        row = session.get(SentMessage, key)
        if row is None or row.status != SENT:
            return None
        return Delivery(channel_id=row.channel_id, message_ts=row.message_ts)


def sent_keys(sessions: SessionFactory, keys: Iterable[str], chunk: int = 500) -> set[str]:
    """Which of `keys` are marked sent (one query per `chunk` keys)."""
    wanted = sorted(set(keys))
    found: set[str] = set()
    with sessions.begin() as session:
        for start in range(0, len(wanted), chunk):
            found.update(session.scalars(select(SentMessage.key).where(
                SentMessage.key.in_(wanted[start:start + chunk]), SentMessage.status == SENT)))
    return found
