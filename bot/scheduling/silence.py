"""*No recent check-in* (SPEC §5): which active cases have gone silent.

Days the case's therapist was away (`away_periods`) do not count as silence.
The query only reads cases silent for at least `days` by the calendar; the
away-adjusted test (`rules.is_silent`) then runs on those few.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable, Iterable

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from zoneinfo import ZoneInfo

from bot.domain.rules import is_silent
from bot.domain.schedule import days_between
from bot.models import AwayPeriod, Case


@dataclass(frozen=True)
class SilentCase:
    case_id: int
    code: str
    kind: str
    owner_id: str
    days: int  # calendar days since the last check-in (or since the case was created)
    never_logged: bool


def away_ranges(session: Session, therapist_ids: Iterable[str]) -> dict[str, list[tuple[date, date]]]:
    ids = sorted(set(therapist_ids))
    ranges: dict[str, list[tuple[date, date]]] = defaultdict(list)
    if not ids:
        return ranges
    for row in session.scalars(select(AwayPeriod).where(AwayPeriod.therapist_id.in_(ids))):
        ranges[row.therapist_id].append((row.starts_on, row.ends_on))
    return ranges


def silent_cases(session: Session, now: datetime, days: int, zone_for: Callable[[str], ZoneInfo],
                 case_ids: Iterable[int] | None = None) -> list[SilentCase]:
    """Active cases silent for `days` or more at `now`, longest silence first.
    `zone_for(owner_id)` gives the therapist's zone, in which away days are read."""
    cutoff = now - timedelta(days=days)
    query = select(Case).where(
        Case.status == "active",
        or_(Case.last_checkin_at < cutoff, and_(Case.last_checkin_at.is_(None), Case.created_at < cutoff)),
    )
    if case_ids is not None:
        query = query.where(Case.id.in_(list(case_ids)))
    candidates = list(session.scalars(query))
    away = away_ranges(session, (c.owner_id for c in candidates))
    found = []
    for case in candidates:
        local_now = now.astimezone(zone_for(case.owner_id))
        if not is_silent(case.last_checkin_at, case.created_at, local_now, days, away.get(case.owner_id, ())):
            continue
        start = max(case.created_at, case.last_checkin_at) if case.last_checkin_at else case.created_at
        found.append(SilentCase(case_id=case.id, code=case.code, kind=case.kind, owner_id=case.owner_id,
                                days=days_between(start, now), never_logged=case.last_checkin_at is None))
    return sorted(found, key=lambda s: (-s.days, s.code))
