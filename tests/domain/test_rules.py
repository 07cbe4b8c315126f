"""The stall rules of SPEC §5 at their edges, their routes, and their evidence."""

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
from bot.domain.rules import Route, Rule, RuleHit, evaluate, is_silent
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


def test_rule_titles_are_the_spec_names_verbatim() -> None:
    assert [rule.title for rule in Rule] == [
        "Low alliance", "Split alliance", "Alliance drop", "Weak couple alliance", "Stalled",
        "Repeated rupture", "Therapist stuck", "Client-rated low", "Optimism gap",
        "No recent check-in",
    ]
    assert Rule.NO_RECENT_CHECKIN == "no_recent_checkin"
    assert (Route.DM, Route.SUPERVISION) == ("dm", "supervision")


def test_no_history_no_hits() -> None:
    assert evaluate([], COUPLE) == []


# --- the scenarios of the brief -------------------------------------------------

def test_a_fall_and_a_split_on_a_couple_case() -> None:
    hits = run("8 8 8 8", "8 7 8 8", "8 4 6 7")
    assert rules(hits) == [Rule.LOW_ALLIANCE, Rule.SPLIT_ALLIANCE, Rule.ALLIANCE_DROP]
    low, split, drop = hits
    assert (low.route, low.threads, low.evidence) == (Route.DM, ("B",), ("B 8 → 7 → 4",))
    assert split.route is Route.DM and split.threads == ("A", "B")
    assert split.evidence[0] == "A 8 vs B 4 (gap 4)"
    assert drop.route is Route.DM and drop.threads == ("B", "unit")
    assert drop.evidence == ("B 8 → 7 → 4", "unit 8 → 8 → 6")


def test_a_split_that_holds_goes_to_supervision() -> None:
    split = only(run("8 8 8 8", "8 7 8 8", "8 4 6 7", "8 5 7 7"), Rule.SPLIT_ALLIANCE)
    assert split.route is Route.SUPERVISION and split.severity >= 2
    assert split.evidence == ("A 8 vs B 5 (gap 3)", "gap 1 → 4 → 3")


def test_the_evidence_shows_the_last_three_ratings() -> None:
    drop = only(run("8 8 8 8", "8 8 8 8", "8 8 8 8", "8 4 8 8"), Rule.ALLIANCE_DROP)
    assert "B 8 → 8 → 4" in drop.evidence


def test_steady_good_ratings_raise_nothing() -> None:
    assert run(*["8 8 8 8"] * 4) == []


def test_steady_middling_ratings_stall() -> None:
    assert rules(run(*["6 6 6 6"] * 4)) == [Rule.STALLED]


# --- one rule at a time -----------------------------------------------------------

@pytest.mark.parametrize(("rating", "fires"), [(5, True), (6, False), (7, False), (0, True)])
def test_low_alliance_is_below_six(rating: int, fires: bool) -> None:
    hits = run(f"8 {rating} 8 8")
    assert (Rule.LOW_ALLIANCE in rules(hits)) is fires


def test_low_alliance_covers_unit_and_collective_and_follows_the_threshold() -> None:
    assert only(run("8 8 5 5"), Rule.LOW_ALLIANCE).threads == ("unit", "collective")
    assert only(run("6", members=SOLO, limits=Thresholds(low_alliance=7)),
                Rule.LOW_ALLIANCE).severity == 1


@pytest.mark.parametrize(("b", "fires"), [(7, False), (6, True), (5, True)])
def test_split_alliance_is_a_gap_of_three(b: int, fires: bool) -> None:
    hits = run(f"9 {b} 9 9")
    assert (Rule.SPLIT_ALLIANCE in rules(hits)) is fires
    if fires:
        assert only(hits, Rule.SPLIT_ALLIANCE).route is Route.DM


def test_a_new_split_after_a_small_gap_goes_to_the_therapist() -> None:
    split = only(run("9 7 9 9", "9 4 9 9"), Rule.SPLIT_ALLIANCE)
    assert split.route is Route.DM and split.severity == 1


def test_a_widening_split_goes_to_supervision_before_it_has_held_long() -> None:
    limits = Thresholds(split_hold_checkins=3)
    widened = only(run("9 9 9 9", "9 6 9 9", "9 5 9 9", limits=limits), Rule.SPLIT_ALLIANCE)
    assert widened.route is Route.SUPERVISION
    same = only(run("9 9 9 9", "9 6 9 9", "9 6 9 9", limits=limits), Rule.SPLIT_ALLIANCE)
    assert same.route is Route.DM
    held = only(run("9 6 9 9", "9 6 9 9", "9 6 9 9", limits=limits), Rule.SPLIT_ALLIANCE)
    assert held.route is Route.SUPERVISION


def test_a_split_that_holds_and_widens_is_serious() -> None:
    assert only(run("9 6 9 9", "9 4 9 9"), Rule.SPLIT_ALLIANCE).severity == 3


def test_an_individual_case_never_splits() -> None:
    assert Rule.SPLIT_ALLIANCE not in rules(run("0", "10", members=SOLO))


def test_a_family_split_compares_the_highest_and_lowest_member() -> None:
    split = only(run("9 7 5 8 8", members=("A", "B", "C")), Rule.SPLIT_ALLIANCE)
    assert split.threads == ("A", "C") and split.evidence == ("A 9 vs C 5 (gap 4)",)


@pytest.mark.parametrize(("newest", "fires"), [("7", False), ("6", True), ("5", True), ("9", False)])
def test_alliance_drop_is_two_points_since_last_time(newest: str, fires: bool) -> None:
    assert (Rule.ALLIANCE_DROP in rules(run("8", newest, members=SOLO))) is fires


def test_alliance_drop_also_catches_a_fall_far_below_the_running_mean() -> None:
    # 9 8 9 8: mean 8.5, SD 0.58; 7 is 1 point down but 2.6 SDs below the mean.
    drop = only(run("9", "8", "9", "8", "7", members=SOLO), Rule.ALLIANCE_DROP)
    assert drop.evidence == ("A 9 → 8 → 7", "A 7 vs its mean 8.5 (SD 0.6)")


def test_the_sd_test_waits_for_four_earlier_check_ins() -> None:
    assert Rule.ALLIANCE_DROP not in rules(run("8", "9", "8", "7", members=SOLO))
    limits = Thresholds(drop_sd_min_checkins=3)
    assert Rule.ALLIANCE_DROP in rules(run("8", "9", "8", "7", members=SOLO, limits=limits))


def test_a_fall_within_two_sds_is_not_a_drop() -> None:
    # 10 6 10 6: mean 8, SD 2.3, so 5 is only 1.3 SDs below and 1 point down.
    assert Rule.ALLIANCE_DROP not in rules(run("10", "6", "10", "6", "5", members=SOLO))


def test_a_flat_history_has_no_sd_and_needs_the_full_points() -> None:
    assert Rule.ALLIANCE_DROP not in rules(run("8", "8", "8", "8", "7", members=SOLO))
    assert Rule.ALLIANCE_DROP in rules(run("8", "8", "8", "8", "6", members=SOLO))


@pytest.mark.parametrize(("row", "weak"), [
    ("8 8 6 8", ()), ("8 8 5 8", ("unit",)), ("8 8 8 5", ("collective",)), ("8 8 4 3", ("unit", "collective")),
])
def test_weak_couple_alliance_is_unit_or_collective_at_most_five(row: str, weak: tuple[str, ...]) -> None:
    hits = run(row)
    if not weak:
        assert Rule.WEAK_COUPLE_ALLIANCE not in rules(hits)
        return
    hit = only(hits, Rule.WEAK_COUPLE_ALLIANCE)
    assert hit.route is Route.SUPERVISION and hit.threads == weak
    assert hit.severity == (3 if len(weak) == 2 else 2)


def test_stalled_needs_four_check_ins() -> None:
    assert Rule.STALLED not in rules(run(*["6 6 6 6"] * 3))
    stalled = only(run(*["6 6 6 6"] * 4), Rule.STALLED)
    assert stalled.route is Route.SUPERVISION and stalled.evidence == ("case mean 6 → 6 → 6 → 6",)


@pytest.mark.parametrize(("last", "fires"), [
    ("7 7 7 7", False),  # a mean of 7 is not below 7
    ("7 7 7 6", True),  # 6.75 < 7 and risen by 0.75
    ("5 5 5 5", True),  # falling
])
def test_stalled_means_stay_below_seven(last: str, fires: bool) -> None:
    assert (Rule.STALLED in rules(run(*["6 6 6 6"] * 3, last))) is fires


def test_a_rise_of_one_point_is_not_stalled() -> None:
    assert Rule.STALLED not in rules(run("5", "5", "5", "6", members=SOLO))
    assert Rule.STALLED in rules(run("5", "5", "6", "5", members=SOLO))
    assert Rule.STALLED in rules(run("5", "5", "5", "6", members=SOLO, limits=Thresholds(stalled_rise=1.5)))


@pytest.mark.parametrize(("ruptured", "fires"), [((4,), False), ((3, 4), True), ((1, 5), False), ((2, 5), True)])
def test_repeated_rupture_is_two_confrontations_in_four(ruptured: tuple[int, ...], fires: bool) -> None:
    history = [CheckinRecord(n, {"A": 8, "B": 8, "unit": 8, "collective": 8}, T0 + timedelta(weeks=n),
                             rupture=CONFRONT_B if n in ruptured else Rupture())
               for n in range(1, 6)]
    hits = evaluate(history, COUPLE)
    assert (Rule.REPEATED_RUPTURE in rules(hits)) is fires
    if fires:
        hit = only(hits, Rule.REPEATED_RUPTURE)
        assert hit.route is Route.SUPERVISION and hit.threads == ("B",)


def test_withdrawal_is_not_confrontation() -> None:
    withdrawn = Rupture(RuptureKind.WITHDRAWAL, ("A",))
    history = [CheckinRecord(n, {"A": 8}, T0, rupture=withdrawn) for n in range(1, 5)]
    assert evaluate(history, SOLO) == []


@pytest.mark.parametrize(("flags", "fires"), [
    ({TherapistFlag.STUCK}, True), ({TherapistFlag.SIDES}, True),
    ({TherapistFlag.TENSION, TherapistFlag.RESISTANCE}, False), (set(), False),
])
def test_therapist_stuck_is_stuck_or_sides(flags: set[TherapistFlag], fires: bool) -> None:
    hits = run("8", members=SOLO, flags=frozenset(flags))
    assert (Rule.THERAPIST_STUCK in rules(hits)) is fires
    if fires:
        assert only(hits, Rule.THERAPIST_STUCK).route is Route.DM


def test_therapist_stuck_twice_in_a_row_goes_to_supervision() -> None:
    history = [CheckinRecord(1, {"A": 8}, T0, flags=frozenset({TherapistFlag.STUCK})),
               CheckinRecord(2, {"A": 8}, T0, flags=frozenset({TherapistFlag.SIDES}))]
    hit = only(evaluate(history, SOLO), Rule.THERAPIST_STUCK)
    assert hit.route is Route.SUPERVISION and hit.severity >= 2
    assert hit.evidence == ("Felt pulled to take sides", "also ticked at the previous check-in (session 1)")
    history[1] = CheckinRecord(2, {"A": 8}, T0)
    assert evaluate(history, SOLO) == []


@pytest.mark.parametrize(("score", "fires"), [(35, True), (36, False), (37, False)])
def test_client_rated_low_is_below_36(score: int, fires: bool) -> None:
    hits = run("8 8 8 8", client_scores={"B": score})
    assert (Rule.CLIENT_RATED_LOW in rules(hits)) is fires
    if fires:
        hit = only(hits, Rule.CLIENT_RATED_LOW)
        assert hit.evidence == (f"client-rated B {score}/40",) and hit.route is Route.DM


@pytest.mark.parametrize(("score", "fires"), [(29, False), (28, True), (24, True)])
def test_optimism_gap_is_two_points_over_a_quarter_of_the_client_score(score: int, fires: bool) -> None:
    hits = run("9 9 9 9", client_scores={"A": score})
    assert (Rule.OPTIMISM_GAP in rules(hits)) is fires
    if fires:
        assert only(hits, Rule.OPTIMISM_GAP).threads == ("A",)


def test_optimism_gap_evidence() -> None:
    hit = only(run("9 9 9 9", client_scores={"A": 24}), Rule.OPTIMISM_GAP)
    assert hit.evidence == ("A 9 vs client-rated 24/40 (≈ 6/10)",)


def test_hits_come_in_rule_order_one_per_rule() -> None:
    history = checkins("9 9 9 9", "9 4 3 3", client_scores={"A": 20},
                       flags=frozenset({TherapistFlag.STUCK}))
    found = rules(evaluate(history, COUPLE))
    assert found == sorted(found, key=list(Rule).index) and len(set(found)) == len(found)
    assert Rule.NO_RECENT_CHECKIN not in found


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
    relabelled = [replace(r, ratings={rename.get(t, t): v for t, v in r.ratings.items()})
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
        assert hit.route is Route.DM or hit.severity >= 2
