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


def test_the_clients_own_ratings_get_an_axis_of_their_own_beside_the_therapists() -> None:
    """Issue 16: client totals (of 40) are drawn dotted on a right-hand 0–40 axis, so a
    member's own 29/40 and the therapist's 8/10 stand side by side, not on one scale."""
    from matplotlib.figure import Figure

    drawn: list[Figure] = []
    original = Figure.tight_layout

    def keep(self: Figure, *args: object, **kwargs: object) -> None:
        drawn.append(self)
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    lines = [ThreadLine(t, tuple((n, r.get(t)) for n, r in SPLIT), i) for i, t in enumerate(("A", "B"))]
    clients = [ThreadLine("B client", ((1, 34), (2, None), (3, 29)), 1)]
    Figure.tight_layout = keep  # type: ignore[method-assign]
    try:
        png = draw_lines(lines, "CPL-7KQ2", client_lines=clients)
        draw_lines(lines, "CPL-7KQ2")
    finally:
        Figure.tight_layout = original  # type: ignore[method-assign]
    assert png.startswith(b"\x89PNG")
    with_clients, without = drawn
    assert len(with_clients.axes) == 2 and len(without.axes) == 1
    right = with_clients.axes[1]
    assert right.get_ylim() == (0, 41.2) and right.get_ylabel() == "client's own rating (0–40)"
    legend = with_clients.axes[0].get_legend()
    assert legend is not None and [t.get_text() for t in legend.get_texts()] == ["A", "B", "B client"]
