"""Check-ins as the rules see them: plain values, no storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Iterable, Mapping

RATING_MIN, RATING_MAX = 0, 10
CLIENT_MIN, CLIENT_MAX = 0, 40
NOTE_MAX_LENGTH = 1000


class RuptureKind(StrEnum):
    NONE = "none"
    WITHDRAWAL = "withdrawal"
    CONFRONTATION = "confrontation"


class TherapistFlag(StrEnum):
    TENSION = "tension"
    RESISTANCE = "resistance"
    SIDES = "sides"
    STUCK = "stuck"

    @property
    def description(self) -> str:
        return {
            "tension": "Tension with a client",
            "resistance": "Resistance to the approach",
            "sides": "Felt pulled to take sides",
            "stuck": "Felt stuck",
        }[self.value]


@dataclass(frozen=True)
class Rupture:
    kind: RuptureKind = RuptureKind.NONE
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckinRecord:
    """One session's check-in. `ratings` maps thread name to 0-10 for the threads
    rated; `absent` names the threads recorded as absent (`-`: the member missed
    the session), which no rule reads. `client_scores` maps member label to the
    client-reported 0-40 total, when collected."""

    session_number: int
    ratings: Mapping[str, int]
    recorded_at: datetime
    client_scores: Mapping[str, int] = field(default_factory=dict)
    rupture: Rupture = Rupture()
    flags: frozenset[TherapistFlag] = frozenset()
    session_date: date | None = None
    # Each member's own 0-10 answer to how safe it felt to speak openly (issue 16).
    client_safety: Mapping[str, int] = field(default_factory=dict)
    absent: frozenset[str] = frozenset()

    def mean(self) -> float:
        return sum(self.ratings.values()) / len(self.ratings)

    def rating(self, thread: str) -> int | None:
        """The thread's rating, or None when it was absent or not rated."""
        return self.ratings.get(thread)


def session_order(records: Iterable[CheckinRecord]) -> list[CheckinRecord]:
    """Check-ins in session order (session number, then date, then when typed):
    the order every rule, sparkline and thread reply reads a case's history in."""
    return sorted(records, key=lambda r: (r.session_number, r.session_date or date.min, r.recorded_at))


class Attendance(StrEnum):
    """Whether a session happened (issue 14): a missed one is stored without ratings."""

    ATTENDED = "attended"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        return self.value.replace("_", "-")


def no_shows_in_a_row(attendance_newest_first: Iterable[str], run: int = 2) -> bool:
    """Whether the newest `run` sessions were all no-shows."""
    newest = list(attendance_newest_first)[:run]
    return len(newest) == run and all(a == Attendance.NO_SHOW.value for a in newest)
