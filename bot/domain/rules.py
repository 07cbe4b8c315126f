"""The stall rules of SPEC §5: which fire for a case's newest check-in, and where
each warning goes. Only that case's history is looked at; `now` is passed in."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Callable, Sequence

from bot.domain.cases import COLLECTIVE, UNIT, thread_names
from bot.domain.checkins import CheckinRecord, RuptureKind, TherapistFlag
from bot.domain.thresholds import Thresholds, format_number

ARROW = " → "
EVIDENCE_LENGTH = 3  # how many of a thread's latest ratings evidence shows
STUCK_FLAGS = (TherapistFlag.SIDES, TherapistFlag.STUCK)
NOTICE, WARNING, SERIOUS = 1, 2, 3
# Issue 16, until the rules rewrite makes them thresholds: a member's own answer to
# "how safe did it feel to speak openly" at or below SAFETY_LOW (of 10) counts as a
# weak couple alliance; a client total falling TREND_FALL or more below the median of
# its own TREND_WINDOW earlier totals while the therapist's rating holds is an
# optimism gap.
SAFETY_LOW = 4
TREND_FALL = 5
TREND_WINDOW = 3


class Rule(StrEnum):
    LOW_ALLIANCE = "low_alliance"
    SPLIT_ALLIANCE = "split_alliance"
    ALLIANCE_DROP = "alliance_drop"
    WEAK_COUPLE_ALLIANCE = "weak_couple_alliance"
    STALLED = "stalled"
    REPEATED_RUPTURE = "repeated_rupture"
    THERAPIST_STUCK = "therapist_stuck"
    CLIENT_RATED_LOW = "client_rated_low"
    OPTIMISM_GAP = "optimism_gap"
    NO_RECENT_CHECKIN = "no_recent_checkin"

    @property
    def title(self) -> str:  # type: ignore[override]  # str.title, shadowed on purpose
        """The rule's name as SPEC §5 spells it; messages use it verbatim."""
        return {
            "low_alliance": "Low alliance",
            "split_alliance": "Split alliance",
            "alliance_drop": "Alliance drop",
            "weak_couple_alliance": "Weak couple alliance",
            "stalled": "Stalled",
            "repeated_rupture": "Repeated rupture",
            "therapist_stuck": "Therapist stuck",
            "client_rated_low": "Client-rated low",
            "optimism_gap": "Optimism gap",
            "no_recent_checkin": "No recent check-in",
        }[self.value]


class Route(StrEnum):
    DM = "dm"
    SUPERVISION = "supervision"


@dataclass(frozen=True)
class RuleHit:
    rule: Rule
    route: Route
    evidence: tuple[str, ...]  # short lines: "B 8 → 8 → 4", "A 9 vs B 5 (gap 4)"
    threads: tuple[str, ...]  # the threads or members involved
    severity: int  # NOTICE, WARNING or SERIOUS; supervision hits are at least WARNING


@dataclass(frozen=True)
class _Case:
    """One case's history as the rules read it; the newest check-in is last."""

    history: Sequence[CheckinRecord]
    members: tuple[str, ...]
    limits: Thresholds

    @property
    def newest(self) -> CheckinRecord:
        return self.history[-1]

    @property
    def previous(self) -> CheckinRecord | None:
        return self.history[-2] if len(self.history) >= 2 else None

    @property
    def threads(self) -> list[str]:
        """The newest check-in's threads: members, unit, collective, then any other."""
        known = [t for t in thread_names(self.members) if t in self.newest.ratings]
        return known + [t for t in self.newest.ratings if t not in known]

    def series(self, thread: str) -> list[int]:
        return [r.ratings[thread] for r in self.history if thread in r.ratings]

    def trail(self, thread: str) -> str:
        """`B 8 → 8 → 4`: the thread's latest ratings."""
        return f"{thread} " + ARROW.join(str(v) for v in self.series(thread)[-EVIDENCE_LENGTH:])

    def member_ratings(self, record: CheckinRecord) -> dict[str, int]:
        return {m: record.ratings[m] for m in self.members if m in record.ratings}

    def split_gap(self, record: CheckinRecord) -> int | None:
        """The spread of the members' ratings, or None with fewer than two members."""
        ratings = self.member_ratings(record)
        return max(ratings.values()) - min(ratings.values()) if len(ratings) >= 2 else None


def evaluate(
    history: Sequence[CheckinRecord],
    members: Sequence[str],
    thresholds: Thresholds = Thresholds(),
) -> list[RuleHit]:
    """The rules that fire for the newest (last) check-in of one case's history,
    oldest first; in Rule order, at most one hit per rule. *No recent check-in*
    is not evaluated here (see `is_silent`)."""
    if not history:
        return []
    case = _Case(history, tuple(members), thresholds)
    return [hit for check in _CHECKS if (hit := check(case)) is not None]


def _hit(rule: Rule, route: Route, evidence: Sequence[str], threads: Sequence[str],
         serious: bool = False) -> RuleHit:
    severity = SERIOUS if serious else WARNING if route is Route.SUPERVISION else NOTICE
    return RuleHit(rule, route, tuple(evidence), tuple(threads), severity)


def _low_alliance(case: _Case) -> RuleHit | None:
    low = [t for t in case.threads if case.newest.ratings[t] < case.limits.low_alliance]
    if not low:
        return None
    return _hit(Rule.LOW_ALLIANCE, Route.DM, [case.trail(t) for t in low], low)


def _split_alliance(case: _Case) -> RuleHit | None:
    limit = case.limits.split_gap
    gaps = [case.split_gap(record) for record in case.history]
    gap = gaps[-1]
    if gap is None or gap < limit:
        return None
    hold = max(case.limits.split_hold_checkins, 1)
    held = len(gaps) >= hold and all(g is not None and g >= limit for g in gaps[-hold:])
    before = gaps[-2] if len(gaps) >= 2 else None
    widened = before is not None and before >= limit and gap > before
    ratings = case.member_ratings(case.newest)
    high = max(ratings, key=lambda m: ratings[m])
    low = min(ratings, key=lambda m: ratings[m])
    evidence = [f"{high} {ratings[high]} vs {low} {ratings[low]} (gap {gap})"]
    known = [g for g in gaps if g is not None]
    if len(known) >= 2:
        evidence.append("gap " + ARROW.join(str(g) for g in known[-EVIDENCE_LENGTH:]))
    route = Route.SUPERVISION if held or widened else Route.DM
    return _hit(Rule.SPLIT_ALLIANCE, route, evidence, [high, low], serious=held and widened)


def _alliance_drop(case: _Case) -> RuleHit | None:
    limits, previous = case.limits, case.previous
    dropped: list[str] = []
    evidence: list[str] = []
    for thread in case.threads:
        now = case.newest.ratings[thread]
        before = previous.ratings.get(thread) if previous is not None else None
        fell = before is not None and before - now >= limits.drop_points
        deviation = _deviation(thread, now, case.series(thread)[:-1], limits)
        if fell or deviation:
            dropped.append(thread)
            evidence.append(case.trail(thread))
        if deviation and not fell:
            evidence.append(deviation)
    if not dropped:
        return None
    return _hit(Rule.ALLIANCE_DROP, Route.DM, evidence, dropped)


def _deviation(thread: str, now: int, earlier: Sequence[int], limits: Thresholds) -> str | None:
    """`B 4 vs its mean 7.8 (SD 0.4)` when `now` lies more than drop_sd SDs below
    the mean of the thread's earlier ratings, given enough of them; else None."""
    if len(earlier) < max(limits.drop_sd_min_checkins, 2):
        return None
    mean, sd = statistics.fmean(earlier), statistics.stdev(earlier)
    # A flat history has SD 0: only the points test can catch a fall from it.
    if sd == 0 or now >= mean - limits.drop_sd * sd:
        return None
    return f"{thread} {now} vs its mean {mean:.1f} (SD {sd:.1f})"


def _weak_couple_alliance(case: _Case) -> RuleHit | None:
    weak = [t for t in (UNIT, COLLECTIVE)
            if t in case.newest.ratings and case.newest.ratings[t] <= case.limits.weak_unit]
    safety = case.newest.client_safety
    unsafe = [m for m in case.members if m in safety and safety[m] <= SAFETY_LOW] if len(case.members) >= 2 else []
    if not weak and not unsafe:
        return None
    evidence = [case.trail(t) for t in weak] + [f"client-rated safety to speak openly {m} {safety[m]}/10"
                                                 for m in unsafe]
    return _hit(Rule.WEAK_COUPLE_ALLIANCE, Route.SUPERVISION, evidence, weak + unsafe, serious=len(weak) == 2)


def _stalled(case: _Case) -> RuleHit | None:
    size = case.limits.stalled_window
    if size < 1 or len(case.history) < size:
        return None
    means = [_case_mean(record) for record in case.history[-size:]]
    known = [m for m in means if m is not None]
    if len(known) < len(means):
        return None
    stays_low = all(m < case.limits.stalled_mean for m in known)
    if not stays_low or known[-1] - known[0] >= case.limits.stalled_rise:
        return None
    evidence = ["case mean " + ARROW.join(format_number(round(m, 1)) for m in known)]
    return _hit(Rule.STALLED, Route.SUPERVISION, evidence, case.threads)


def _repeated_rupture(case: _Case) -> RuleHit | None:
    window = case.history[-case.limits.rupture_window:] if case.limits.rupture_window > 0 else []
    clashes = [r for r in window if r.rupture.kind is RuptureKind.CONFRONTATION]
    if not clashes or len(clashes) < case.limits.rupture_count:
        return None
    sessions = ", ".join(str(r.session_number) for r in clashes)
    evidence = [f"confrontation in {len(clashes)} of the last {len(window)} check-ins "
                f"(sessions {sessions})"]
    involved = list(dict.fromkeys(m for r in clashes for m in r.rupture.members))
    if involved:
        evidence.append("with " + ", ".join(involved))
    return _hit(Rule.REPEATED_RUPTURE, Route.SUPERVISION, evidence, involved)


def _therapist_stuck(case: _Case) -> RuleHit | None:
    ticked = [f for f in STUCK_FLAGS if f in case.newest.flags]
    if not ticked:
        return None
    previous = case.previous
    twice = previous is not None and any(f in previous.flags for f in STUCK_FLAGS)
    evidence = [f.description for f in ticked]
    if previous is not None and twice:
        evidence.append(f"also ticked at the previous check-in (session {previous.session_number})")
    return _hit(Rule.THERAPIST_STUCK, Route.SUPERVISION if twice else Route.DM, evidence, [])


def _client_scored(case: _Case) -> list[str]:
    """Members with a client-reported total on the newest check-in, in member order."""
    scores = case.newest.client_scores
    return [m for m in case.members if m in scores] + [m for m in scores if m not in case.members]


def _client_rated_low(case: _Case) -> RuleHit | None:
    scores = case.newest.client_scores
    low = [m for m in _client_scored(case) if scores[m] < case.limits.client_cutoff]
    if not low:
        return None
    evidence = [f"client-rated {m} {scores[m]}/40" for m in low]
    return _hit(Rule.CLIENT_RATED_LOW, Route.DM, evidence, low)


def _optimism_gap(case: _Case) -> RuleHit | None:
    scores, ratings = case.newest.client_scores, case.newest.ratings
    over: list[str] = []
    evidence: list[str] = []
    for m in _client_scored(case):
        if m not in ratings:
            continue
        if ratings[m] - scores[m] / 4 >= case.limits.optimism_gap:
            over.append(m)
            evidence.append(f"{m} {ratings[m]} vs client-rated {scores[m]}/40 "
                            f"(≈ {format_number(round(scores[m] / 4, 1))}/10)")
        elif (trend := _client_trend_fall(case, m)) is not None:
            over.append(m)
            evidence.append(trend)
    if not over:
        return None
    return _hit(Rule.OPTIMISM_GAP, Route.DM, evidence, over)


def _client_trend_fall(case: _Case, member: str) -> str | None:
    """`client-rated B 37 → 36 → 29 (median 36.5) while you rated 8 → 8 → 8`: the
    member's client total fell TREND_FALL or more below the median of its own
    earlier totals (at least two, the last TREND_WINDOW) while the therapist's
    rating of them held (no lower than its median over those sessions)."""
    earlier = [r for r in case.history[:-1] if member in r.client_scores and member in r.ratings][-TREND_WINDOW:]
    if len(earlier) < 2:
        return None
    now_client, now_rating = case.newest.client_scores[member], case.newest.ratings[member]
    client_median = statistics.median(r.client_scores[member] for r in earlier)
    rating_median = statistics.median(r.ratings[member] for r in earlier)
    if client_median - now_client < TREND_FALL or now_rating < rating_median:
        return None
    clients = ARROW.join(str(r.client_scores[member]) for r in [*earlier, case.newest])
    rated = ARROW.join(str(r.ratings[member]) for r in [*earlier, case.newest])
    return (f"client-rated {member} {clients} (median before {format_number(round(client_median, 1))}) "
            f"while you rated {rated}")


def _case_mean(record: CheckinRecord) -> float | None:
    return record.mean() if record.ratings else None


_CHECKS: list[Callable[[_Case], RuleHit | None]] = [
    _low_alliance, _split_alliance, _alliance_drop, _weak_couple_alliance, _stalled,
    _repeated_rupture, _therapist_stuck, _client_rated_low, _optimism_gap,
]


def is_silent(
    last_checkin_at: datetime | None,
    created_at: datetime,
    now: datetime,
    days: int,
    away_ranges: Sequence[tuple[date, date]] = (),
) -> bool:
    """Whether an active case has gone `days` days without a check-in at `now`,
    counted from the later of its last check-in and its creation. Days the
    therapist was away (each range's first to last day inclusive, in `now`'s
    time zone) do not count as silence. All datetimes must be aware."""
    if now.tzinfo is None or created_at.tzinfo is None or (
        last_checkin_at is not None and last_checkin_at.tzinfo is None
    ):
        raise ValueError("is_silent needs timezone-aware datetimes")
    start = max(created_at, last_checkin_at) if last_checkin_at is not None else created_at
    if now <= start:
        return False
    away = _overlap(start, now, [_as_interval(first, last, now) for first, last in away_ranges])
    return now - start - away >= timedelta(days=days)


def _as_interval(first: date, last: date, now: datetime) -> tuple[datetime, datetime]:
    zone = now.tzinfo
    return (datetime.combine(first, time(), zone),
            datetime.combine(last + timedelta(days=1), time(), zone))


def _overlap(start: datetime, end: datetime,
             intervals: Sequence[tuple[datetime, datetime]]) -> timedelta:
    """How much of [start, end] the intervals cover, overlaps counted once."""
    total, covered_to = timedelta(), start
    for low, high in sorted(intervals):
        low, high = max(low, covered_to), min(high, end)
        if high > low:
            total += high - low
            covered_to = high
    return total
