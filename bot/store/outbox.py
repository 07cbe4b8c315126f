"""The outbox: every message Alliance must send, as a row written in the same
transaction as the change that causes it (so a stored change always has its
messages queued), and delivered afterwards by whichever process runs next.

A row's life: `pending` → claimed (`sending`, with a claim that expires) → `sent`
(with where it landed), or back to `pending` with a later `next_attempt_at`
(429, 5xx, timeouts), or `held` (the channel cannot be reached; re-probed), or
`failed` (Slack refused it for good; `last_error` says why, as a code).

Who may send what, and when, is judged by the DATABASE's clock, never a process's:
two machines whose clocks disagree still agree on whose claim has expired.
Several processes share the work: a claim takes rows with `FOR UPDATE SKIP LOCKED`
on PostgreSQL (one conditional UPDATE on SQLite, whose writes are serialised), and
only the oldest unsent row of each channel is claimable, so a channel's messages go
out in order. A row that depends on another (a thread reply on its root) waits
until that one is sent. The dedupe key (unique) keeps a message that must go once
per period — a reminder, a digest, a notice to admins — from being queued twice:
two sweeps that decide the same message is due (two processes, clocks apart) queue
it once, because the key is made from what is due (`reminder:USER:WEEK`), never from
a process's clock.

Sent and failed rows keep no message (`mark_sent` and `mark_failed` empty the
payload) and are forgotten after SENT_RETENTION by the daily scan (`prune_sent`);
their dedupe keys go with them, which is safe: nothing is due again that long after
its period.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, Iterable

from sqlalchemy import Engine, Table, and_, case, cast as sql_cast, event, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import DateTime, Float, String

from bot.store.models import Flag, OutboxMessage

PENDING, SENDING, SENT, FAILED, HELD = "pending", "sending", "sent", "failed", "held"
UNSENT = (PENDING, SENDING)  # what keeps later rows of the same channel waiting
LIVE = (PENDING, SENDING, HELD)
SENT_RETENTION = timedelta(days=30)  # sent rows (where a message landed, no text) are kept this long
MAX_KEY = 160  # the dedupe_key column's length
CLAIM_EXPIRED = "net:claim_expired"  # `net:` codes: Slack never answered, so it may have acted
_TABLE: Table = OutboxMessage.__table__  # type: ignore[assignment]


# -- the database's clock ---------------------------------------------------------

def db_time(dialect: str, offset_seconds: float = 0.0) -> ColumnElement[Any]:
    """The database's own time now, plus `offset_seconds` (a SQL expression).
    SQLite's is rendered like the naive UTC text SQLAlchemy stores there."""
    if dialect == "sqlite":
        text = func.strftime("%Y-%m-%d %H:%M:%f", "now", f"{offset_seconds:+.3f} seconds")
        return sql_cast(text.concat("000"), String)
    now = func.statement_timestamp()
    if offset_seconds:
        return sql_cast(now + func.make_interval(0, 0, 0, 0, 0, 0, sql_cast(offset_seconds, Float)), DateTime(True))
    return now


def _dialect(bind: Session | Engine) -> str:
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    return engine.dialect.name


# -- wake-ups: a deliverer in this process hears of each commit that enqueued ------

_wake_lock = threading.Lock()
_wakers: list[Callable[[], None]] = []
_ENQUEUED = "alliance_outbox_enqueued"


def add_waker(callback: Callable[[], None]) -> None:
    with _wake_lock:
        _wakers.append(callback)


def remove_waker(callback: Callable[[], None]) -> None:
    with _wake_lock:
        if callback in _wakers:
            _wakers.remove(callback)


def wake_deliverers(session: Session) -> None:
    """Called after a commit (see `install_commit_hook`); cheap when nothing was queued."""
    if session.info.pop(_ENQUEUED, False):
        with _wake_lock:
            callbacks = list(_wakers)
        for callback in callbacks:
            callback()


event.listen(Session, "after_commit", wake_deliverers)


# -- writing ------------------------------------------------------------------------

def enqueue(session: Session, kind: str, channel: str, payload: dict[str, Any], *,
            dedupe_key: str | None = None, depends_on: int | None = None, delay_seconds: float = 0.0) -> int | None:
    """Queue one message in the caller's transaction; returns its id, or None when
    `dedupe_key` is already queued (or sent)."""
    dialect = _dialect(session)
    row = OutboxMessage(kind=kind, channel=channel, payload=payload, dedupe_key=dedupe_key, depends_on=depends_on,
                        status=PENDING, attempts=0)
    row.next_attempt_at = db_time(dialect, delay_seconds)  # the database's clock, evaluated at the INSERT
    row.created_at = db_time(dialect)
    if dedupe_key is None:
        session.add(row)
        session.flush()
    else:
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            return None
    session.info[_ENQUEUED] = True
    return row.id


@dataclass(frozen=True)
class Keyed:
    """One message of a batch, under its dedupe key."""

    channel: str
    payload: dict[str, Any]
    dedupe_key: str


def enqueue_many(session: Session, kind: str, messages: Iterable[Keyed]) -> dict[str, int]:
    """Queue many keyed messages in the caller's transaction with one INSERT … ON
    CONFLICT (dedupe_key) DO NOTHING (a sweep queues thousands; a savepoint each
    would cost more than the rest of it). Returns the ids of those queued now, by
    key; a key already queued (or sent) is left out. Rows go in key order: two
    transactions inserting the same keys in different orders could deadlock on
    PostgreSQL's unique index."""
    rows = [{"kind": kind, "channel": m.channel, "payload": m.payload, "dedupe_key": m.dedupe_key,
             "status": PENDING, "attempts": 0} for m in sorted(messages, key=lambda m: m.dedupe_key)]
    if not rows:
        return {}
    dialect = _dialect(session)
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    o = _TABLE.c
    statement = (insert(_TABLE).values(next_attempt_at=db_time(dialect), created_at=db_time(dialect))
                 .on_conflict_do_nothing(index_elements=[o.dedupe_key]).returning(o.dedupe_key, o.id))
    queued = {str(key): int(row_id) for key, row_id in session.connection().execute(statement, rows)}
    if queued:
        session.info[_ENQUEUED] = True
    return queued


def forget_mentions(session: Session, text: str) -> int:
    """Drop rows not yet sent whose message mentions `text` (a forgotten case's code);
    sent rows keep no message (see `mark_sent`)."""
    o = _TABLE.c
    mentions = sql_cast(o.payload, String).contains(text, autoescape=True)
    result = session.connection().execute(_TABLE.delete().where(o.status != SENT, mentions))
    return int(result.rowcount)


def sent_where(engine: Engine, row_id: int) -> tuple[str, str] | None:
    """Where a row landed (channel and ts), or None while it is not sent."""
    o = _TABLE.c
    with engine.connect() as connection:
        found = connection.execute(select(o.result_channel, o.result_ts).where(o.id == row_id, o.status == SENT)).first()
    return (str(found[0]), str(found[1])) if found is not None and found[0] and found[1] else None


def is_queued(session: Session, dedupe_key: str) -> bool:
    return session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)) is not None


def dedupe_key(kind: str, *parts: object) -> str:
    """`kind:part:part` (e.g. `reminder:U0THERA01:2026-W47`), at most MAX_KEY characters."""
    key = ":".join([kind, *(str(part) for part in parts)])
    if len(key) > MAX_KEY:
        raise ValueError(f"outbox dedupe keys are at most {MAX_KEY} characters")
    return key


def queued_keys(session: Session, keys: Iterable[str], chunk: int = 500) -> set[str]:
    """Which of `keys` are queued already, whatever became of them (one query per `chunk` keys)."""
    wanted = sorted(set(keys))
    found: set[str] = set()
    for start in range(0, len(wanted), chunk):
        found.update(str(key) for key in session.scalars(select(OutboxMessage.dedupe_key).where(
            OutboxMessage.dedupe_key.in_(wanted[start:start + chunk]))))
    return found


def prune_sent(session: Session, retention: timedelta = SENT_RETENTION) -> int:
    """Forget rows sent more than `retention` ago (by the database's clock), except
    one a row still waiting depends on, and rows that failed and were queued that long
    ago. Returns how many."""
    o = _TABLE.c
    waiting = aliased(OutboxMessage)
    old = db_time(_dialect(session), -retention.total_seconds())
    needed = exists().where(waiting.depends_on == o.id, waiting.status.in_(LIVE))
    settled = or_(and_(o.status == SENT, o.sent_at < old), and_(o.status == FAILED, o.created_at < old))
    result = session.connection().execute(_TABLE.delete().where(settled, ~needed))
    return int(result.rowcount)


# -- claiming ---------------------------------------------------------------------

@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    channel: str
    payload: dict[str, Any]
    attempts: int  # including this one
    token: str  # the claim; completing needs it
    last_error: str | None
    parent_channel: str | None  # where the row it depends on landed
    parent_ts: str | None


def _claimable(dialect: str, horizon_seconds: float = 0.0, held: bool = True) -> ColumnElement[bool]:
    o = _TABLE.c
    earlier = aliased(OutboxMessage)
    parent = aliased(OutboxMessage)
    now = db_time(dialect, horizon_seconds)
    due = or_(and_(o.status.in_((PENDING, HELD) if held else (PENDING,)), o.next_attempt_at <= now),
              and_(o.status == SENDING, o.claimed_until < now))
    parent_sent = or_(o.depends_on.is_(None),
                      exists().where(parent.id == o.depends_on, parent.status == SENT))
    first_of_channel = ~exists().where(earlier.channel == o.channel, earlier.id < o.id,
                                       earlier.status.in_(UNSENT))
    return and_(due, parent_sent, first_of_channel)


def claim(engine: Engine, worker: str, limit: int, lease_seconds: float) -> list[Claimed]:
    """Take up to `limit` due rows (at most one per channel) for `lease_seconds` of
    the database's time. A claim that expires (its process died) is taken again."""
    dialect = engine.dialect.name
    token = f"{worker}:{uuid.uuid4().hex[:12]}"
    o = _TABLE.c
    pick = select(o.id).where(_claimable(dialect)).order_by(o.id).limit(limit)
    if dialect == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    statement = (update(_TABLE).where(o.id.in_(pick.scalar_subquery()))
                 .values(status=SENDING, claimed_by=token, claimed_until=db_time(dialect, lease_seconds),
                         attempts=o.attempts + 1,
                         # taken over from a sender that died: Slack may have its post
                         last_error=case((o.status == SENDING, CLAIM_EXPIRED), else_=o.last_error))
                 .returning(o.id, o.kind, o.channel, o.payload, o.attempts, o.last_error, o.depends_on))
    with engine.begin() as connection:
        rows = list(connection.execute(statement))
        parents: dict[int, tuple[str | None, str | None]] = {}
        wanted = [row.depends_on for row in rows if row.depends_on is not None]
        if wanted:
            for parent in connection.execute(select(o.id, o.result_channel, o.result_ts).where(o.id.in_(wanted))):
                parents[parent.id] = (parent.result_channel, parent.result_ts)
    claimed = []
    for row in sorted(rows, key=lambda r: r.id):
        parent_channel, parent_ts = parents.get(row.depends_on, (None, None))
        claimed.append(Claimed(row.id, row.kind, row.channel, dict(row.payload), row.attempts, token,
                               row.last_error, parent_channel, parent_ts))
    return claimed


def due_within(engine: Engine, seconds: float) -> bool:
    """Whether some row is being sent right now, or (held rows aside) becomes
    claimable within `seconds`."""
    o = _TABLE.c
    soon = or_(o.status == SENDING, _claimable(engine.dialect.name, seconds, held=False))
    with engine.connect() as connection:
        return connection.scalar(select(o.id).where(soon).limit(1)) is not None


# -- settling a claim ---------------------------------------------------------------

def _mine(row: Claimed) -> ColumnElement[bool]:
    return and_(_TABLE.c.id == row.id, _TABLE.c.claimed_by == row.token, _TABLE.c.status == SENDING)


def extend_claims(engine: Engine, rows: list[Claimed], lease_seconds: float) -> int:
    """Still sending these: their claims last `lease_seconds` more of the database's
    time, so no other process takes them over (and sends them again) meanwhile.
    Returns how many were still this sender's."""
    if not rows:
        return 0
    with engine.begin() as connection:
        result = connection.execute(update(_TABLE).where(or_(*[_mine(row) for row in rows])).values(
            claimed_until=db_time(engine.dialect.name, lease_seconds)))
        return int(result.rowcount)


def mark_sent(engine: Engine, row: Claimed, channel: str | None, ts: str | None) -> bool:
    """Record where it landed; a warning root's flags learn their message, and rows
    held for this channel may go now that it works. False when the claim was lost."""
    dialect = engine.dialect.name
    with engine.begin() as connection:
        done = connection.execute(update(_TABLE).where(_mine(row)).values(
            status=SENT, result_channel=channel, result_ts=ts, sent_at=db_time(dialect), claimed_until=None,
            payload={}))  # what was said lives in Slack now, not here
        if done.rowcount != 1:
            return False
        if channel and ts:
            connection.execute(update(Flag.__table__).where(Flag.__table__.c.root_outbox_id == row.id)  # type: ignore[arg-type]
                               .values(channel_id=channel, message_ts=ts, root_outbox_id=None))
        connection.execute(update(_TABLE).where(_TABLE.c.channel == row.channel, _TABLE.c.status == HELD)
                           .values(status=PENDING, next_attempt_at=db_time(dialect)))
    return True


def mark_retry(engine: Engine, row: Claimed, error_code: str, delay_seconds: float) -> None:
    with engine.begin() as connection:
        connection.execute(update(_TABLE).where(_mine(row)).values(
            status=PENDING, last_error=error_code[:40], claimed_until=None,
            next_attempt_at=db_time(engine.dialect.name, delay_seconds)))


def mark_held(engine: Engine, row: Claimed, error_code: str, recheck_seconds: float) -> None:
    """The channel cannot be reached: keep the row for it, and look again later."""
    with engine.begin() as connection:
        connection.execute(update(_TABLE).where(_mine(row)).values(
            status=HELD, last_error=error_code[:40], claimed_until=None,
            next_attempt_at=db_time(engine.dialect.name, recheck_seconds)))


def mark_failed(engine: Engine, row: Claimed, error_code: str) -> None:
    """Slack refused it for good; whatever waited on it cannot go either. What they
    were to say is not kept (nothing sends a failed row again): the error code,
    kind and channel stay for the operator (`alliance-bot outbox`)."""
    with engine.begin() as connection:
        connection.execute(update(_TABLE).where(_mine(row)).values(
            status=FAILED, last_error=error_code[:40], claimed_until=None, payload={}))
        waiting = [row.id]
        while waiting:
            found = list(connection.execute(update(_TABLE).where(
                _TABLE.c.depends_on.in_(waiting), _TABLE.c.status.in_(LIVE))
                .values(status=FAILED, last_error="dependency_failed", payload={}).returning(_TABLE.c.id)).scalars())
            waiting = found


def retarget_held(session: Session, channel: str) -> int:
    """The supervision channel changed: posts held for a channel that could not be
    reached go to `channel` instead, now (their flags follow). Returns how many."""
    o = _TABLE.c
    ids = list(session.scalars(select(o.id).where(o.status == HELD, o.kind == "post", o.channel != channel)))
    if not ids:
        return 0
    session.execute(update(_TABLE).where(o.id.in_(ids)).values(
        channel=channel, status=PENDING, next_attempt_at=db_time(_dialect(session))))
    session.execute(update(Flag).where(Flag.root_outbox_id.in_(ids)).values(channel_id=channel))
    session.info[_ENQUEUED] = True
    return len(ids)


def recheck_held(engine: Engine, channel: str | None = None) -> int:
    """Make held rows due now (e.g. after `/alliance config supervision`)."""
    statement = update(_TABLE).where(_TABLE.c.status == HELD)
    if channel is not None:
        statement = statement.where(_TABLE.c.channel == channel)
    with engine.begin() as connection:
        return connection.execute(statement.values(next_attempt_at=db_time(engine.dialect.name))).rowcount


# -- reading, for operators --------------------------------------------------------

@dataclass(frozen=True)
class Backlog:
    kind: str
    channel: str
    status: str
    count: int
    oldest_seconds: float
    last_error: str | None
    what: str | None = None  # an upload's kind (export, digest_chart, …) or a dedupe key's first word (reminder, digest, …)


def _what(dialect: str) -> ColumnElement[Any]:
    """What a row is, in one word and never its content: an upload's `upload` (export,
    trend_chart, digest_chart, rating_links), else its dedupe key's first word."""
    o = _TABLE.c
    if dialect == "sqlite":
        prefix = func.substr(o.dedupe_key, 1, func.instr(o.dedupe_key, ":") - 1)
    else:
        prefix = func.split_part(o.dedupe_key, ":", 1)
    return func.coalesce(o.payload["upload"].as_string(), prefix)


def backlog(engine: Engine) -> list[Backlog]:
    """What is not yet sent (or failed), per kind, what, channel and status: counts,
    the oldest row's age by the database's clock, and the newest error code."""
    o = _TABLE.c
    dialect = engine.dialect.name
    if dialect == "sqlite":
        age = (func.julianday("now") - func.julianday(func.min(o.created_at))) * 86400.0
    else:
        age = func.extract("epoch", func.statement_timestamp() - func.min(o.created_at))
    what = _what(dialect).label("what")
    with engine.connect() as connection:
        rows = list(connection.execute(
            select(o.kind, o.channel, o.status, func.count(), age, func.max(o.last_error), what)
            .where(o.status.in_((PENDING, SENDING, HELD, FAILED)))
            .group_by(o.kind, o.channel, o.status, what).order_by(o.kind, o.channel, o.status, what)))
    return [Backlog(kind, channel, status, int(count), float(oldest or 0.0), error, what or None)
            for kind, channel, status, count, oldest, error, what in rows]


def depth(engine: Engine) -> dict[str, int]:
    """Rows per live status (and failed), for /healthz."""
    o = _TABLE.c
    with engine.connect() as connection:
        counts = {str(status): int(count) for status, count in connection.execute(select(o.status, func.count()).where(
            o.status.in_((PENDING, SENDING, HELD, FAILED))).group_by(o.status))}
    return {status: int(counts.get(status, 0)) for status in (PENDING, SENDING, HELD, FAILED)}


def rows_for(engine: Engine, ids: Iterable[int]) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(list(ids)))))

