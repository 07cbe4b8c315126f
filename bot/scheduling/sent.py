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
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Callable

from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from bot.db import SessionFactory
from bot.models import SentMessage

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=15)
PENDING, SENT = "pending", "sent"


class Outcome(StrEnum):
    SENT = "sent"
    ALREADY = "already"  # sent before, or being sent by someone else right now
    FAILED = "failed"  # Slack refused or could not be reached; the claim was released


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


def claim(sessions: SessionFactory, key: str, now: datetime, stale_after: timedelta = STALE_AFTER) -> bool:
    """True when this caller may send `key` now."""
    try:
        with sessions.begin() as session:
            session.add(SentMessage(key=key, status=PENDING, claimed_at=now))
        return True
    except IntegrityError:
        pass
    with sessions.begin() as session:
        result = session.execute(
            update(SentMessage)
            .where(SentMessage.key == key, SentMessage.status == PENDING, SentMessage.claimed_at < now - stale_after)
            .values(claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]


def mark_sent(sessions: SessionFactory, key: str, now: datetime, delivery: Delivery) -> None:
    with sessions.begin() as session:
        session.execute(
            update(SentMessage).where(SentMessage.key == key)
            .values(status=SENT, sent_at=now, channel_id=delivery.channel_id, message_ts=delivery.message_ts)
            .execution_options(synchronize_session=False)
        )


def release(sessions: SessionFactory, key: str) -> None:
    """Forget a pending claim whose send failed, so the next sweep retries it."""
    with sessions.begin() as session:
        session.execute(delete(SentMessage).where(SentMessage.key == key, SentMessage.status == PENDING)
                        .execution_options(synchronize_session=False))


def was_sent(sessions: SessionFactory, key: str) -> Delivery | None:
    with sessions.begin() as session:
        row = session.get(SentMessage, key)
        if row is None or row.status != SENT:
            return None
        return Delivery(channel_id=row.channel_id, message_ts=row.message_ts)


def send_once(sessions: SessionFactory, key: str, now: datetime, send: Callable[[], Delivery],
              stale_after: timedelta = STALE_AFTER) -> Outcome:
    """Claim `key`, call `send`, record the result. Never sends a key twice."""
    if not claim(sessions, key, now, stale_after):
        return Outcome.ALREADY
    try:
        delivery = send()
    except (SlackClientError, OSError) as error:
        reason = error.response.get("error") if isinstance(error, SlackApiError) else type(error).__name__
        logger.warning("scheduled message %s not sent (%s); a later sweep retries it", key.split(":", 1)[0], reason)
        release(sessions, key)
        return Outcome.FAILED
    except Exception:
        release(sessions, key)
        raise
    mark_sent(sessions, key, now, delivery)
    return Outcome.SENT
