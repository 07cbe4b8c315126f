"""Therapists: created on first use, keyed by Slack user ID."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.store.models import Therapist
from bot.store.transaction_info import transaction_key

PRESENT = transaction_key("alliance.therapists_present")  # user IDs this transaction read a therapist row for


def ensure_therapist(session: Session, user_id: str, now: datetime) -> Therapist:
    therapist = session.get(Therapist, user_id)
    if therapist is None:
        therapist = Therapist(user_id=user_id, created_at=now, reminders_on=True)  # reminder time: the default
        session.add(therapist)
        session.flush()
    return therapist


def ensure_therapist_row(session: Session, user_id: str, now: datetime) -> None:
    """That the therapist has a row (created with the defaults if not), without loading
    it when this transaction has already read it (`note_present`): most requests read
    the asker's row first (bot/slack/roles.py), and a lookup by key that misses the
    identity map is a statement more."""
    if user_id not in session.info.get(PRESENT, ()):
        ensure_therapist(session, user_id, now)


def note_present(session: Session, user_id: str) -> None:
    """This transaction read `user_id`'s therapist row (Alliance never deletes one)."""
    session.info.setdefault(PRESENT, set()).add(user_id)

