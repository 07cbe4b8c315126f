"""Choosing and rotating reflection questions: pure, no fixtures."""

from __future__ import annotations

import ast
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import questions
from bot.domain.questions import (
    THEMES,
    themes_by_rule,
    QuestionRef,
    choose_questions,
    themes_for,
)

COUNTS = {theme: 8 for theme in THEMES}
NOW = datetime(2024, 5, 6, 9, 0, tzinfo=timezone.utc)
RULE_SLUGS = (
    "recurring_tension",
    "low_alliance",
    "split_alliance",
    "alliance_drop",
    "weak_couple_alliance",
    "stalled",
    "repeated_rupture",
    "therapist_stuck",
    "client_rated_low",
    "optimism_gap",
    "no_recent_checkin",
)


def shown(refs, at):
    return {ref.key: at for ref in refs}


def test_domain_module_imports_only_the_standard_library():
    tree = ast.parse(Path(questions.__file__).read_text())
    imported = {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    } | {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert imported <= {"__future__", "dataclasses", "datetime", "typing", "bot"}  # bot: only bot.domain.rule_registry (test_purity)


def test_every_rule_has_a_known_theme():
    assert set(themes_by_rule()) == set(RULE_SLUGS)
    for themes in themes_by_rule().values():
        assert themes and set(themes) <= set(THEMES)


@pytest.mark.parametrize(
    ("rule", "theme"),
    [
        ("split_alliance", "split"),
        ("low_alliance", "split"),
        ("client_rated_low", "split"),
        ("alliance_drop", "rupture"),
        ("repeated_rupture", "rupture"),
        ("weak_couple_alliance", "weak_unit"),
        ("stalled", "stalled"),
        ("therapist_stuck", "therapist"),
        ("optimism_gap", "therapist"),
        ("no_recent_checkin", "missing"),
    ],
)
def test_rule_maps_to_its_theme(rule, theme):
    assert themes_for([rule]) == [theme]


def test_themes_are_ordered_and_deduplicated():
    assert themes_for(["alliance_drop", "split_alliance", "repeated_rupture", "low_alliance"]) == [
        "rupture",
        "split",
    ]


def test_resistance_flag_adds_the_resistance_theme():
    assert themes_for(["stalled"], {"resistance", "stuck"}) == ["stalled", "resistance"]
    assert themes_for([], ["resistance"]) == ["resistance"]
    assert themes_for(["stalled"], ["tension"]) == ["stalled"]


def test_unknown_rules_add_nothing():
    assert themes_for(["no_such_rule", "stalled"]) == ["stalled"]


def test_question_key_round_trips():
    ref = QuestionRef("weak_unit", 3)
    assert ref.key == "weak_unit:3"
    assert QuestionRef.from_key(ref.key) == ref
    with pytest.raises(ValueError):
        QuestionRef.from_key("weak_unit")


def test_fresh_therapist_gets_the_first_questions():
    assert choose_questions(["stalled"], COUNTS, {}) == [
        QuestionRef("stalled", 0),
        QuestionRef("stalled", 1),
    ]


def test_just_shown_questions_are_not_repeated_next_time():
    first = choose_questions(["split"], COUNTS, {})
    second = choose_questions(["split"], COUNTS, shown(first, NOW))
    assert not set(first) & set(second)


def test_rotation_cycles_through_a_whole_theme_before_repeating():
    last_shown: dict[str, datetime] = {}
    seen: list[QuestionRef] = []
    for week in range(4):  # 4 warnings x 2 questions = all 8 questions
        refs = choose_questions(["rupture"], COUNTS, last_shown)
        seen.extend(refs)
        last_shown.update(shown(refs, NOW + timedelta(days=7 * week)))
    assert sorted(seen, key=lambda r: r.index) == [QuestionRef("rupture", i) for i in range(8)]
    # The fifth warning starts again from the oldest ones.
    assert choose_questions(["rupture"], COUNTS, last_shown) == [
        QuestionRef("rupture", 0),
        QuestionRef("rupture", 1),
    ]


def test_least_recently_shown_comes_first():
    last_shown = {
        f"stalled:{i}": NOW - timedelta(days=i) for i in range(8)
    }  # 7 is the oldest
    assert choose_questions(["stalled"], COUNTS, last_shown) == [
        QuestionRef("stalled", 7),
        QuestionRef("stalled", 6),
    ]


def test_questions_are_spread_across_themes():
    refs = choose_questions(["split", "rupture", "therapist"], COUNTS, {})
    assert len(refs) == 4
    assert [r.theme for r in refs] == ["split", "rupture", "therapist", "split"]


def test_two_themes_get_at_least_one_each():
    refs = choose_questions(["weak_unit", "resistance"], COUNTS, {})
    assert {r.theme for r in refs} == {"weak_unit", "resistance"}
    assert 2 <= len(refs) <= 4


def test_many_themes_are_capped_at_k_max():
    refs = choose_questions(list(THEMES), COUNTS, {})
    assert len(refs) == 4
    assert len({r.theme for r in refs}) == 4


def test_small_themes_fill_up_from_the_others():
    refs = choose_questions(["split", "missing"], {"split": 1, "missing": 8}, {}, k_min=4)
    assert refs == [
        QuestionRef("split", 0),
        QuestionRef("missing", 0),
        QuestionRef("missing", 1),
        QuestionRef("missing", 2),
    ]


def test_fewer_than_k_min_only_when_fewer_exist():
    assert choose_questions(["split"], {"split": 1}, {}) == [QuestionRef("split", 0)]
    assert choose_questions(["unknown"], COUNTS, {}) == []
    assert choose_questions([], COUNTS, {}) == []


def test_choice_is_deterministic():
    last_shown = {"split:0": NOW, "split:2": NOW, "rupture:1": NOW - timedelta(days=3)}
    first = choose_questions(["split", "rupture"], COUNTS, last_shown)
    assert all(choose_questions(["split", "rupture"], COUNTS, last_shown) == first for _ in range(5))


def test_bad_bounds_are_rejected():
    with pytest.raises(ValueError):
        choose_questions(["split"], COUNTS, {}, k_min=5, k_max=4)


theme_lists = st.lists(st.sampled_from(THEMES + ("unknown",)), max_size=8)
count_maps = st.dictionaries(st.sampled_from(THEMES), st.integers(0, 10))
times = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(timezone.utc)
)


@st.composite
def histories(draw):
    keys = st.builds(lambda t, i: f"{t}:{i}", st.sampled_from(THEMES), st.integers(0, 12))
    return draw(st.dictionaries(keys, times, max_size=30))


@given(theme_lists, count_maps, histories(), st.integers(0, 4), st.integers(0, 4))
def test_property_size_within_bounds_and_refs_valid(themes, counts, last_shown, a, b):
    k_min, k_max = min(a, b), max(a, b)
    refs = choose_questions(themes, counts, last_shown, k_min=k_min, k_max=k_max)
    available = sum(counts.get(t, 0) for t in set(themes))
    assert len(refs) <= k_max
    assert len(refs) >= min(k_min, available)
    assert len(set(refs)) == len(refs)
    for ref in refs:
        assert ref.theme in themes
        assert 0 <= ref.index < counts[ref.theme]
    assert refs == choose_questions(themes, counts, last_shown, k_min=k_min, k_max=k_max)


@given(count_maps.filter(lambda c: any(c.values())), histories())
def test_property_each_theme_with_questions_is_used_before_any_repeats(counts, last_shown):
    themes = [t for t in THEMES if counts.get(t, 0) > 0]
    refs = choose_questions(themes, counts, last_shown)
    used = [r.theme for r in refs]
    if len(refs) <= len(themes):
        assert len(set(used)) == len(used)
    else:
        assert set(used) == set(themes)


@given(st.sampled_from(THEMES), histories())
def test_property_a_just_shown_question_is_not_chosen_again_while_others_wait(theme, last_shown):
    counts = {theme: 8}
    first = choose_questions([theme], counts, last_shown)
    later = max(list(last_shown.values()) + [NOW]) + timedelta(days=1)
    second = choose_questions([theme], counts, {**last_shown, **shown(first, later)})
    assert not set(first) & set(second)
