"""Therapists: created on first use, keyed by Slack user ID."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.store.models import Therapist


def ensure_therapist(session: Session, user_id: str, now: datetime) -> Therapist:
    therapist = session.get(Therapist, user_id)
    if therapist is None:
        therapist = Therapist(user_id=user_id, created_at=now, reminders_on=True)  # reminder time: the default
        session.add(therapist)
        session.flush()
    return therapist
