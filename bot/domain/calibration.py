"""Calibration to the rater (SPEC §5): how far a therapist's own rating habit
sits from the team's, as an offset for the level cut-offs."""

from __future__ import annotations

import math
import statistics
from typing import Sequence

CAP = 1.0  # points, either way
SHRINK = 20  # check-ins: the estimate is shrunk by n / (n + SHRINK) toward zero
RECENT_CHECKINS = 200  # a therapist's check-ins read (newest first)
TEAM_CHECKINS = 1000  # the team's check-ins read (newest first)
# Every offset `offset_from_medians` can give: whole points within ±CAP.
POSSIBLE_OFFSETS: tuple[float, ...] = tuple(float(k) for k in range(-math.floor(CAP), math.floor(CAP) + 1))


def rater_offset(own: Sequence[float], team: Sequence[float], min_checkins: int = 30) -> float:
    """The therapist's median check-in rating (`own`: one mean rating per recent
    check-in) against the team's median (`team`), shrunk toward zero by
    n / (n + SHRINK), capped at ±CAP and rounded to a whole point; 0 with fewer
    than `min_checkins` own check-ins. A conservative rater gets a negative offset:
    their cut-offs move down by it, so the same clinical reality fires the same."""
    if not team:
        return 0.0
    return offset_from_medians(statistics.median(own) if own else 0.0, len(own), statistics.median(team),
                               min_checkins)


def offset_from_medians(own_median: float, n: int, team_median: float | None, min_checkins: int = 30) -> float:
    """`rater_offset` from the medians themselves (and `n`, the therapist's count),
    as a database computes them (bot/store/ratings.py); None: the team has none."""
    if n < max(min_checkins, 1) or team_median is None:
        return 0.0
    raw = own_median - team_median
    shrunk = max(-CAP, min(CAP, raw * n / (n + SHRINK)))
    # Ratings are whole numbers: a cut-off moved by less than a point changes nothing
    # for "below 6", so the offset acts in whole points (half a point rounds away from 0).
    return float(math.copysign(math.floor(abs(shrunk) + 0.5), shrunk)) + 0.0
