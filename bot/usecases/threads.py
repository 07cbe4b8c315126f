"""A flag's thread in the supervision channel: who replied and when, never what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.models import Flag, FlagReply, ProcessedEvent

EVENT_MEMORY = timedelta(days=3)


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


def flag_for_thread(session: Session, channel_id: str, thread_ts: str) -> Flag | None:
    return session.scalar(select(Flag).where(Flag.channel_id == channel_id, Flag.message_ts == thread_ts)
                          .order_by(Flag.id.desc()).limit(1))


def record_thread_reply(session: Session, *, event_id: str, channel_id: str, thread_ts: str, message_ts: str,
                        user_id: str, now: datetime) -> ReplyOutcome | None:
    """Count one human reply in a flag's thread, once, however often Slack delivers it."""
    flag = flag_for_thread(session, channel_id, thread_ts)
    if flag is None or not claim_event(session, event_id, now):
        return None
    try:
        with session.begin_nested():
            session.add(FlagReply(flag_id=flag.id, user_id=user_id, message_ts=message_ts, replied_at=now))
            session.flush()
    except IntegrityError:
        return ReplyOutcome(flag_id=flag.id, counted=False, became_discussing=False)
    # Recount from the rows under a row lock, so concurrent deliveries never lose one.
    flag = session.scalar(select(Flag).where(Flag.id == flag.id).with_for_update().execution_options(populate_existing=True))
    assert flag is not None
    replies = session.execute(select(FlagReply.user_id).where(FlagReply.flag_id == flag.id)
                              .order_by(FlagReply.replied_at, FlagReply.id)).scalars().all()
    flag.reply_count = len(replies)
    flag.participants = list(dict.fromkeys(replies))
    flag.last_reply_at = now
    became = flag.status == "open" and flag.open_slot is not None
    if became:
        flag.status = "discussing"
    flag.updated_at = now
    return ReplyOutcome(flag_id=flag.id, counted=True, became_discussing=became)
