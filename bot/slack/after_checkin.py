"""What a newly stored check-in queues, in the transaction that stores it: its
stall rules' warnings (bot/slack/warning_outbox.py) and, with ALLIANCE_PUBLIC_URL,
the therapist's client rating links (bot/slack/rating_links.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.slack.rating_links import queue_rating_links
from bot.slack.services import Services
from bot.slack.warning_outbox import evaluate_checkin
from bot.usecases.checkins import RecordedCheckin


def queue_after_checkin(session: Session, services: Services, user_id: str, recorded: RecordedCheckin,
                        now: datetime) -> None:
    """Nothing for a repeated submission (it stored nothing new)."""
    if recorded.duplicate:
        return
    evaluate_checkin(session, services.settings, recorded.case_id, recorded.checkin_id, now)
    queue_rating_links(session, services.settings, user_id, recorded.checkin_id)
