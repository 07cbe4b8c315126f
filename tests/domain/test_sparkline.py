"""Sparklines and trend arrows on the fixed 0-10 scale."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.sparkline import BLOCKS, sparkline, trend_arrow


def test_the_scale_is_fixed_whatever_the_values() -> None:
    assert sparkline([0, 10]) == "▁█"
    assert sparkline([10]) == "█"
    assert sparkline([0]) == "▁"
    assert sparkline([8, 8, 4]) == "▇▇▄"
    assert sparkline(range(11)) == "▁▂▂▃▄▅▅▆▇▇█"


def test_gaps_are_dots_and_nothing_is_empty() -> None:  # issue 13: absent shows as ·
    assert sparkline([8, None, 4]) == "▇·▄"
    assert sparkline([]) == ""


def test_other_scales_and_values_outside_them() -> None:
    assert sparkline([40, 0, 20], high=40) == "█▁▅"
    assert sparkline([-3, 12]) == "▁█"
    with pytest.raises(ValueError):
        sparkline([1], low=5, high=5)


@given(st.lists(st.integers(0, 10), max_size=20))
def test_one_block_per_value_never_out_of_order(values: list[int]) -> None:
    line = sparkline(values)
    assert len(line) == len(values) and set(line) <= set(BLOCKS)
    ranks = [BLOCKS.index(block) for block in sparkline(sorted(values))]
    assert ranks == sorted(ranks)


@pytest.mark.parametrize(("values", "arrow"), [
    ([], "="), ([5], "="), ([5, 7], "↑"), ([7, 5], "↓"), ([5, 5], "="),
    ([5, None, 7], "↑"), ([9, 5, None], "↓"), ([None, None], "="), ([6.5, 6.25], "↓"),
])
def test_trend_arrow_compares_the_latest_with_the_one_before(values: list[float | None], arrow: str) -> None:
    assert trend_arrow(values) == arrow
