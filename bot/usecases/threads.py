"""A flag's thread in the supervision channel: who replied and when, never what.

Several flags (one per rule) can share one warning root. A reply in its thread
belongs to all of them: it is counted on every flag of that root, open or not,
and moves each open one to *discussing*. The outcome names the root's first flag
(rule order), which is the one re-rendering the root goes by.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.models import Flag, FlagReply, ProcessedEvent
from bot.domain.messages import MessageRef
from bot.usecases.flags import DISCUSSING, OPEN, flags_on_message

EVENT_MEMORY = timedelta(days=1)  # Slack gives up redelivering within hours; the daily scan purges older rows


@dataclass(frozen=True)
class ReplyOutcome:
    flag_id: int
    counted: bool
    became_discussing: bool


def claim_event(session: Session, event_id: str, now: datetime) -> bool:
    """True the first time an Events API delivery is seen; False for a redelivery."""
    if not event_id:
        return True
    try:
        with session.begin_nested():
            session.add(ProcessedEvent(event_id=event_id[:64], received_at=now))
            session.flush()
    except IntegrityError:
        return False
    return True


def forget_old_events(session: Session, now: datetime) -> int:
    result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < now - EVENT_MEMORY))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def flags_for_thread(session: Session, channel_id: str, thread_ts: str) -> list[Flag]:
    """Every flag whose warning root is this message, in rule order (one case's)."""
    case_id = session.scalar(select(Flag.case_id).where(Flag.channel_id == channel_id, Flag.message_ts == thread_ts)
                             .limit(1))
    if case_id is None:
        return []
    return flags_on_message(session, case_id, MessageRef(channel_id, thread_ts))


def _count_on(session: Session, flag_id: int, user_id: str, message_ts: str, now: datetime) -> tuple[bool, bool]:
    """(counted, became discussing) for one flag of the root."""
    try:
        with session.begin_nested():
            session.add(FlagReply(flag_id=flag_id, user_id=user_id, message_ts=message_ts, replied_at=now))
            session.flush()
    except IntegrityError:
        return False, False
    # Recount from the rows under a row lock, so concurrent deliveries never lose one.
    flag = session.scalar(select(Flag).where(Flag.id == flag_id).with_for_update().execution_options(populate_existing=True))
    assert flag is not None
    replies = session.execute(select(FlagReply.user_id).where(FlagReply.flag_id == flag.id)
                              .order_by(FlagReply.replied_at, FlagReply.id)).scalars().all()
    flag.reply_count = len(replies)
    flag.participants = list(dict.fromkeys(replies))
    flag.last_reply_at = now
    became = flag.status == OPEN and flag.open_slot is not None
    if became:
        flag.status = DISCUSSING
    flag.updated_at = now
    return True, became


def record_thread_reply(session: Session, *, event_id: str, channel_id: str, thread_ts: str, message_ts: str,
                        user_id: str, now: datetime) -> ReplyOutcome | None:
    """Count one human reply in a warning's thread on each of its flags, once,
    however often Slack delivers it."""
    flags = flags_for_thread(session, channel_id, thread_ts)
    if not flags:
        return None
    # Lock the root's flags (in id order) before inserting replies: a reply's foreign
    # key takes a share lock on its flag, and two deliveries that each held one and
    # then asked for the row lock would deadlock on PostgreSQL, losing a reply.
    session.execute(select(Flag.id).where(Flag.id.in_([f.id for f in flags])).order_by(Flag.id).with_for_update())
    if not claim_event(session, event_id, now):
        return None
    counted = became = False
    for flag_id in [f.id for f in flags]:
        one_counted, one_became = _count_on(session, flag_id, user_id, message_ts, now)
        counted, became = counted or one_counted, became or one_became
    return ReplyOutcome(flag_id=flags[0].id, counted=counted, became_discussing=became)
