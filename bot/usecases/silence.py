"""*No recent check-in* (SPEC §5), counted one way everywhere (issue 13 item 9):
which active cases have gone silent, days the therapist was away excluded and a
case's cadence (every 2 weeks, monthly) lengthening its silence. The
weekly reminder (at `silent_days`), the digest and App Home's team overview (at
`silent_digest_days`) all read `silent_cases`.

The query only reads cases silent for at least `days` by the calendar; the
away-adjusted test (`rules.is_silent`) then runs on those few.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bot.domain.cadence import silence_days
from bot.domain.cases import CaseStatus
from bot.domain.rules import Rule, is_silent
from bot.domain.schedule import days_between, zone_named
from bot.settings import Settings
from bot.store.models import AwayPeriod, Case, Therapist

SILENCE_RULE = Rule.NO_RECENT_CHECKIN.value
CHUNK = 500  # ids per IN (...) list


@dataclass(frozen=True)
class SilentCase:
    case_id: int
    code: str
    kind: str
    owner_id: str
    days: int  # calendar days since the last check-in (or since the case was created)
    never_logged: bool
    last_checkin_at: datetime | None = None


def away_ranges(session: Session, therapist_ids: Iterable[str]) -> dict[str, list[tuple[date, date]]]:
    ids = sorted(set(therapist_ids))
    ranges: dict[str, list[tuple[date, date]]] = defaultdict(list)
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(select(AwayPeriod.therapist_id, AwayPeriod.starts_on, AwayPeriod.ends_on)
                               .where(AwayPeriod.therapist_id.in_(ids[start:start + CHUNK])))
        for therapist_id, starts_on, ends_on in rows:
            ranges[therapist_id].append((starts_on, ends_on))
    return ranges


def silent_cases(session: Session, now: datetime, days: int, zone_for: Callable[[str], ZoneInfo],
                 case_ids: Iterable[int] | None = None) -> list[SilentCase]:
    """Active cases silent for `days` or more at `now`, longest silence first.
    `zone_for(owner_id)` gives the therapist's zone, in which away days are read."""
    cutoff = now - timedelta(days=days)
    query = select(Case.id, Case.code, Case.kind, Case.owner_id, Case.created_at, Case.last_checkin_at,
                   Case.cadence_weeks).where(
        Case.status == CaseStatus.ACTIVE.value,
        or_(Case.last_checkin_at < cutoff, and_(Case.last_checkin_at.is_(None), Case.created_at < cutoff)),
    )
    if case_ids is not None:
        ids = sorted(set(case_ids))
        candidates = [row for start in range(0, len(ids), CHUNK)
                      for row in session.execute(query.where(Case.id.in_(ids[start:start + CHUNK])))]
    else:
        candidates = list(session.execute(query))
    away = away_ranges(session, (row.owner_id for row in candidates))
    found = []
    for case_id, code, kind, owner_id, created_at, last_checkin_at, weeks in candidates:
        local_now = now.astimezone(zone_for(owner_id))
        # A case seen every 2 weeks or monthly is silent a cadence later (issue 14).
        if not is_silent(last_checkin_at, created_at, local_now, silence_days(days, weeks or 1), away.get(owner_id, ())):
            continue
        start = max(created_at, last_checkin_at) if last_checkin_at else created_at
        found.append(SilentCase(case_id=case_id, code=code, kind=kind, owner_id=owner_id,
                                days=days_between(start, now), never_logged=last_checkin_at is None,
                                last_checkin_at=last_checkin_at))
    return sorted(found, key=lambda s: (-s.days, s.code))



def zone_lookup(session: Session, settings: Settings) -> Callable[[str], ZoneInfo]:
    """`zone_for(user_id)`: the therapist's cached Slack time zone, else the
    workspace's (ALLIANCE_TIMEZONE). All therapists' zones are read in one query."""
    rows = session.execute(select(Therapist.user_id, Therapist.tz))
    names: dict[str, str | None] = {user_id: tz for user_id, tz in rows}
    zones: dict[str | None, ZoneInfo] = {}

    def zone_for(user_id: str) -> ZoneInfo:
        name = names.get(user_id)
        if name not in zones:
            zones[name] = zone_named(name, settings.timezone)
        return zones[name]

    return zone_for
