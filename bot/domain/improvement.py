"""Good news (issue 13 item 12, SPEC §5): a case that improved reliably — every
thread it rated up by at least `IMPROVED_BY` from its first three check-ins to
its latest three (medians, so one good session is not enough)."""

from __future__ import annotations

import statistics
from typing import Mapping, Sequence

IMPROVED_BY = 2
SPAN = 3  # check-ins at each end


def improved_reliably(first: Sequence[Mapping[str, int | None]], latest: Sequence[Mapping[str, int | None]],
                      by: int = IMPROVED_BY) -> bool:
    """`first` and `latest`: the ratings of a case's first and latest SPAN check-ins
    (thread -> rating, None for an absent member), in session order; the two ends
    must not overlap (a case needs 2 × SPAN check-ins). True when every thread
    rated at both ends rose by `by` or more, median against median."""
    if len(first) < SPAN or len(latest) < SPAN:
        return False
    threads = {t for r in first for t, v in r.items() if v is not None}
    threads &= {t for r in latest for t, v in r.items() if v is not None}
    if not threads:
        return False
    for thread in threads:
        before = [v for r in first if (v := r.get(thread)) is not None]
        after = [v for r in latest if (v := r.get(thread)) is not None]
        if statistics.median(after) - statistics.median(before) < by:
            return False
    return True
