"""Validating typed check-in values."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.checkin_input import parse_log_options, parse_ratings
from bot.domain.checkins import Rupture, RuptureKind, TherapistFlag
from bot.domain.errors import UserError

THREADS = ["A", "B", "unit", "collective"]
TODAY = date(2026, 11, 20)


def test_ratings_in_thread_order() -> None:
    assert parse_ratings("CPL-7KQ2", THREADS, ["8", "7", "0", "10"]) == {"A": 8, "B": 7, "unit": 0, "collective": 10}


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (["8", "7", "8"], "give 4 ratings, not 3"),
        (["8", "7", "8", "8", "8"], "give 4 ratings, not 5"),
        (["8", "11", "8", "8"], "must be from 0 to 10, not 11"),
        (["8", "-1", "8", "8"], "must be from 0 to 10, not -1"),
        (["8", "7.5", "8", "8"], "must be a whole number"),
        (["8", "seven", "8", "8"], "must be a whole number"),
    ],
)
def test_bad_ratings(raw: list[str], says: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_ratings("CPL-7KQ2", THREADS, raw)
    assert says in caught.value.message and "/alliance log CPL-7KQ2 8 7 8 8" in caught.value.message


def test_all_options() -> None:
    parsed = parse_log_options(
        {"session": "4", "date": "2026-11-19", "rupture": "confrontation:a+B", "flags": "stuck,Sides",
         "client": "A:34,b:29", "note": "  felt flat  "}, ["A", "B"], TODAY)
    assert parsed == {
        "session_number": 4, "session_date": date(2026, 11, 19),
        "rupture": Rupture(kind=RuptureKind.CONFRONTATION, members=("A", "B")),
        "flags": frozenset({TherapistFlag.STUCK, TherapistFlag.SIDES}),
        "client_scores": {"A": 34, "B": 29}, "note": "felt flat",
    }


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"session": "0"}, "session number"),
        ({"session": "two"}, "session number"),
        ({"date": "20/11/2026"}, "YYYY-MM-DD"),
        ({"date": "2026-02-30"}, "February 2026 has no 30th."),
        ({"date": "2026-11-31"}, "November 2026 has no 31st."),
        ({"date": "2026-12-25"}, "future"),
        ({"rupture": "shouting:A"}, "none, withdrawal or confrontation"),
        ({"rupture": "withdrawal:C"}, "is not a member"),
        ({"rupture": "none:A"}, "names nobody"),
        ({"flags": "sad"}, "is not a flag"),
        ({"client": "A:41"}, "0 to 40"),
        ({"client": "C:30"}, "name a member"),
        ({"client": "A:30,A:31"}, "given twice"),
        ({"note": "x" * 1001}, "keep it to 1000"),
    ],
)
def test_bad_options(options: dict[str, str], says: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_log_options(options, ["A", "B"], TODAY)
    assert says in caught.value.message


def test_a_dash_records_an_absent_member_never_a_zero() -> None:
    assert parse_ratings("CPL-7KQ2", ["A", "B", "unit", "collective"], ["8", "-", "7", "8"]) == {
        "A": 8, "B": None, "unit": 7, "collective": 8}


def test_only_a_member_can_be_marked_absent() -> None:
    with pytest.raises(UserError, match=r"^Only a member can be absent \(`-`\); rate unit from 0 to 10\."):
        parse_ratings("CPL-7KQ2", ["A", "B", "unit", "collective"], ["8", "8", "-", "8"])
