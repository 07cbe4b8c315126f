"""*No recent check-in* (SPEC §5): which active cases have gone silent, and the
one open flag per silent case that the daily scan keeps.

A case's cadence (every 2 weeks, monthly) lengthens its silence by the weeks between
its sessions. Days the case's therapist was away (`away_periods`) do not count as silence.
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
from bot.domain.wording import plural
from bot.domain.rules import NOTICE, WARNING, Rule, is_silent
from bot.domain.schedule import days_between
from bot.domain.thresholds import Thresholds
from bot.store.models import AwayPeriod, Case, Flag
from bot.usecases.flags import AUTO_RESOLUTION, OPEN, RESOLVED

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
                                days=days_between(start, now), never_logged=last_checkin_at is None))
    return sorted(found, key=lambda s: (-s.days, s.code))


@dataclass(frozen=True)
class SilenceSweep:
    for_reminder: tuple[SilentCase, ...]  # silent `silent_days` or more
    for_digest: tuple[SilentCase, ...]  # silent `silent_digest_days` or more
    opened: int
    closed: int


def _evidence(case: SilentCase) -> list[str]:
    if case.never_logged:
        return [f"no check-in since the case was created {plural(case.days, 'day')} ago"]
    return [f"no check-in for {plural(case.days, 'day')}"]


def sync_silence_flags(session: Session, now: datetime, limits: Thresholds,
                       zone_for: Callable[[str], ZoneInfo]) -> SilenceSweep:
    """Keep one open *No recent check-in* flag per silent active case: opened at
    `silent_days` (its route is the weekly reminder, so nothing is posted), raised
    to the supervision route at `silent_digest_days`, and resolved once the case
    has a check-in again or is no longer active. Other rules' flags are untouched."""
    for_reminder = silent_cases(session, now, limits.silent_days, zone_for)
    for_digest = silent_cases(session, now, limits.silent_digest_days, zone_for,
                              case_ids=[s.case_id for s in for_reminder])
    to_digest = {s.case_id for s in for_digest}
    waiting = {flag.case_id: flag for flag in session.scalars(
        select(Flag).where(Flag.rule == SILENCE_RULE, Flag.open_slot.is_not(None)))}
    opened = 0
    for case in for_reminder:
        serious = case.case_id in to_digest
        flag = waiting.pop(case.case_id, None)
        if flag is None:
            flag = Flag(case_id=case.case_id, rule=SILENCE_RULE, status=OPEN, open_slot=1, quiet_checkins=0,
                        opened_at=now, reply_count=0, participants=[])
            session.add(flag)
            opened += 1
        flag.route = "supervision" if serious else "dm"
        flag.severity = WARNING if serious else NOTICE
        flag.evidence = _evidence(case)
        flag.updated_at = now
    for flag in waiting.values():  # logged again, paused or closed
        flag.status, flag.open_slot, flag.resolution = RESOLVED, None, AUTO_RESOLUTION
        flag.resolved_at = flag.updated_at = now
    session.flush()
    return SilenceSweep(for_reminder=tuple(for_reminder), for_digest=tuple(for_digest), opened=opened,
                        closed=len(waiting))
