"""The numbers behind the stall rules (SPEC §5), their allowed ranges and basis.

Every number is configurable per workspace (`/alliance config threshold KEY VALUE`).
Values typed by a person go through `Thresholds.with_value`, which parses and
range-checks them; constructing `Thresholds(...)` in code does not validate.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal, Mapping

Basis = Literal["literature", "team default"]
LITERATURE: Basis = "literature"
TEAM_DEFAULT: Basis = "team default"

_WHOLE_NUMBER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


class ThresholdError(ValueError):
    """A typed threshold is unknown, malformed or out of range; the message is
    one line that can be shown to the person as it is."""


@dataclass(frozen=True)
class Thresholds:
    low_alliance: int = 6  # Low alliance: a member's thread rated below this
    serious_level: int = 3  # a rating at or below this is serious (and never early)
    split_gap: int = 3  # Split alliance: members differ by at least this
    persist_count: int = 2  # a pattern firing in this many ...
    persist_window: int = 3  # ... of this many latest check-ins moves up a tier
    drop_baseline: int = 3  # Alliance drop: the median of this many earlier ratings is the level
    drop_points: int = 3  # ... a fall of at least this below it
    drop_points_low: int = 2  # ... or of this much, landing at drop_level or below
    drop_level: int = 6  # ... (also where a slide must land)
    drop_serious: int = 4  # ... serious from a fall this big
    drop_sd: float = 2.0  # ... and more than this many SDs of the earlier ratings
    sd_floor: float = 0.75  # ... an SD is never taken as smaller than this
    weak_unit: int = 5  # Weak couple alliance: unit or collective at or below this
    stalled_window: int = 4  # Stalled: over this many latest check-ins
    stalled_mean: float = 7.0  # ... the window's mean rating is below this
    stalled_rise: float = 1.0  # ... and has not risen by this much
    rupture_window: int = 4  # Repeated rupture: among this many latest check-ins
    rupture_count: int = 2  # ... at least this many with a confrontation
    withdrawal_count: int = 2  # ... or the same member withdrawing this often
    rupture_any_count: int = 3  # ... or this many ruptures of any kind
    tension_window: int = 3  # Recurring tension: among this many latest check-ins
    tension_count: int = 2  # ... tension or resistance ticked this often
    client_cutoff: int = 36  # Client-rated low: a client total (of 40) below this
    optimism_fall: int = 5  # Optimism gap: a client total this far below its recent median
    early_checkins: int = 2  # a case's first this many check-ins: low levels are notices
    calibration: int = 1  # 1: level cut-offs follow each therapist's rating habit; 0: off
    calibration_min_checkins: int = 30  # ... once the therapist has this many check-ins
    silent_days: int = 14  # No recent check-in: reminder after this many days
    silent_digest_days: int = 28  # ... listed in the supervision digest after this many
    flag_close_after: int = 2  # a flag closes after this many check-ins without firing

    def with_value(self, key: str, raw: str) -> Thresholds:
        """A copy with one threshold set from what a person typed."""
        spec = threshold_spec(key)
        value: dict[str, Any] = {spec.key: spec.parse(raw)}
        changed = replace(self, **value)
        changed.check_consistency()
        return changed

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, str]) -> Thresholds:
        """The defaults with a workspace's stored overrides (key -> raw text) applied."""
        values: dict[str, Any] = {}
        for key, raw in overrides.items():
            if key.strip().lower().replace("-", "_") in RETIRED_KEYS:
                continue  # stored before the rule it tuned changed; no longer read
            spec = threshold_spec(key)
            values[spec.key] = spec.parse(raw)
        thresholds = replace(cls(), **values)
        thresholds.check_consistency()
        return thresholds

    def as_dict(self) -> dict[str, int | float]:
        return asdict(self)

    def check_consistency(self) -> None:
        """Raise ThresholdError when two thresholds contradict each other."""
        if self.rupture_count > self.rupture_window:
            raise ThresholdError(
                f"rupture_count ({self.rupture_count}) can be at most rupture_window "
                f"({self.rupture_window}), e.g. `/alliance config set rupture_count {self.rupture_window}`"
            )
        for count, window in (("rupture_any_count", "rupture_window"), ("withdrawal_count", "rupture_window"),
                              ("tension_count", "tension_window"), ("persist_count", "persist_window")):
            if getattr(self, count) > getattr(self, window):
                raise ThresholdError(f"{count} ({getattr(self, count)}) can be at most {window} "
                                     f"({getattr(self, window)}), e.g. `{count} {getattr(self, window)}`")
        if self.silent_digest_days < self.silent_days:
            raise ThresholdError(
                f"silent_digest_days ({self.silent_digest_days}) must be at least "
                f"silent_days ({self.silent_days}), e.g. `/alliance config set silent_digest_days {2 * self.silent_days}`"
            )


@dataclass(frozen=True)
class ThresholdSpec:
    key: str
    description: str
    kind: type[int] | type[float]
    min: float
    max: float
    basis: Basis = TEAM_DEFAULT

    @property
    def default(self) -> int | float:
        value: int | float = getattr(Thresholds(), self.key)
        return value

    @property
    def allowed(self) -> str:
        """The allowed values in words: `a whole number from 1 to 10`."""
        noun = "a whole number" if self.kind is int else "a number"
        return f"{noun} from {format_number(self.min)} to {format_number(self.max)}"

    def parse(self, raw: str) -> int | float:
        text = raw.strip()
        pattern = _WHOLE_NUMBER if self.kind is int else _NUMBER
        if not pattern.fullmatch(text):
            raise self._error()
        value = int(text) if self.kind is int else float(text)
        if not self.min <= value <= self.max:
            raise self._error()
        return value

    def _error(self) -> ThresholdError:
        example = f"{self.key} {format_number(self.default)}"
        return ThresholdError(f"{self.key} must be {self.allowed}, e.g. `/alliance config set {example}`")


def format_number(value: float) -> str:
    """`6` for 6 and 6.0, `2.5` for 2.5."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def threshold_spec(key: str) -> ThresholdSpec:
    """The spec for a typed key (any case, `-` or `_`), or ThresholdError."""
    normal = key.strip().lower().replace("-", "_")
    if normal not in THRESHOLD_SPECS:
        known = ", ".join(THRESHOLD_SPECS)
        raise ThresholdError(f"unknown threshold `{key.strip()}`; known: {known}")
    return THRESHOLD_SPECS[normal]


_SPECS = [
    ThresholdSpec("low_alliance", "Low alliance: a member's thread rated below this",
                  int, 1, 10, LITERATURE),
    ThresholdSpec("serious_level", "A rating at or below this is serious, even in a case's first check-ins",
                  int, 0, 9),
    ThresholdSpec("split_gap", "Split alliance: members' ratings differ by at least this",
                  int, 1, 10),
    ThresholdSpec("persist_count", "A pattern firing in this many of the latest check-ins moves up a tier ...",
                  int, 1, 10),
    ThresholdSpec("persist_window", "... out of this many latest check-ins",
                  int, 1, 10),
    ThresholdSpec("drop_baseline",
                  "Alliance drop: a thread's level is the median of this many earlier ratings",
                  int, 1, 10),
    ThresholdSpec("drop_points", "Alliance drop: a fall of at least this many points below that level",
                  int, 1, 10),
    ThresholdSpec("drop_points_low", "Alliance drop: ... or of this many, landing at drop_level or below",
                  int, 1, 10),
    ThresholdSpec("drop_level", "Alliance drop: where a smaller fall or a slow slide must land (at or below)",
                  int, 0, 10),
    ThresholdSpec("drop_serious", "Alliance drop: a fall this big is serious",
                  int, 1, 10),
    ThresholdSpec("drop_sd", "Alliance drop: a fall must also exceed this many SDs of the earlier ratings",
                  float, 0.5, 5),
    ThresholdSpec("sd_floor", "Alliance drop: an SD is never taken as smaller than this",
                  float, 0, 5),
    ThresholdSpec("weak_unit", "Weak couple alliance: unit or collective rated at or below this",
                  int, 0, 9),
    ThresholdSpec("stalled_window", "Stalled: how many of the latest check-ins are looked at",
                  int, 2, 12),
    ThresholdSpec("stalled_mean", "Stalled: the mean rating over them is below this",
                  float, 1, 10),
    ThresholdSpec("stalled_rise", "Stalled: ... and has not risen by this much",
                  float, 0.1, 10),
    ThresholdSpec("rupture_window", "Repeated rupture: how many of the latest check-ins are looked at",
                  int, 1, 12),
    ThresholdSpec("rupture_count", "Repeated rupture: confrontations needed among them",
                  int, 1, 12),
    ThresholdSpec("withdrawal_count", "Repeated rupture: withdrawals of the same member needed among them",
                  int, 1, 12),
    ThresholdSpec("rupture_any_count", "Repeated rupture: ruptures of any kind needed among them",
                  int, 1, 12),
    ThresholdSpec("tension_window", "Recurring tension: how many of the latest check-ins are looked at",
                  int, 1, 12),
    ThresholdSpec("tension_count", "Recurring tension: check-ins with tension or resistance ticked among them",
                  int, 1, 12),
    ThresholdSpec("client_cutoff", "Client-rated low: a client-reported total (of 40) below this",
                  int, 1, 40, LITERATURE),
    ThresholdSpec("optimism_fall",
                  "Optimism gap: a client total this far below its own recent median while your rating holds",
                  int, 1, 40),
    ThresholdSpec("early_checkins", "A case's first this many check-ins: low levels are notices unless serious",
                  int, 0, 10),
    ThresholdSpec("calibration", "1: level cut-offs follow each therapist's rating habit (±1 at most); 0: off",
                  int, 0, 1),
    ThresholdSpec("calibration_min_checkins", "Calibration starts once a therapist has this many check-ins",
                  int, 5, 500),
    ThresholdSpec("silent_days", "No recent check-in: days without a check-in before a reminder",
                  int, 1, 90),
    ThresholdSpec("silent_digest_days",
                  "No recent check-in: days without a check-in before the supervision digest lists it",
                  int, 1, 365),
    ThresholdSpec("flag_close_after",
                  "A flag closes itself after this many check-ins in a row without its rule firing",
                  int, 1, 10),
]
# Keys earlier versions stored that no rule reads any more (a workspace may still hold them).
RETIRED_KEYS = frozenset({"split_hold_checkins", "drop_sd_min_checkins", "optimism_gap"})
THRESHOLD_SPECS: dict[str, ThresholdSpec] = {spec.key: spec for spec in _SPECS}
