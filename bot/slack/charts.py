"""The digest's chart: each flagged case's mean rating per check-in, as a PNG.
Drawn headless with matplotlib's Agg canvas (no pyplot, no display, thread-safe)."""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from typing import Sequence


@dataclass(frozen=True)
class CaseTrend:
    code: str
    means: tuple[float, ...]  # the case's mean rating at each recent check-in, oldest first


def draw_trends(trends: Sequence[CaseTrend], title: str, reference: float | None = None) -> bytes:
    """A line per case on a 0–10 scale, and a dashed line at `reference` (the Low
    alliance threshold); returns PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4.5), dpi=100)
    canvas = FigureCanvasAgg(figure)
    axes = figure.subplots()
    for trend in trends:
        steps = range(1 - len(trend.means), 1)  # the newest check-in at 0
        axes.plot(list(steps), list(trend.means), marker="o", linewidth=1.8, label=trend.code)
    axes.set_ylim(0, 10)
    axes.set_xlabel("check-ins before the latest (0 = latest)")
    axes.set_ylabel("mean rating (0–10)")
    axes.set_title(title)
    if reference is not None:
        axes.axhline(reference, color="grey", linewidth=0.8, linestyle="--")
    axes.grid(True, alpha=0.3)
    if trends:
        axes.legend(loc="lower left", fontsize="small", ncols=2)
    figure.tight_layout()
    buffer = BytesIO()
    canvas.print_png(buffer)  # type: ignore[no-untyped-call]  # matplotlib leaves it untyped
    return buffer.getvalue()
