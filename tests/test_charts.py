"""Issue 13 item 11: charts by session number, one line per thread, gaps for absent members;
the digest draws each flagged case's lowest and highest thread."""

from __future__ import annotations

from io import BytesIO

from bot.slack.charts import ThreadLine, draw_lines, lowest_and_highest, session_ticks

SPLIT = [(1, {"A": 9, "B": 8}), (2, {"A": 9, "B": None}), (3, {"A": 9, "B": 3}), (5, {"A": 10, "B": 2})]


def test_a_split_shows_as_its_lowest_and_highest_thread_never_a_mean() -> None:
    low, high = lowest_and_highest("CPL-7KQ2", SPLIT, group=3)
    assert (low.label, high.label) == ("CPL-7KQ2 B (lowest)", "CPL-7KQ2 A (highest)")
    assert low.points == ((1, 8), (2, None), (3, 3), (5, 2)) and low.group == high.group == 3
    [only] = lowest_and_highest("IND-4M2P", [(1, {"A": 6}), (2, {"A": 7})])
    assert only.label == "IND-4M2P A"


def test_ticks_are_whole_sessions_with_dates_only_when_given() -> None:
    assert session_ticks([3, 1, 5, 3]) == [(1, "1"), (3, "3"), (5, "5")]
    assert session_ticks([1, 2], {1: "2 Nov"}) == [(1, "1\n2 Nov"), (2, "2")]


def test_the_chart_is_a_png_with_a_gap_for_an_absent_member() -> None:
    from matplotlib.image import imread

    lines = [ThreadLine(t, tuple((n, r.get(t)) for n, r in SPLIT), i) for i, t in enumerate(("A", "B"))]
    png = draw_lines(lines, "CPL-7KQ2", reference=6, dates={1: "2 Nov"})
    assert png.startswith(b"\x89PNG")
    assert imread(BytesIO(png)).shape[:2] == (450, 800)
