"""The stall rules of SPEC §5 as one pipeline: which fire for a case's newest
check-in and at which tier. Only that case's history is looked at; `now` is
passed in. The rules themselves are entries of `bot.domain.rule_registry`.

Pipeline: every registry check on the newest check-in (raw tiers) → persistence
(a rule marked `escalates` that also fired about the same threads in enough of
the latest check-ins moves up a tier: a raw warning in persist_count of
persist_window, a raw notice in all of them; a raw warning appearing for the
first time is a notice unless it is clearly beyond one session's noise — a
rating CLEAR_MARGIN below the cut, or a thread that fell at each of its last
SLIDE_FALLS check-ins) → session awareness (level rules in a case's first check-ins
are notices unless a rating is at `serious_level`) → one warning per piece of
evidence (hits about the same thread take the highest tier among them and
name each other)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Mapping, Sequence

from bot.domain.calibration import POSSIBLE_OFFSETS
from bot.domain.checkins import CheckinRecord
from bot.domain.rule_registry import EVALUATED, entry
from bot.domain.rule_types import (
    NOTICE,
    SERIOUS,
    WARNING,
    CaseView,
    Route,
    Rule,
    RuleHit,
    Severity,
    route_for,
)
from bot.domain.thresholds import Thresholds

__all__ = ["NOTICE", "SERIOUS", "WARNING", "Route", "Rule", "RuleHit", "Severity", "evaluate",
           "is_silent", "route_for"]


def raw_hits(case: CaseView) -> dict[Rule, RuleHit]:
    """Every evaluated rule's check on the newest check-in, before the pipeline."""
    if not case.history:
        return {}
    found = {}
    for item in EVALUATED:
        assert item.check is not None
        hit = item.check(case)
        if hit is not None:
            found[item.rule] = hit
    return found


def evaluate(
    history: Sequence[CheckinRecord],
    members: Sequence[str],
    thresholds: Thresholds = Thresholds(),
    offset: float = 0.0,
) -> list[RuleHit]:
    """The rules that fire for the newest (last) check-in of one case's history,
    in session order (oldest first); in Rule order, at most one hit per rule.
    `offset` is the rater calibration (ignored when calibration is off).
    *No recent check-in* is not evaluated here (see `is_silent`)."""
    if not history:
        return []
    offset = offset if thresholds.calibration else 0.0
    view = CaseView(history, tuple(members), thresholds, offset)
    hits = raw_hits(view)
    if not hits:
        return []
    hits = _persisting(view, hits)
    if len(history) <= thresholds.early_checkins:
        hits = {rule: _early(view, hit) for rule, hit in hits.items()}
    return _one_per_evidence([hits[rule] for rule in Rule if rule in hits])


def offset_matters(histories: Sequence[Sequence[CheckinRecord]], members: Sequence[str],
                   thresholds: Thresholds = Thresholds()) -> bool:
    """Whether the rater calibration could change what `evaluate` says of any of
    `histories`: False when every offset it can take (whole points within its cap,
    `calibration.POSSIBLE_OFFSETS`) gives the same hits, as for most check-ins, whose
    ratings sit well clear of every level cut-off. Then which offset the therapist
    has need not be worked out (it reads hundreds of check-ins)."""
    if not thresholds.calibration:
        return False
    return any(hits_differ(evaluate_at_each_offset(history, members, thresholds)) for history in histories)


def evaluate_at_each_offset(history: Sequence[CheckinRecord], members: Sequence[str],
                            thresholds: Thresholds = Thresholds()) -> dict[float, list[RuleHit]]:
    """`evaluate` at every offset the calibration can take (`calibration.POSSIBLE_OFFSETS`;
    only 0 when calibration is off)."""
    offsets = POSSIBLE_OFFSETS if thresholds.calibration else (0.0,)
    return {offset: evaluate(history, members, thresholds, offset) for offset in offsets}


def hits_differ(by_offset: Mapping[float, list[RuleHit]]) -> bool:
    """Whether the offset changes what the rules say (`evaluate_at_each_offset`'s results differ)."""
    results = list(by_offset.values())
    return any(hits != results[0] for hits in results[1:])


def _persisting(view: CaseView, hits: dict[Rule, RuleHit]) -> dict[Rule, RuleHit]:
    """Rules marked `escalates` move up a tier when they also fired in enough of
    the latest check-ins (persist_count of persist_window, this one included)."""
    limits = view.limits
    escalating = [rule for rule in hits if entry(rule).escalates]
    if not escalating:
        return hits
    earlier = [raw_hits(replace(view, history=view.history[:end]))
               for end in range(len(view.history) - 1, max(len(view.history) - limits.persist_window, 0), -1)]
    out = dict(hits)
    for rule in escalating:
        hit = hits[rule]
        times = 1 + sum(rule in found and _same_evidence(hit, found[rule]) for found in earlier)
        # A raw notice (a change within a point or two of the noise) must hold in every one of the
        # window's check-ins before it interrupts; anything stronger in persist_count of them.
        needed = limits.persist_window if hit.severity is NOTICE else limits.persist_count
        if times >= needed and len(view.history) > limits.early_checkins:
            note = f"in {times} of the last {min(limits.persist_window, len(view.history))} check-ins"
            out[rule] = replace(hit, severity=hit.severity.raised(), evidence=hit.evidence + (note,))
        elif hit.severity is WARNING and not _sliding(view, hit.threads) and not _clearly_low(view, hit):
            out[rule] = replace(hit, severity=NOTICE)  # once, and within reach of the noise: wait and see
    return out


SLIDE_FALLS = 3  # a thread falling at each of this many check-ins running is a slide, not a dip
CLEAR_MARGIN = 2  # a rating this far below the (calibrated) low-alliance cut is beyond one session's noise
CASE_WIDE = frozenset({Rule.STALLED})  # about the case as a whole: merged with no other hit


def _same_evidence(hit: RuleHit, before: RuleHit) -> bool:
    """An earlier hit of the rule is the same pattern when it named one of the same
    threads (or either names none)."""
    return not hit.threads or not before.threads or bool(set(hit.threads) & set(before.threads))


def _clearly_low(view: CaseView, hit: RuleHit) -> bool:
    """A rating the hit names sits CLEAR_MARGIN or more below the (calibrated)
    low-alliance cut: beyond what one session's noise does to a healthy rating."""
    cut = view.cut(view.limits.low_alliance) - CLEAR_MARGIN
    return any(view.newest.ratings[t] <= cut for t in hit.threads if t in view.newest.ratings)


def _sliding(view: CaseView, threads: Sequence[str]) -> bool:
    """Every rated thread the hit names fell at each of the last SLIDE_FALLS check-ins:
    a sustained slide rather than a one-session dip."""
    rated = [t for t in threads if t in view.newest.ratings]
    if not rated:
        return False
    for thread in rated:
        series = view.series(thread)
        recent = series[-(SLIDE_FALLS + 1):]
        if len(recent) < SLIDE_FALLS + 1 or any(b >= a for a, b in zip(recent, recent[1:])):
            return False
    return True


def _early(view: CaseView, hit: RuleHit) -> RuleHit:
    """In a case's first check-ins a low level is a notice unless a rating the
    rule is about is at serious_level or below: the alliance is being built."""
    if not entry(hit.rule).level:
        return hit
    ratings = [view.newest.ratings[t] for t in hit.threads if t in view.newest.ratings]
    if any(r <= view.limits.serious_level for r in ratings):
        return hit
    return replace(hit, severity=NOTICE)


def _one_per_evidence(hits: list[RuleHit]) -> list[RuleHit]:
    """Hits about the same thread are one piece of evidence: each takes the
    highest tier among them and names the others, so they travel together."""
    groups: list[set[int]] = []
    for index, hit in enumerate(hits):
        joined = {index}
        if hit.rule in CASE_WIDE:  # about the case as a whole: it names every thread, so it merges with nothing
            groups.append(joined)
            continue
        for group in [g for g in groups
                      if any(hits[i].rule not in CASE_WIDE and set(hits[i].threads) & set(hit.threads) for i in g)]:
            joined |= group
            groups.remove(group)
        groups.append(joined)
    out = list(hits)
    for group in groups:
        if len(group) < 2:
            continue
        top = max(hits[i].severity for i in group)
        for i in group:
            others = tuple(hits[j].rule for j in sorted(group) if j != i)
            out[i] = replace(hits[i], severity=top, also=others)
    return out


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
