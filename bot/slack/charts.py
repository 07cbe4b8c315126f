"""Trend charts as PNG (issue 13 item 11): x is the session number (with the
session's date under it where the viewer may see dates), y is the 0–10 rating,
one line per thread with its own marker and line style and a legend, and a gap
where a member was absent. The digest draws each flagged case's lowest and
highest thread (a split shows as two lines, never as a mean).
Drawn headless with matplotlib's Agg canvas (no pyplot, no display, thread-safe)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from io import BytesIO
from typing import Mapping, Sequence

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
STYLES = ("-", "--", "-.", ":")


@dataclass(frozen=True)
class ThreadLine:
    label: str  # e.g. "B" or "CPL-7KQ2 B (lowest)"
    points: tuple[tuple[int, int | None], ...]  # (session number, rating; None: absent), in session order
    group: int = 0  # lines of one case share a colour


def session_ticks(numbers: Sequence[int], dates: Mapping[int, str] | None = None) -> list[tuple[int, str]]:
    """Integer ticks at the sessions shown, each with its date below when given."""
    return [(n, f"{n}\n{dates[n]}" if dates and n in dates else str(n)) for n in sorted(set(numbers))]


def draw_lines(lines: Sequence[ThreadLine], title: str, reference: float | None = None,
               dates: Mapping[int, str] | None = None, client_lines: Sequence[ThreadLine] = ()) -> bytes:
    """One line per ThreadLine (NaN for an absent member: matplotlib leaves a gap),
    a dashed line at `reference` (the Low alliance cut-off); `client_lines`, the
    members' own session ratings (client totals of 40), dotted on a 0–40 axis of
    their own at the right, so both views stand side by side; returns PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4.5), dpi=100)
    canvas = FigureCanvasAgg(figure)
    axes = figure.subplots()
    palette = [f"C{i}" for i in range(10)]
    numbers: list[int] = []
    for index, line in enumerate(lines):
        xs = [n for n, _ in line.points]
        ys = [math.nan if v is None else float(v) for _, v in line.points]
        numbers += xs
        axes.plot(xs, ys, marker=MARKERS[index % len(MARKERS)], linestyle=STYLES[index % len(STYLES)],
                  color=palette[line.group % len(palette)], linewidth=1.8, markersize=6, label=line.label)
    axes.set_ylim(0, 10.3)
    axes.set_yticks(range(0, 11, 2))
    ticks = session_ticks(numbers, dates)
    if ticks:
        axes.set_xticks([n for n, _ in ticks], [label for _, label in ticks])
        axes.set_xlim(ticks[0][0] - 0.5, ticks[-1][0] + 0.5)
    axes.set_xlabel("session" + (" (date)" if dates else ""))
    axes.set_ylabel("rating (0–10)")
    axes.set_title(title)
    if reference is not None:
        axes.axhline(reference, color="grey", linewidth=0.8, linestyle="--")
    axes.grid(True, alpha=0.3)
    handles, labels = axes.get_legend_handles_labels()
    if client_lines:
        right = axes.twinx()
        for index, line in enumerate(client_lines):
            xs = [n for n, _ in line.points]
            ys = [math.nan if v is None else float(v) for _, v in line.points]
            right.plot(xs, ys, marker=MARKERS[(index + 3) % len(MARKERS)], linestyle=":", linewidth=1.6,
                       markersize=6, color=palette[(line.group + 5) % len(palette)], label=line.label)
        right.set_ylim(0, 41.2)
        right.set_yticks(range(0, 41, 8))
        right.set_ylabel("client's own rating (0–40)")
        more_handles, more_labels = right.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    if handles and client_lines:  # two axes: the legend goes below, clear of both
        axes.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize="small",
                    ncols=min(len(handles), 6))
    elif handles:
        axes.legend(handles, labels, loc="best", fontsize="small", ncols=2)
    figure.tight_layout()
    buffer = BytesIO()
    canvas.print_png(buffer)  # type: ignore[no-untyped-call]  # matplotlib leaves it untyped
    return buffer.getvalue()


def lowest_and_highest(code: str, points: Sequence[tuple[int, Mapping[str, int | None]]],
                       group: int = 0) -> list[ThreadLine]:
    """A case's lowest and highest thread over these check-ins (by their mean rating,
    ties by name), as two lines; one line when the case has a single thread."""
    threads = sorted({t for _, ratings in points for t, v in ratings.items() if v is not None})
    if not threads:
        return []

    def level(thread: str) -> float:
        values = [v for _, r in points if (v := r.get(thread)) is not None]
        return sum(values) / len(values)

    low = min(threads, key=lambda t: (level(t), t))
    high = max(threads, key=lambda t: (level(t), t))
    chosen = [(low, "lowest"), (high, "highest")] if low != high else [(low, "")]
    return [ThreadLine(f"{code} {thread}" + (f" ({which})" if which else ""),
                       tuple((n, r.get(thread)) for n, r in points), group) for thread, which in chosen]
