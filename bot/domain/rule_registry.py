"""The stall-rule registry: one entry per rule (SPEC §5). Adding a rule is one
`RuleEntry` here, its check in `bot.domain.rule_checks`, and its tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from bot.domain import rule_checks as checks
from bot.domain.checkins import CheckinRecord
from bot.domain.question_themes import MISSING, RESISTANCE, RUPTURE, SPLIT, STALLED, THERAPIST, WEAK_UNIT
from bot.domain.rule_types import CaseView, Rule, RuleHit
from bot.domain.thresholds import Thresholds


def _ratings(record: CheckinRecord) -> bool:
    return bool(record.ratings)


def _client_scores(record: CheckinRecord) -> bool:
    return bool(record.client_scores)


def _any(record: CheckinRecord) -> bool:
    return True


@dataclass(frozen=True)
class RuleEntry:
    rule: Rule
    check: Callable[[CaseView], RuleHit | None] | None  # None: evaluated elsewhere (the daily scan)
    thresholds: tuple[str, ...]  # the Thresholds keys it reads
    themes: tuple[str, ...]  # reflection-question themes (SPEC §6)
    window: Callable[[Thresholds], int]  # check-ins of history it needs
    level: bool = False  # a level rule: a notice in a case's first check-ins unless serious
    escalates: bool = False  # firing in persist_count of persist_window check-ins moves it up a tier
    has_data: Callable[[CheckinRecord], bool] = _any  # a check-in without this says nothing about it

    @property
    def slug(self) -> str:
        return self.rule.value

    @property
    def title(self) -> str:
        """SPEC §5's name, verbatim in messages (kept beside the rule's slug in rule_types)."""
        return self.rule.title


LEVEL_KEYS = ("serious_level", "early_checkins", "calibration")
REGISTRY: tuple[RuleEntry, ...] = (
    RuleEntry(Rule.LOW_ALLIANCE, checks.low_alliance, ("low_alliance",) + LEVEL_KEYS,
              (SPLIT,), lambda t: 1, level=True, escalates=True, has_data=_ratings),
    RuleEntry(Rule.SPLIT_ALLIANCE, checks.split_alliance, ("split_gap", "persist_count",
              "persist_window"), (SPLIT,), lambda t: t.persist_window, escalates=True, has_data=_ratings),
    RuleEntry(Rule.ALLIANCE_DROP, checks.alliance_drop,
              ("drop_baseline", "drop_points", "drop_points_low", "drop_level", "drop_serious", "drop_sd",
               "sd_floor", "serious_level"), (RUPTURE,), lambda t: max(t.drop_baseline + 1, 7), escalates=True,
              has_data=_ratings),
    RuleEntry(Rule.WEAK_COUPLE_ALLIANCE, checks.weak_couple_alliance,
              ("weak_unit",) + LEVEL_KEYS, (WEAK_UNIT,), lambda t: t.persist_window, level=True, escalates=True,
              has_data=_ratings),
    RuleEntry(Rule.STALLED, checks.stalled, ("stalled_window", "stalled_mean", "stalled_rise",
              "calibration"), (STALLED,), lambda t: t.stalled_window, has_data=_ratings),
    RuleEntry(Rule.REPEATED_RUPTURE, checks.repeated_rupture,
              ("rupture_window", "rupture_count", "withdrawal_count", "rupture_any_count"), (RUPTURE,),
              lambda t: t.rupture_window),
    RuleEntry(Rule.THERAPIST_STUCK, checks.therapist_stuck, ("persist_count", "persist_window"),
              (THERAPIST,), lambda t: t.persist_window),
    RuleEntry(Rule.RECURRING_TENSION, checks.recurring_tension,
              ("tension_window", "tension_count"), (RESISTANCE, RUPTURE), lambda t: t.tension_window),
    RuleEntry(Rule.CLIENT_RATED_LOW, checks.client_rated_low, ("client_cutoff",),
              (SPLIT,), lambda t: t.persist_window, level=True, escalates=True, has_data=_client_scores),
    RuleEntry(Rule.OPTIMISM_GAP, checks.optimism_gap, ("optimism_fall",), (THERAPIST,),
              lambda t: 12, has_data=_client_scores),
    RuleEntry(Rule.NO_RECENT_CHECKIN, None, ("silent_days", "silent_digest_days"),
              (MISSING,), lambda t: 0),
)
_BY_RULE = {e.rule: e for e in REGISTRY}
EVALUATED: tuple[RuleEntry, ...] = tuple(e for e in REGISTRY if e.check is not None)


def entry(rule: Rule | str) -> RuleEntry:
    return _BY_RULE[Rule(rule)]


def history_needed(thresholds: Thresholds) -> int:
    """Check-ins of a case the rules read, persistence included."""
    return max(e.window(thresholds) for e in REGISTRY) + thresholds.persist_window

