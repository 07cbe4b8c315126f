"""Issue 16's additions to the stall rules: the client-total trend behind Optimism
gap, and the members' own safety answer behind Weak couple alliance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.checkins import CheckinRecord
from bot.domain.rules import Rule, evaluate

T0 = datetime(2025, 1, 6, 17, 0, tzinfo=UTC)
COUPLE = ("A", "B")


def history(client_b: list[int | None], rating_b: list[int], safety: dict[str, int] | None = None) -> list[CheckinRecord]:
    rows = []
    for number, (client, rating) in enumerate(zip(client_b, rating_b, strict=True), start=1):
        rows.append(CheckinRecord(number, {"A": 8, "B": rating, "unit": 8, "collective": 8}, T0 + timedelta(weeks=number),
                                  client_scores={} if client is None else {"B": client},
                                  client_safety=safety if number == len(client_b) and safety else {}))
    return rows


def fired(records: list[CheckinRecord]) -> dict[Rule, tuple[str, ...]]:
    return {hit.rule: hit.evidence for hit in evaluate(records, COUPLE)}


def test_37_36_29_while_the_therapist_rates_8_is_an_optimism_gap() -> None:
    hits = fired(history([37, 36, 29], [8, 8, 8]))
    (evidence,) = hits[Rule.OPTIMISM_GAP]  # the wording is the rules' (issue 13); the trend is issue 16's
    assert evidence.startswith("client-rated B 36.5 → 29/40") and "B 8" in evidence
    assert hits[Rule.CLIENT_RATED_LOW] == ("client-rated B 29/40",)


@pytest.mark.parametrize(("client", "rating", "fires"), [
    ([37, 36, 32], [8, 8, 8], False),  # 4.5 below the median 36.5: not yet 5
    ([37, 36, 31], [8, 8, 8], True),  # 5.5 below
    ([37, 36, 31], [8, 8, 7], False),  # the therapist's rating fell too: no gap between the views
    ([36, 29], [8, 8], False),  # one earlier total is not a trend
    ([38, 38, 38, 38, 33], [8, 8, 8, 8, 9], True),  # the median of the last three earlier totals
    ([38, None, 38, 33], [8, 8, 8, 8], True),  # sessions without a client total are skipped
])
def test_the_trend_needs_a_fall_of_5_below_the_median_and_a_rating_that_holds(
        client: list[int | None], rating: list[int], fires: bool) -> None:
    assert (Rule.OPTIMISM_GAP in fired(history(client, rating))) is fires


def test_a_member_feeling_unsafe_to_speak_is_a_weak_couple_alliance() -> None:
    hits = fired(history([38], [8], safety={"A": 4, "B": 9}))
    assert hits[Rule.WEAK_COUPLE_ALLIANCE] == ("client-rated safety to speak openly A 4/10",)
    assert Rule.WEAK_COUPLE_ALLIANCE not in fired(history([38], [8], safety={"A": 5, "B": 9}))
