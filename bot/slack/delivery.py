"""Send a scheduled message once: claim its key in the ledger, send, then mark it
sent or release the claim (the steps `bot.store.ledger` describes)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Callable

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.store.db import SessionFactory
from bot.store.ledger import STALE_AFTER, Delivery, claim, mark_sent, release

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    SENT = "sent"
    ALREADY = "already"  # sent before, or being sent by someone else right now
    FAILED = "failed"  # Slack refused or could not be reached; the claim was released


def send_once(sessions: SessionFactory, key: str, now: datetime, send: Callable[[], Delivery],
              stale_after: timedelta = STALE_AFTER) -> Outcome:
    """Claim `key`, call `send`, record the result. Never sends a key twice."""
    if not claim(sessions, key, now, stale_after):
        return Outcome.ALREADY
    return send_claimed(sessions, key, now, send)


def send_claimed(sessions: SessionFactory, key: str, now: datetime, send: Callable[[], Delivery]) -> Outcome:
    """Call `send` for a key this caller has claimed; mark it sent, or release it."""
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
