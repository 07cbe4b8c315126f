"""What the stall rules read and return: the rule names, tiers, hits, and one
case's history as the rules see it (absent threads left out)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Sequence

from bot.domain.cases import thread_names
from bot.domain.checkins import CheckinRecord
from bot.domain.thresholds import Thresholds

ARROW = " → "
EVIDENCE_LENGTH = 3  # how many of a thread's latest ratings evidence shows


class Rule(StrEnum):
    LOW_ALLIANCE = "low_alliance"
    SPLIT_ALLIANCE = "split_alliance"
    ALLIANCE_DROP = "alliance_drop"
    WEAK_COUPLE_ALLIANCE = "weak_couple_alliance"
    STALLED = "stalled"
    REPEATED_RUPTURE = "repeated_rupture"
    THERAPIST_STUCK = "therapist_stuck"
    RECURRING_TENSION = "recurring_tension"
    CLIENT_RATED_LOW = "client_rated_low"
    OPTIMISM_GAP = "optimism_gap"
    NO_RECENT_CHECKIN = "no_recent_checkin"

    @property
    def title(self) -> str:  # type: ignore[override]  # str.title, shadowed on purpose
        """The rule's name as SPEC §5 spells it; messages use it verbatim."""
        return TITLES[self.value]


# SPEC §5's names, verbatim (the registry's entries show them as `RuleEntry.title`).
TITLES: dict[str, str] = {
    "low_alliance": "Low alliance",
    "split_alliance": "Split alliance",
    "alliance_drop": "Alliance drop",
    "weak_couple_alliance": "Weak couple alliance",
    "stalled": "Stalled",
    "repeated_rupture": "Repeated rupture",
    "therapist_stuck": "Therapist stuck",
    "recurring_tension": "Recurring tension",
    "client_rated_low": "Client-rated low",
    "optimism_gap": "Optimism gap",
    "no_recent_checkin": "No recent check-in",
}


class Severity(IntEnum):
    """A hit's tier (SPEC §5): notice never interrupts, warning goes to the
    therapist's DM, serious to the supervision channel."""

    NOTICE = 1
    WARNING = 2
    SERIOUS = 3

    def raised(self) -> Severity:
        return Severity(min(self + 1, Severity.SERIOUS))


NOTICE, WARNING, SERIOUS = Severity.NOTICE, Severity.WARNING, Severity.SERIOUS


class Route(StrEnum):
    """Where a flag's warning goes. SUMMARY is never posted: it waits for the
    therapist's weekly summary."""

    SUMMARY = "summary"
    DM = "dm"
    SUPERVISION = "supervision"

    @property
    def interrupts(self) -> bool:
        return self is not Route.SUMMARY

    @property
    def rank(self) -> int:
        return list(Route).index(self)


def route_for(severity: int) -> Route:
    return Route.SUPERVISION if severity >= SERIOUS else Route.DM if severity >= WARNING else Route.SUMMARY


@dataclass(frozen=True)
class RuleHit:
    rule: Rule
    severity: Severity
    evidence: tuple[str, ...]  # short lines: "B 8 → 8 → 4", "A 9 vs B 5 (gap 4)"
    threads: tuple[str, ...]  # the threads or members the rule is about, the most involved first
    also: tuple[Rule, ...] = ()  # other rules that fired on the same evidence

    @property
    def route(self) -> Route:
        return route_for(self.severity)


@dataclass(frozen=True)
class CaseView:
    """One case's history as the rules read it; the newest check-in is last.
    `offset` is the rater calibration added to every level cut-off."""

    history: Sequence[CheckinRecord]
    members: tuple[str, ...]
    limits: Thresholds
    offset: float = 0.0

    @property
    def newest(self) -> CheckinRecord:
        return self.history[-1]

    @property
    def previous(self) -> CheckinRecord | None:
        return self.history[-2] if len(self.history) >= 2 else None

    @property
    def threads(self) -> list[str]:
        """The newest check-in's rated threads: members, unit, collective, then any other."""
        known = [t for t in thread_names(self.members) if t in self.newest.ratings]
        return known + [t for t in self.newest.ratings if t not in known]

    @property
    def present_members(self) -> list[str]:
        return [m for m in self.members if m in self.newest.ratings]

    def cut(self, level: float) -> float:
        """A level cut-off moved by the rater calibration."""
        return level + self.offset

    def series(self, thread: str, records: Sequence[CheckinRecord] | None = None) -> list[int]:
        """The thread's ratings, absent sessions skipped."""
        return [r.ratings[thread] for r in (self.history if records is None else records) if thread in r.ratings]

    def trail(self, thread: str) -> str:
        """`B 8 → 8 → 4`: the thread's latest ratings (absent sessions skipped)."""
        return f"{thread} " + ARROW.join(str(v) for v in self.series(thread)[-EVIDENCE_LENGTH:])

    def member_ratings(self, record: CheckinRecord) -> dict[str, int]:
        return {m: record.ratings[m] for m in self.members if m in record.ratings}

    def split_gap(self, record: CheckinRecord) -> int | None:
        """The spread of the present members' ratings, or None with fewer than two."""
        ratings = self.member_ratings(record)
        return max(ratings.values()) - min(ratings.values()) if len(ratings) >= 2 else None


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))
