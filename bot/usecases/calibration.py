"""Calibration to the rater (SPEC §5) as the bot reads it: a therapist's recent
check-ins against the team's, bounded reads only."""

from __future__ import annotations

import functools
import statistics
import threading
import time
import weakref
from typing import Any, Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bot.domain.calibration import RECENT_CHECKINS, TEAM_CHECKINS, offset_from_medians
from bot.domain.checkins import CheckinRecord
from bot.domain.rules import RuleHit, evaluate, evaluate_at_each_offset, hits_differ, offset_matters
from bot.domain.thresholds import Thresholds
from bot.store.models import Case, Checkin
from bot.store.ratings import mean_rating, median_of, recent_means, run_median
from bot.usecases.config import thresholds_in_force


@functools.cache
def _team_median_statement(dialect: str) -> Select[Any]:
    """The team's median, built once per dialect (building and keying it for the
    statement cache cost more than running it)."""
    mean = mean_rating(dialect).label("mean")
    return median_of(select(mean).select_from(Checkin).order_by(Checkin.id.desc()).limit(TEAM_CHECKINS))


def therapist_offset(session: Session, therapist_id: str, thresholds: Thresholds) -> float:
    """The therapist's calibration offset (SPEC §5): the last RECENT_CHECKINS
    check-ins they rated themselves (the rater index on check-ins: a case handed over
    to them brings no one else's habit), against the team's last TEAM_CHECKINS (primary key order; a process reuses the
    team's for TEAM_MEDIAN_SECONDS). 0 when off. The
    database computes each check-in's mean rating and the team's median (one row,
    bot/store/ratings.py); the therapist's own median is taken here from their recent
    means; the team's is not asked for while the therapist has too few check-ins to be
    calibrated."""
    if not thresholds.calibration:
        return 0.0
    dialect = session.get_bind().dialect.name
    own = recent_means(session, dialect, therapist_id, RECENT_CHECKINS)
    n = len(own)
    if n < max(thresholds.calibration_min_checkins, 1):
        return 0.0  # too few own check-ins to be calibrated, whatever the team's
    own_median = statistics.median(own)
    team_median = _TEAM_MEDIANS.get(session, _team_median_statement(dialect))
    return offset_from_medians(own_median, n, team_median, thresholds.calibration_min_checkins)


TEAM_MEDIAN_SECONDS = 60.0  # how long a process reuses the team's median


class _TeamMedians:
    """The team's median (its last TEAM_CHECKINS check-ins) per database, read again
    after TEAM_MEDIAN_SECONDS: one check-in more or less moves it by nothing that
    matters, and every therapist's calibration reads it. The therapist's own median
    is always read afresh."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_engine: weakref.WeakKeyDictionary[Any, tuple[float, float | None]] = weakref.WeakKeyDictionary()

    def get(self, session: Session, statement: Select[Any]) -> float | None:
        engine = session.get_bind()
        now = time.monotonic()
        with self._lock:
            known = self._by_engine.get(engine)
        if known is not None and now - known[0] < TEAM_MEDIAN_SECONDS:
            return known[1]
        median, _ = run_median(session, statement)
        with self._lock:
            self._by_engine[engine] = (now, median)
        return median


_TEAM_MEDIANS = _TeamMedians()


def offset_for(session: Session, therapist_id: str, thresholds: Thresholds,
               histories: Sequence[Sequence[CheckinRecord]], members: Sequence[str]) -> float:
    """The offset to evaluate `histories` with: the therapist's own where it could change
    what the rules say (`offset_matters`), else 0, which then says the same as any
    other. Working the offset out was most of a `/alliance log`'s time (BENCHMARKS.md),
    and most check-ins sit well clear of every level cut-off."""
    if not offset_matters(histories, members, thresholds):
        return 0.0
    return therapist_offset(session, therapist_id, thresholds)


def offset_and_hits(session: Session, therapist_id: str, thresholds: Thresholds,
                    history: Sequence[CheckinRecord], members: Sequence[str]) -> tuple[float, list[RuleHit]]:
    """`offset_for` one history, and what the rules say of it at that offset: each
    possible offset is evaluated once, and the one in force is among them."""
    by_offset = evaluate_at_each_offset(history, members, thresholds)
    if not hits_differ(by_offset):
        return 0.0, by_offset[0.0]
    offset = therapist_offset(session, therapist_id, thresholds)
    return offset, by_offset[offset] if offset in by_offset else evaluate(history, members, thresholds, offset)


CALIBRATION_LISTED = 200  # therapists a supervisor's `config show` lists at most


def calibration_offsets(session: Session, actor_id: str, sees_team: bool) -> dict[str, float]:
    """`config show`'s calibration lines (SPEC §5): the asking therapist's own offset,
    and for a supervisor or admin every case owner's (at most CALIBRATION_LISTED).
    Empty when calibration is off."""
    thresholds = thresholds_in_force(session)
    if not thresholds.calibration:
        return {}
    people = [actor_id]
    if sees_team:
        owners = session.scalars(select(Case.owner_id).distinct().order_by(Case.owner_id).limit(CALIBRATION_LISTED))
        people += [o for o in owners if o != actor_id]
    return {person: therapist_offset(session, person, thresholds) for person in people}
