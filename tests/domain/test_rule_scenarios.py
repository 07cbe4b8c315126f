"""Issue 13's scenarios, table-driven through the rule pipeline and the flag
bookkeeping the bot uses (SPEC §5): what interrupts, what stays a notice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.calibration import rater_offset
from bot.domain.cases import thread_names
from bot.domain.checkins import CheckinRecord, Rupture, RuptureKind, TherapistFlag
from bot.domain.flag_book import Change, OpenFlag, book_flags, interrupting_posts
from bot.domain.rule_registry import EVALUATED, REGISTRY, entry
from bot.domain.rule_types import NOTICE, SERIOUS, WARNING, Route, Rule
from bot.domain.rules import evaluate
from bot.domain.thresholds import THRESHOLD_SPECS, Thresholds

T0 = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)
COUPLE = ("A", "B")


def record(n: int, ratings: dict[str, int | None], **extra: object) -> CheckinRecord:
    present = {k: v for k, v in ratings.items() if v is not None}
    absent = frozenset(k for k, v in ratings.items() if v is None)
    return CheckinRecord(n, present, T0 + timedelta(weeks=n), absent=absent, **extra)  # type: ignore[arg-type]


def couple(rows: Sequence[tuple[int | None, int | None]], unit: int = 8,
           extras: dict[int, dict[str, object]] | None = None) -> list[CheckinRecord]:
    return [record(i, {"A": a, "B": b, "unit": unit, "collective": unit}, **(extras or {}).get(i, {}))
            for i, (a, b) in enumerate(rows, start=1)]


def solo(values: Sequence[int]) -> list[CheckinRecord]:
    return [record(i, {"A": v}) for i, v in enumerate(values, start=1)]


def run_case(history: Sequence[CheckinRecord], members: Sequence[str],
             thresholds: Thresholds = Thresholds()) -> list[list[Route]]:
    """The interrupting posts after each check-in, as the bot's bookkeeping plans them."""
    flags: dict[str, OpenFlag] = {}
    out = []
    for end in range(1, len(history) + 1):
        hits = evaluate(history[:end], members, thresholds)
        steps = book_flags(flags, hits, history[end - 1], thresholds.flag_close_after)
        for step in steps:
            if step.change is Change.CLOSE:
                flags.pop(step.rule)
            elif step.change is not Change.HOLD:
                flags[step.rule] = OpenFlag(step.rule, step.route, True, step.quiet)
        out.append(interrupting_posts(steps))
    return out


STEADY = [(8, 8), (7, 8), (8, 9), (9, 8), (8, 7), (7, 8), (8, 8), (9, 9), (8, 7), (7, 8)]


@pytest.mark.parametrize("name, history, members, expected", [
    ("steady around 8 ±1 for 10 sessions", couple(STEADY), COUPLE, "nothing"),
    ("9-10 dipping to 8", couple([(10, 9), (9, 10), (10, 10), (9, 9), (8, 8), (10, 9)], unit=9), COUPLE, "nothing"),
    ("B absent once", couple([(8, 8), (8, 8), (8, None), (8, 8), (8, 8)]), COUPLE, "nothing"),
    ("individual steady at 8", solo([8, 7, 8, 9, 8, 7, 8, 8]), ("A",), "nothing"),
])
def test_healthy_cases_interrupt_nobody(name: str, history: list[CheckinRecord], members: Sequence[str],
                                        expected: str) -> None:
    assert run_case(history, members) == [[] for _ in history], name


def test_b_sliding_while_a_holds_warns_by_the_fourth_and_reaches_supervision_once_the_split_holds() -> None:
    posts = run_case(couple([(8, 8), (8, 7), (8, 6), (8, 5), (8, 5)]), COUPLE)
    assert any(Route.DM in p or Route.SUPERVISION in p for p in posts[:4])
    assert Route.SUPERVISION in posts[4]
    hits = {h.rule: h for h in evaluate(couple([(8, 8), (8, 7), (8, 6), (8, 5), (8, 5)]), COUPLE)}
    # The split of exactly 3 is a notice of its own; B low in 2 of the last 3 is what holds, and
    # the split travels with it (one piece of evidence) to supervision.
    assert hits[Rule.SPLIT_ALLIANCE].severity is SERIOUS and Rule.LOW_ALLIANCE in hits[Rule.SPLIT_ALLIANCE].also
    assert "in 2 of the last 3 check-ins" in hits[Rule.LOW_ALLIANCE].evidence


def test_b_withdrawing_in_sessions_2_and_4_is_a_warning() -> None:
    withdraw = {"rupture": Rupture(RuptureKind.WITHDRAWAL, ("B",))}
    history = couple([(8, 8)] * 4, extras={2: withdraw, 4: withdraw})
    (hit,) = evaluate(history, COUPLE)
    assert hit.rule is Rule.REPEATED_RUPTURE and hit.severity is WARNING
    assert hit.evidence == ("B withdrew in 2 of the last 4 check-ins (sessions 2, 4)",)
    assert run_case(history, COUPLE)[3] == [Route.DM]


def test_an_individual_case_flat_at_6_to_7_reaches_supervision_as_stalled() -> None:
    history = solo([6, 7, 6, 7, 6, 7])
    posts = run_case(history, ("A",))
    assert any(Route.SUPERVISION in p for p in posts[3:])
    hits = evaluate(history[:4], ("A",))  # the window and its last two check-ins at 6.5: once, a notice
    assert [h.rule for h in hits] == [Rule.STALLED] and hits[0].severity is NOTICE
    assert [h.severity for h in evaluate(history[:5], ("A",))] == [NOTICE]
    hits = evaluate(history, ("A",))  # flat at three check-ins running (the sixth session): supervision
    assert [h.rule for h in hits] == [Rule.STALLED] and hits[0].severity is SERIOUS


def test_tension_ticked_in_two_of_three_is_recurring_tension() -> None:
    tense = {"flags": frozenset({TherapistFlag.TENSION})}
    history = couple([(8, 8)] * 3, extras={1: tense, 3: tense})
    assert [h.rule for h in evaluate(history, COUPLE)] == [Rule.RECURRING_TENSION]
    assert evaluate(history[:1], COUPLE) == []


def test_optimism_gap_is_a_client_total_falling_while_the_rating_holds() -> None:
    history = [record(i, {"A": 8}, client_scores={"A": s}) for i, s in enumerate([37, 38, 37, 29], start=1)]
    hits = evaluate(history, ("A",))
    assert Rule.OPTIMISM_GAP in [h.rule for h in hits]
    held_down = history[:3] + [record(4, {"A": 5}, client_scores={"A": 29})]
    assert Rule.OPTIMISM_GAP not in [h.rule for h in evaluate(held_down, ("A",))]


def test_one_low_unit_rating_is_weak_couple_alliance_not_low_alliance_and_one_warning() -> None:
    history = couple([(8, 8), (8, 8), (8, 8), (8, 8)]) + [record(5, {"A": 8, "B": 8, "unit": 4, "collective": 8})]
    hits = evaluate(history, COUPLE)
    assert Rule.LOW_ALLIANCE not in [h.rule for h in hits] and Rule.WEAK_COUPLE_ALLIANCE in [h.rule for h in hits]
    assert len({h.route for h in hits}) == 1  # the drop of the same number travels with it
    assert len(interrupting_posts(book_flags({}, hits, history[-1], 2))) == 1


def test_one_number_tripping_two_rules_is_one_warning_naming_both() -> None:
    history = couple([(8, 8), (8, 8), (8, 8), (8, 4)])
    hits = evaluate(history, COUPLE)
    assert {h.route for h in hits} == {Route.SUPERVISION}
    low = next(h for h in hits if h.rule is Rule.LOW_ALLIANCE)
    assert Rule.ALLIANCE_DROP in low.also and Rule.SPLIT_ALLIANCE in low.also
    assert len(interrupting_posts(book_flags({}, hits, history[-1], 2))) == 1


@pytest.mark.parametrize("ratings, severity", [((8, 5), NOTICE), ((8, 3), SERIOUS)])
def test_the_first_two_check_ins_are_notices_unless_at_three_or_below(ratings: tuple[int, int],
                                                                      severity: int) -> None:
    hits = evaluate(couple([(8, 8), ratings]), COUPLE)
    assert {h.severity for h in hits if h.rule is Rule.LOW_ALLIANCE} == {severity}


def test_a_single_noisy_dip_of_two_is_at_most_a_notice() -> None:
    hits = evaluate(couple([(8, 8), (8, 8), (8, 8), (8, 8), (8, 6)]), COUPLE)
    assert all(h.severity is NOTICE for h in hits) and hits


def test_absent_threads_are_skipped_by_every_rule() -> None:
    history = couple([(8, 8), (8, 8), (8, 8), (8, None), (8, 8)])
    for end in range(1, 6):
        assert evaluate(history[:end], COUPLE) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(0, 10)), st.integers(0, 10)), min_size=1, max_size=8),
       st.lists(st.sampled_from(["none", "withdrawal:A", "withdrawal:B", "confrontation:A"]), min_size=8, max_size=8))
def test_swapping_a_and_b_never_changes_a_result(rows: list[tuple[int | None, int]], ruptures: list[str]) -> None:
    def build(swap: bool) -> list[CheckinRecord]:
        out = []
        for i, (a, b) in enumerate(rows, start=1):
            kind, _, who = ruptures[i - 1].partition(":")
            if swap:
                a, b = b, a  # type: ignore[assignment]
                who = {"A": "B", "B": "A"}.get(who, who)
            rupture = Rupture(RuptureKind(kind), (who,) if who else ())
            out.append(record(i, {"A": a, "B": b, "unit": 7, "collective": 7}, rupture=rupture))
        return out

    def shape(history: list[CheckinRecord]) -> list[tuple[Rule, int]]:
        return sorted((h.rule, int(h.severity)) for h in evaluate(history, COUPLE))

    assert shape(build(False)) == shape(build(True))


def test_every_rule_is_one_registry_entry_with_known_thresholds_and_themes() -> None:
    assert [e.rule for e in REGISTRY] == list(Rule)
    assert [e.title for e in REGISTRY][:3] == ["Low alliance", "Split alliance", "Alliance drop"]
    for item in REGISTRY:
        assert set(item.thresholds) <= set(THRESHOLD_SPECS), item.rule
        assert item.themes and item.window(Thresholds()) >= 0
        assert Rule(item.rule).title == item.title
    assert Rule.NO_RECENT_CHECKIN not in [e.rule for e in EVALUATED]


def test_client_flags_never_close_for_lack_of_data() -> None:
    flags = {"client_rated_low": OpenFlag("client_rated_low", Route.DM, True, 1)}
    without = record(5, {"A": 8})
    (step,) = book_flags(flags, [], without, close_after=2)
    assert step.change is Change.HOLD and step.quiet == 1
    (step,) = book_flags(flags, [], record(5, {"A": 8}, client_scores={"A": 39}), close_after=2)
    assert step.change is Change.CLOSE


def test_a_backfilled_session_is_nobodys_quiet_check_in() -> None:
    flags = {"split_alliance": OpenFlag("split_alliance", Route.DM, True, 1)}
    (step,) = book_flags(flags, [], record(3, {"A": 8, "B": 8}), close_after=2, count_quiet=False)
    assert step.change is Change.HOLD and step.quiet == 1


def test_a_notice_interrupts_nobody_and_posts_when_it_becomes_a_warning() -> None:
    history = couple([(8, 8), (8, 5)])
    (notice,) = [h for h in evaluate(history, COUPLE) if h.rule is Rule.LOW_ALLIANCE]
    steps = book_flags({}, [notice], history[-1], 2)
    assert interrupting_posts(steps) == [] and steps[0].route is Route.SUMMARY
    later = couple([(8, 8), (8, 5), (8, 5)])
    hits = evaluate(later, COUPLE)
    steps = book_flags({"low_alliance": OpenFlag("low_alliance", Route.SUMMARY, False, 0)}, hits, later[-1], 2)
    assert Route.DM in interrupting_posts(steps) or Route.SUPERVISION in interrupting_posts(steps)


@pytest.mark.parametrize("own, team, n, expected", [
    (7.0, 8.0, 29, 0.0),  # too few check-ins
    (7.0, 8.0, 100, -1.0),  # shrunk to 200 / 220 of -1, then whole points
    (7.6, 8.0, 100, 0.0),  # shrunk -0.33: less than half a point
    (7.3, 8.0, 100, -1.0),  # shrunk -0.58: rounds to a whole point
    (5.0, 8.0, 100, -1.0),  # capped
    (9.5, 8.0, 100, 1.0),
    (8.0, 8.0, 100, 0.0),
])
def test_rater_offset_is_shrunk_capped_and_waits_for_thirty(own: float, team: float, n: int,
                                                          expected: float) -> None:
    assert rater_offset([own] * n, [team] * 500) == expected


def test_calibration_gives_a_conservative_rater_the_typical_signal_and_can_be_off() -> None:
    typical = solo([8, 8, 8, 8, 5])
    conservative = solo([7, 7, 7, 7, 4])
    offset = rater_offset([7.0] * 100, [8.0] * 500)
    assert [h.rule for h in evaluate(typical, ("A",))] == [h.rule for h in evaluate(conservative, ("A",), offset=offset)]
    off = Thresholds().with_value("calibration", "0")
    assert [h.rule for h in evaluate(solo([7, 7, 7, 7, 5]), ("A",), off, offset=-1.0)] == \
        [h.rule for h in evaluate(solo([7, 7, 7, 7, 5]), ("A",), off)]
    assert Rule.LOW_ALLIANCE in [h.rule for h in evaluate(solo([7, 7, 7, 7, 5]), ("A",), off, offset=-1.0)]


def test_the_offset_matters_only_where_some_possible_offset_changes_the_hits() -> None:
    from bot.domain.calibration import POSSIBLE_OFFSETS
    from bot.domain.rules import offset_matters

    assert POSSIBLE_OFFSETS == (-1.0, 0.0, 1.0)  # whole points within the cap: rater_offset gives no other
    assert {rater_offset([m] * 100, [8.0] * 500) for m in (1.0, 6.0, 7.0, 7.6, 8.0, 8.4, 9.0, 10.0)} <= set(POSSIBLE_OFFSETS)
    assert not offset_matters([solo([8, 8, 8, 8, 8])], ("A",))
    assert offset_matters([solo([7, 7, 7, 7, 5])], ("A",))  # below 6, not below 5
    assert offset_matters([solo([8, 8, 8, 8, 8]), solo([7, 7, 7, 7, 5])], ("A",))  # any of them
    assert not offset_matters([solo([7, 7, 7, 7, 5])], ("A",), Thresholds().with_value("calibration", "0"))


def test_each_possible_offset_is_evaluated_once_as_evaluate_would() -> None:
    """What the check-in's evaluation reuses (bot/usecases/calibration.py offset_and_hits):
    one evaluation per possible offset, each what `evaluate` says at it."""
    from bot.domain.calibration import POSSIBLE_OFFSETS
    from bot.domain.rules import evaluate_at_each_offset

    history = solo([7, 7, 7, 7, 5])
    by_offset = evaluate_at_each_offset(history, ("A",))
    assert tuple(by_offset) == POSSIBLE_OFFSETS
    assert all(hits == evaluate(history, ("A",), Thresholds(), offset) for offset, hits in by_offset.items())
    assert by_offset[-1.0] != by_offset[0.0]  # this history is one where the offset matters
    off = Thresholds().with_value("calibration", "0")
    assert evaluate_at_each_offset(history, ("A",), off) == {0.0: evaluate(history, ("A",), off)}


@given(st.lists(st.floats(min_value=0, max_value=10), max_size=80), st.lists(st.floats(min_value=0, max_value=10), max_size=80))
@settings(max_examples=200, deadline=None)
def test_every_offset_a_rater_can_get_is_one_the_shortcut_tries(own: list[float], team: list[float]) -> None:
    """`offset_matters` tries POSSIBLE_OFFSETS only: the shortcut is exact as long as no other can occur."""
    from bot.domain.calibration import POSSIBLE_OFFSETS

    assert rater_offset(own, team, min_checkins=1) in POSSIBLE_OFFSETS


def test_rule_windows_are_enough_history() -> None:
    assert entry(Rule.STALLED).window(Thresholds()) == 4
    assert thread_names(COUPLE) == ["A", "B", "unit", "collective"]


def test_therapist_stuck_once_is_a_notice_and_twice_in_three_is_serious() -> None:
    stuck = {"flags": frozenset({TherapistFlag.STUCK})}
    once = couple([(8, 8)] * 3, extras={3: stuck})
    assert [(h.rule, h.severity) for h in evaluate(once, COUPLE)] == [(Rule.THERAPIST_STUCK, NOTICE)]
    twice = couple([(8, 8)] * 3, extras={1: stuck, 3: stuck})
    (hit,) = evaluate(twice, COUPLE)
    assert hit.severity is SERIOUS and "ticked in 2 of the last 3 check-ins (sessions 1, 3)" in hit.evidence


def test_a_drop_that_stays_in_the_healthy_zone_is_a_notice_and_a_fall_of_four_is_serious() -> None:
    high = couple([(10, 10), (10, 10), (10, 10), (10, 7)], unit=9)
    assert {(h.rule, h.severity) for h in evaluate(high, COUPLE)} == {
        (Rule.ALLIANCE_DROP, NOTICE), (Rule.SPLIT_ALLIANCE, NOTICE)}  # a gap of exactly 3: a notice too
    steep = couple([(8, 8), (8, 8), (8, 8), (8, 4)])
    drop = next(h for h in evaluate(steep, COUPLE) if h.rule is Rule.ALLIANCE_DROP)
    assert drop.severity is SERIOUS
