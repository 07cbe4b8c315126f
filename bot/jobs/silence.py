"""*No recent check-in* (SPEC §5): which active cases have gone silent, and the
one open flag per silent case that the daily scan keeps.

A case's cadence (every 2 weeks, monthly) lengthens its silence by the weeks between
its sessions. Days the case's therapist was away (`away_periods`) do not count as silence.
Which cases are silent is `bot.usecases.silence` (one count for the reminder,
the digest and App Home).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.wording import plural
from bot.domain.rules import NOTICE, WARNING
from bot.domain.thresholds import Thresholds
from bot.store.models import Flag
from bot.usecases.flags import AUTO_RESOLUTION, OPEN, RESOLVED
from bot.usecases.silence import CHUNK, SILENCE_RULE, SilentCase, away_ranges, silent_cases

__all__ = ["CHUNK", "SILENCE_RULE", "SilenceSweep", "SilentCase", "away_ranges", "silent_cases", "sync_silence_flags"]

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
