"""One function per stall rule (SPEC §5): what fires for the newest check-in of
a case, at which raw tier. Persistence, session awareness and merging are the
pipeline's (`bot.domain.rules.evaluate`); absent threads never reach a check."""

from __future__ import annotations

import statistics
from dataclasses import replace
from collections import Counter
from typing import Sequence

from bot.domain.cases import COLLECTIVE, UNIT
from bot.domain.checkins import CheckinRecord, RuptureKind, TherapistFlag
from bot.domain.rule_types import (
    ARROW,
    EVIDENCE_LENGTH,

    SERIOUS,
    WARNING,
    NOTICE,
    CaseView,
    Rule,
    RuleHit,
    Severity,
    median,
)
from bot.domain.thresholds import format_number

STUCK_FLAGS = (TherapistFlag.SIDES, TherapistFlag.STUCK)
TENSION_FLAGS = (TherapistFlag.TENSION, TherapistFlag.RESISTANCE)


# Issue 16: a member's own answer to "how safe did it feel to speak openly" (of 10)
# at or below this counts as a weak couple alliance.
SAFETY_LOW = 4
STALL_CEILING = 1.0
STALL_HOLDS = 3


def _hit(rule: Rule, severity: Severity, evidence: Sequence[str], threads: Sequence[str]) -> RuleHit:
    return RuleHit(rule, severity, tuple(evidence), tuple(threads))


def _level(case: CaseView, value: int) -> Severity:
    return SERIOUS if value <= case.limits.serious_level else WARNING


def low_alliance(case: CaseView) -> RuleHit | None:
    """A member's thread below the cut-off; serious at 3 or below. Members only:
    unit and collective belong to Weak couple alliance."""
    cut = case.cut(case.limits.low_alliance)
    ratings = case.member_ratings(case.newest)
    low = sorted((m for m in ratings if ratings[m] < cut), key=lambda m: (ratings[m], m))
    if not low:
        return None
    severity = max(_level(case, ratings[m]) for m in low)
    return _hit(Rule.LOW_ALLIANCE, severity, [case.trail(m) for m in low], low)


def split_alliance(case: CaseView) -> RuleHit | None:
    """Present members differ by ≥ split_gap: a notice at exactly split_gap, a
    warning beyond it, one tier up when it widens (holding is the pipeline's
    persistence)."""
    limit = case.limits.split_gap
    gap = case.split_gap(case.newest)
    if gap is None or gap < limit:
        return None
    gaps = [g for g in (case.split_gap(r) for r in case.history) if g is not None]
    widened = len(gaps) >= 2 and gaps[-2] >= limit and gap > gaps[-2]
    ratings = case.member_ratings(case.newest)
    low = min(ratings.values())
    high = max(ratings.values())
    lows = sorted(m for m in ratings if ratings[m] == low)
    highs = sorted(m for m in ratings if ratings[m] == high)
    evidence = [f"{'/'.join(highs)} {high} vs {'/'.join(lows)} {low} (gap {gap})"]
    if len(gaps) >= 2:
        evidence.append("gap " + ARROW.join(str(g) for g in gaps[-EVIDENCE_LENGTH:]))
    if widened:
        evidence.append("the gap widened")
    tier = WARNING if gap > limit else NOTICE  # a gap of exactly split_gap is within two ratings' noise
    return _hit(Rule.SPLIT_ALLIANCE, tier.raised() if widened else tier, evidence, lows + highs)


def _spread(earlier: Sequence[int], floor: float) -> float:
    """A thread's noise: the SD of its last six earlier ratings, at least `floor`
    (asked only of a fall clear enough to matter: the exact SD is slow to work out)."""
    return max(statistics.pstdev(earlier[-6:]) if len(earlier) >= 2 else 0.0, floor)


def _fall(case: CaseView, thread: str) -> tuple[Severity, str] | None:
    """A thread's newest rating clearly below its recent level (the median of its
    drop_baseline earlier ratings: ≥ drop_points, or ≥ drop_points_low landing at
    drop_level or below) and beyond drop_sd × its SD (floored). A warning when it
    is ≥ drop_points and lands at drop_level or below; otherwise a notice (a dip
    that stays in the healthy zone, or within one more point of the noise);
    serious from drop_serious or at serious_level. A slow slide
    (still falling two check-ins running, drop_points below its recent best,
    landing in the zone) is a notice; persistence raises either a tier."""
    limits = case.limits
    series = case.series(thread)
    if len(series) < 3:  # a level needs at least two earlier ratings
        return None
    now, earlier = series[-1], series[:-1]
    base = earlier[-max(limits.drop_baseline, 1):]
    level = median(base)
    fall = level - now
    landing = case.cut(limits.drop_level)
    clear = fall >= limits.drop_points or (fall >= limits.drop_points_low and now <= landing)
    if clear and fall > limits.drop_sd * _spread(earlier, limits.sd_floor):
        serious = fall >= limits.drop_serious or now <= limits.serious_level
        tier = SERIOUS if serious else WARNING if now <= landing and fall >= limits.drop_points else NOTICE
        return tier, f"{case.trail(thread)} (its level {format_number(level)})"
    # A slow slide: still falling, two checks running, ≥ drop_points below its recent best, in the zone.
    recent = series[-4:]
    best = max(earlier[-4:])
    sliding = len(recent) >= 3 and recent[-1] < recent[-2] <= recent[-3]
    if sliding and best - now >= limits.drop_points and now <= landing:
        return NOTICE, f"{case.trail(thread)} (sliding from {best})"
    return None


def alliance_drop(case: CaseView) -> RuleHit | None:
    found = [(t, f) for t in case.threads if (f := _fall(case, t)) is not None]
    if not found:
        return None
    severity = max(f[0] for _, f in found)
    return _hit(Rule.ALLIANCE_DROP, severity, [f[1] for _, f in found], [t for t, _ in found])


def weak_couple_alliance(case: CaseView) -> RuleHit | None:
    """`unit` or `collective` at or below the cut, or (issue 16) a member's own answer
    to "how safe did it feel to speak openly" at or below SAFETY_LOW of 10."""
    cut = case.cut(case.limits.weak_unit)
    weak = [t for t in (UNIT, COLLECTIVE) if case.newest.ratings.get(t) is not None and case.newest.ratings[t] <= cut]
    safety = case.newest.client_safety
    unsafe = [m for m in case.members if m in safety and safety[m] <= SAFETY_LOW] if len(case.members) >= 2 else []
    if not weak and not unsafe:
        return None
    severities = [_level(case, case.newest.ratings[t]) for t in weak] + [WARNING for _ in unsafe]
    evidence = [case.trail(t) for t in weak] + [f"client-rated safety to speak openly {m} {safety[m]}/10" for m in unsafe]
    return _hit(Rule.WEAK_COUPLE_ALLIANCE, max(severities), evidence, weak + unsafe)


def _mean(record: CheckinRecord) -> float | None:
    return record.mean() if record.ratings else None


def _stalled_means(history: Sequence[CheckinRecord], case: CaseView) -> list[float] | None:
    """The window's case means when the window is flat below the cut: its mean and
    its last two check-ins' below the cut, no rise of stalled_rise (second half
    against first), and no check-in at the cut + STALL_CEILING or above."""
    size = case.limits.stalled_window
    if size < 2 or len(history) < size:
        return None
    means = [m for m in (_mean(r) for r in history[-size:]) if m is not None]
    if len(means) < size:
        return None
    half = size // 2
    rise = statistics.fmean(means[-half:]) - statistics.fmean(means[:half])
    cut = case.cut(case.limits.stalled_mean)
    if statistics.fmean(means) >= cut or statistics.fmean(means[-2:]) >= cut or rise >= case.limits.stalled_rise:
        return None
    if max(means) >= cut + STALL_CEILING:  # a session at a good level in the window: not flat
        return None
    return means


def stalled(case: CaseView) -> RuleHit | None:
    """Over the window the case mean stays below the cut-off without rising
    (individual cases too). Serious (SPEC §5: for supervision) once it holds;
    until then a notice: one window of four noisy
    ratings just under the cut is what an on-track case near it looks like.
    Serious once the window has been flat at STALL_HOLDS check-ins running."""
    means = _stalled_means(case.history, case)
    if means is None:
        return None
    size = case.limits.stalled_window
    overall = statistics.fmean(means)
    evidence = ["case mean " + ARROW.join(format_number(round(m, 1)) for m in means),
                f"{format_number(round(overall, 1))} over the last {size} check-ins"]
    held = all(_stalled_means(case.history[:end], case) is not None
               for end in range(len(case.history) - 1, len(case.history) - STALL_HOLDS, -1))
    if held:
        evidence.append(f"flat at {STALL_HOLDS} check-ins running")
    return _hit(Rule.STALLED, SERIOUS if held else NOTICE, evidence, case.threads)


def repeated_rupture(case: CaseView) -> RuleHit | None:
    limits = case.limits
    window = list(case.history[-limits.rupture_window:]) if limits.rupture_window > 0 else []
    ruptured = [r for r in window if r.rupture.kind is not RuptureKind.NONE]
    clashes = [r for r in ruptured if r.rupture.kind is RuptureKind.CONFRONTATION]
    withdrawals = Counter(m for r in ruptured if r.rupture.kind is RuptureKind.WITHDRAWAL
                          for m in dict.fromkeys(r.rupture.members))
    withdrawing = sorted(m for m, n in withdrawals.items() if n >= limits.withdrawal_count)
    confronting = bool(clashes) and len(clashes) >= limits.rupture_count
    many = len(ruptured) >= limits.rupture_any_count
    if not (confronting or withdrawing or many):
        return None
    evidence = []
    if confronting:
        evidence.append(f"confrontation in {len(clashes)} of the last {len(window)} check-ins "
                        f"(sessions {', '.join(str(r.session_number) for r in clashes)})")
    for member in withdrawing:
        sessions = [r.session_number for r in ruptured
                    if r.rupture.kind is RuptureKind.WITHDRAWAL and member in r.rupture.members]
        evidence.append(f"{member} withdrew in {len(sessions)} of the last {len(window)} check-ins "
                        f"(sessions {', '.join(map(str, sessions))})")
    if many and not confronting and not withdrawing:
        evidence.append(f"ruptures in {len(ruptured)} of the last {len(window)} check-ins")
    involved = list(dict.fromkeys(withdrawing + [m for r in ruptured for m in r.rupture.members]))
    return _hit(Rule.REPEATED_RUPTURE, SERIOUS if confronting else WARNING, evidence, involved)


def therapist_stuck(case: CaseView) -> RuleHit | None:
    """Ticked once: a notice (the therapist said it themselves; it waits for the weekly
    summary with its questions). Ticked in persist_count of the last persist_window
    check-ins: serious, for supervision."""
    ticked = [f for f in STUCK_FLAGS if f in case.newest.flags]
    if not ticked:
        return None
    window = case.history[-max(case.limits.persist_window, 1):]
    sessions = [r.session_number for r in window if any(f in r.flags for f in STUCK_FLAGS)]
    evidence = [f.description for f in ticked]
    if len(sessions) >= case.limits.persist_count and len(sessions) >= 2:
        evidence.append(f"ticked in {len(sessions)} of the last {len(window)} check-ins "
                        f"(sessions {', '.join(map(str, sessions))})")
        return _hit(Rule.THERAPIST_STUCK, SERIOUS, evidence, [])
    return _hit(Rule.THERAPIST_STUCK, NOTICE, evidence, [])


def recurring_tension(case: CaseView) -> RuleHit | None:
    limits = case.limits
    window = list(case.history[-limits.tension_window:]) if limits.tension_window > 0 else []
    tense = [r for r in window if any(f in r.flags for f in TENSION_FLAGS)]
    if not tense or len(tense) < limits.tension_count or not any(f in case.newest.flags for f in TENSION_FLAGS):
        return None
    names = sorted({f.description.lower() for r in tense for f in TENSION_FLAGS if f in r.flags})
    evidence = [f"{' / '.join(names)} ticked in {len(tense)} of the last {len(window)} check-ins "
                f"(sessions {', '.join(str(r.session_number) for r in tense)})"]
    return _hit(Rule.RECURRING_TENSION, WARNING, evidence, [])


def _client_scored(case: CaseView) -> list[str]:
    scores = case.newest.client_scores
    return [m for m in case.members if m in scores] + sorted(m for m in scores if m not in case.members)


def client_rated_low(case: CaseView) -> RuleHit | None:
    scores = case.newest.client_scores
    low = [m for m in _client_scored(case) if scores[m] < case.limits.client_cutoff]
    if not low:
        return None
    return _hit(Rule.CLIENT_RATED_LOW, NOTICE, [f"client-rated {m} {scores[m]}/40" for m in low], low)


def _optimism_gaps(case: CaseView) -> tuple[list[str], list[str]]:
    """The members whose client total fell ≥ optimism_fall below its own recent
    median (of up to three earlier totals, at least two) while the therapist's
    rating of them holds (not below its own median at those check-ins); and the evidence."""
    earlier = case.history[:-1]
    over: list[str] = []
    evidence: list[str] = []
    for member in _client_scored(case):
        now_total, now_rating = case.newest.client_scores[member], case.newest.ratings.get(member)
        before = [r for r in earlier if member in r.client_scores][-3:]
        if now_rating is None or len(before) < 2:
            continue
        total_level = median([r.client_scores[member] for r in before])
        rated = [r.ratings[member] for r in before if member in r.ratings]
        if not rated or total_level - now_total < case.limits.optimism_fall:
            continue
        if now_rating < median(rated):
            continue
        over.append(member)
        evidence.append(f"client-rated {member} {format_number(total_level)} → {now_total}/40 "
                        f"while you rate {member} {now_rating}")
    return over, evidence


def optimism_gap(case: CaseView) -> RuleHit | None:
    """A member's client total falls clearly while the therapist's rating holds
    (`_optimism_gaps`). Once, a notice (one client total is noisy too); when the
    previous check-in with client totals showed it as well, a warning."""
    over, evidence = _optimism_gaps(case)
    if not over:
        return None
    with_totals = [i for i, r in enumerate(case.history[:-1]) if r.client_scores]
    held = bool(with_totals) and bool(_optimism_gaps(replace(case, history=case.history[:with_totals[-1] + 1]))[0])
    return _hit(Rule.OPTIMISM_GAP, WARNING if held else NOTICE, evidence, over)
