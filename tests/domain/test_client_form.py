"""Reading the clients' four-item form: whole numbers 0-10, the total of 40."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.client_form import ITEMS, MAX_TOTAL, FormAnswer, FormProblems, read_answer
from bot.domain.grammar import RateLinks, parse_command


def test_four_items_make_the_total_and_safety_stays_apart() -> None:
    answer = read_answer({"heard": "6", "goals": "7", "approach": "6", "overall": "7", "safety": "2"}, with_safety=True)
    assert answer == FormAnswer(items=(6, 7, 6, 7), safety=2) and answer.total == 26
    solo = read_answer({"heard": "10", "goals": "10", "approach": "10", "overall": "10", "safety": "0"}, with_safety=False)
    assert isinstance(solo, FormAnswer) and solo.safety is None and solo.total == MAX_TOTAL == 40


def test_every_bad_item_is_named() -> None:
    problems = read_answer({"heard": "11", "goals": "-1", "approach": " 7 ", "overall": "٣"}, with_safety=True)
    assert problems == FormProblems(("heard", "goals", "overall", "safety"))


@given(st.dictionaries(st.sampled_from(ITEMS + ("safety", "x")), st.text(max_size=4)))
def test_anything_reads_as_an_answer_in_range_or_named_problems(form: dict[str, str]) -> None:
    result = read_answer(form, with_safety=True)
    if isinstance(result, FormAnswer):
        assert all(0 <= v <= 10 for v in result.items) and 0 <= result.total <= 40
    else:
        assert result.missing and set(result.missing) <= set(ITEMS) | {"safety"}


def test_rate_takes_one_case_code() -> None:
    assert parse_command("rate cpl-7kq2") == RateLinks(code="CPL-7KQ2")
