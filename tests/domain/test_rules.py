"""Stall-rule properties, flag closing and silence (the rule mechanics and
scenarios are in test_rule_scenarios.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from random import Random
from typing import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.cases import default_member_labels, thread_names
from bot.domain.checkins import CheckinRecord, Rupture, RuptureKind, TherapistFlag
from bot.domain.rules import Route, Rule, RuleHit, evaluate, is_silent, route_for
from bot.domain.thresholds import THRESHOLD_SPECS, Thresholds

COUPLE = ("A", "B")  # threads A, B, unit, collective
SOLO = ("A",)
T0 = datetime(2025, 1, 6, 17, 0, tzinfo=UTC)
CONFRONT_B = Rupture(RuptureKind.CONFRONTATION, ("B",))


def checkins(*rows: str, members: Sequence[str] = COUPLE, **newest: object) -> list[CheckinRecord]:
    """One check-in per row of ratings in thread order; `newest` goes to the last."""
    threads = thread_names(members)
    history = []
    for number, row in enumerate(rows, start=1):
        extra = newest if number == len(rows) else {}
        ratings = dict(zip(threads, (int(v) for v in row.split()), strict=True))
        history.append(CheckinRecord(number, ratings, T0 + timedelta(weeks=number), **extra))
    return history


def run(*rows: str, members: Sequence[str] = COUPLE, limits: Thresholds = Thresholds(),
        **newest: object) -> list[RuleHit]:
    return evaluate(checkins(*rows, members=members, **newest), members, limits)


def rules(hits: list[RuleHit]) -> list[Rule]:
    return [hit.rule for hit in hits]


def only(hits: list[RuleHit], rule: Rule) -> RuleHit:
    (hit,) = [h for h in hits if h.rule is rule]
    return hit


# --- No recent check-in -------------------------------------------------------------

CREATED = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def test_silent_after_fourteen_days_from_creation() -> None:
    assert not is_silent(None, CREATED, CREATED + timedelta(days=14, seconds=-1), 14)
    assert is_silent(None, CREATED, CREATED + timedelta(days=14), 14)


def test_silence_counts_from_the_last_check_in() -> None:
    last = CREATED + timedelta(days=10)
    assert not is_silent(last, CREATED, CREATED + timedelta(days=20), 14)
    assert is_silent(last, CREATED, CREATED + timedelta(days=24), 14)


def test_days_away_are_not_silence() -> None:
    away = [(date(2025, 3, 5), date(2025, 3, 7))]  # three whole days
    assert not is_silent(None, CREATED, CREATED + timedelta(days=16), 14, away)
    assert is_silent(None, CREATED, CREATED + timedelta(days=17), 14, away)
    overlapping = away + [(date(2025, 3, 6), date(2025, 3, 7)), (date(2025, 2, 1), date(2025, 2, 9))]
    assert is_silent(None, CREATED, CREATED + timedelta(days=17), 14, overlapping)


def test_silence_needs_aware_datetimes() -> None:
    with pytest.raises(ValueError):
        is_silent(None, CREATED.replace(tzinfo=None), CREATED, 14)


# --- properties ------------------------------------------------------------------------

@st.composite
def cases(draw: st.DrawFn, min_members: int = 1) -> tuple[list[str], list[CheckinRecord]]:
    members = default_member_labels(draw(st.integers(min_members, 4)))
    labels = st.sampled_from(members)
    history = [
        CheckinRecord(
            session_number=number,
            ratings={t: draw(st.integers(0, 10)) for t in thread_names(members)},
            recorded_at=T0 + timedelta(weeks=number),
            client_scores=draw(st.dictionaries(labels, st.integers(0, 40))),
            rupture=Rupture(draw(st.sampled_from(RuptureKind)),
                            tuple(draw(st.lists(labels, unique=True)))),
            flags=draw(st.frozensets(st.sampled_from(TherapistFlag))),
        )
        for number in range(1, draw(st.integers(1, 8)) + 1)
    ]
    return members, history


@st.composite
def any_thresholds(draw: st.DrawFn) -> Thresholds:
    values = {key: draw(st.integers(int(spec.min), int(spec.max)) if spec.kind is int
                        else st.floats(spec.min, spec.max))
              for key, spec in THRESHOLD_SPECS.items()}
    return Thresholds(**values)


@given(st.integers(7, 10), st.integers(1, 4), st.integers(1, 10))
def test_a_steady_series_on_target_never_fires(rating: int, member_count: int, length: int) -> None:
    members = default_member_labels(member_count)
    row = " ".join([str(rating)] * len(thread_names(members)))
    assert run(*[row] * length, members=members) == []


@given(cases(min_members=2), st.randoms())
def test_relabelling_members_never_changes_a_split(case: tuple[list[str], list[CheckinRecord]],
                                                   rng: Random) -> None:
    members, history = case
    shuffled = members[:]
    rng.shuffle(shuffled)
    rename = dict(zip(members, shuffled))
    # Every reference to a member is renamed: a rupture with A is with whoever A becomes
    # (renaming the ratings alone once moved a confrontation onto another member).
    relabelled = [replace(r, ratings={rename.get(t, t): v for t, v in r.ratings.items()},
                          rupture=replace(r.rupture, members=tuple(rename.get(m, m) for m in r.rupture.members)),
                          absent=frozenset(rename.get(m, m) for m in r.absent),
                          client_scores={rename.get(m, m): v for m, v in r.client_scores.items()},
                          client_safety={rename.get(m, m): v for m, v in r.client_safety.items()})
                  for r in history]

    def split(hits: list[RuleHit]) -> Route | None:
        return next((h.route for h in hits if h.rule is Rule.SPLIT_ALLIANCE), None)

    assert split(evaluate(relabelled, members)) == split(evaluate(history, members))


@given(cases(), st.data())
def test_lowering_a_newest_rating_never_removes_low_alliance(case: tuple[list[str], list[CheckinRecord]],
                                                            data: st.DataObject) -> None:
    members, history = case
    newest = history[-1]
    thread = data.draw(st.sampled_from(sorted(newest.ratings)))
    lowered = data.draw(st.integers(0, newest.ratings[thread]))
    worse = history[:-1] + [replace(newest, ratings={**newest.ratings, thread: lowered})]
    if Rule.LOW_ALLIANCE in rules(evaluate(history, members)):
        assert Rule.LOW_ALLIANCE in rules(evaluate(worse, members))


@given(cases(), any_thresholds())
def test_evaluate_never_raises_and_gives_at_most_one_hit_per_rule(
    case: tuple[list[str], list[CheckinRecord]], limits: Thresholds
) -> None:
    members, history = case
    hits = evaluate(history, members, limits)
    found = rules(hits)
    assert len(set(found)) == len(found) and found == sorted(found, key=list(Rule).index)
    for hit in hits:
        assert hit.rule is not Rule.NO_RECENT_CHECKIN and hit.evidence
        assert hit.severity in (1, 2, 3)
        assert hit.route is route_for(hit.severity)
