"""Text trends for messages: `▆▆▃▅` and an arrow."""

from __future__ import annotations

from typing import Sequence

BLOCKS = "▁▂▃▄▅▆▇█"
GAP = "·"  # an absent member (or no rating): SPEC §5
UP, DOWN, LEVEL = "↑", "↓", "="  # `→` means only "to" (`8 → 9`), never "unchanged"


def sparkline(values: Sequence[float | None], low: int = 0, high: int = 10) -> str:
    """One block per value on the fixed scale low..high (so `high` is always █
    and `low` always ▁, whatever the other values); None (an absent member) is `·`."""
    if high <= low:
        raise ValueError("sparkline needs high > low")
    return "".join(GAP if v is None else _block(v, low, high) for v in values)


def _block(value: float, low: int, high: int) -> str:
    share = (min(max(value, low), high) - low) / (high - low)
    return BLOCKS[int(share * (len(BLOCKS) - 1) + 0.5)]


def trend_arrow(values: Sequence[float | None]) -> str:
    """↑, ↓ or = comparing the latest value with the one before it (gaps skipped);
    = when there are fewer than two values."""
    known = [v for v in values if v is not None]
    if len(known) < 2 or known[-1] == known[-2]:
        return LEVEL
    return UP if known[-1] > known[-2] else DOWN
