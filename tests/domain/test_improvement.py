"""Issue 13 item 12: good news is every thread up by 2 or more, median against median."""

from bot.domain.improvement import improved_reliably


def rows(*values: tuple[int | None, int | None]) -> list[dict[str, int | None]]:
    return [{"A": a, "B": b} for a, b in values]


def test_every_thread_must_rise_by_two() -> None:
    assert improved_reliably(rows((5, 6), (6, 5), (5, 5)), rows((8, 7), (7, 8), (8, 8)))
    assert not improved_reliably(rows((5, 6), (6, 5), (5, 5)), rows((8, 6), (7, 6), (8, 6)))  # B up by 1


def test_one_good_session_is_not_enough_and_absent_members_are_skipped() -> None:
    assert not improved_reliably(rows((5, 5), (5, 5), (5, 5)), rows((5, 5), (5, 5), (9, 9)))
    assert improved_reliably(rows((5, None), (5, 5), (5, 5)), rows((7, 7), (8, None), (7, 7)))


def test_labels_swapped_give_the_same_answer_and_short_cases_never_count() -> None:
    first, latest = rows((5, 7), (5, 7), (6, 7)), rows((8, 7), (8, 9), (8, 9))
    swap = [[{"A": r["B"], "B": r["A"]} for r in part] for part in (first, latest)]
    assert improved_reliably(first, latest) == improved_reliably(swap[0], swap[1])
    assert not improved_reliably(rows((5, 5), (5, 5)), rows((8, 8), (8, 8)))
