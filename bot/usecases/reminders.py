"""A therapist's reminder settings: weekly time, off, away, snooze."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.errors import UserError
from bot.store.models import AwayPeriod, Therapist
from bot.usecases.therapists import ensure_therapist

MAX_AWAY = timedelta(days=366)


def set_weekly_reminder(session: Session, user_id: str, weekday: int, at: time, now: datetime) -> Therapist:
    therapist = ensure_therapist(session, user_id, now)
    therapist.remind_day = weekday
    therapist.remind_time = at.strftime("%H:%M")
    therapist.reminders_on = True
    therapist.snoozed_until = None
    return therapist


def turn_reminders_off(session: Session, user_id: str, now: datetime) -> Therapist:
    therapist = ensure_therapist(session, user_id, now)
    therapist.reminders_on = False
    therapist.snoozed_until = None
    return therapist


def go_away(session: Session, user_id: str, until: date, today: date, now: datetime) -> Therapist:
    """Away from `today` to `until` (inclusive): no reminders, and those days are
    not counted as silence. An away period that is still running is extended
    (or shortened) instead of adding another."""
    if until < today:
        raise UserError(f"{until.isoformat()} has passed. Give the last day you are away, "
                        f"e.g. `/alliance away until {(today + timedelta(days=14)).isoformat()}`.")
    if until - today > MAX_AWAY:
        raise UserError("Away can be set up to a year ahead; set it again when you know more.")
    therapist = ensure_therapist(session, user_id, now)
    therapist.away_until = until
    therapist.snoozed_until = None
    running = session.scalar(
        select(AwayPeriod).where(AwayPeriod.therapist_id == user_id, AwayPeriod.starts_on <= today,
                                 AwayPeriod.ends_on >= today - timedelta(days=1))
        .order_by(AwayPeriod.starts_on.desc()).limit(1))
    if running is not None:
        running.ends_on = until
    else:
        session.add(AwayPeriod(therapist_id=user_id, starts_on=today, ends_on=until))
    return therapist


def snooze_reminder(session: Session, user_id: str, until: datetime, now: datetime) -> Therapist:
    therapist = ensure_therapist(session, user_id, now)
    therapist.snoozed_until = until
    return therapist
