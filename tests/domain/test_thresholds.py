"""Thresholds: defaults from SPEC §5, parsing what admins type, ranges, basis."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.thresholds import (
    LITERATURE,
    TEAM_DEFAULT,
    THRESHOLD_SPECS,
    ThresholdError,
    Thresholds,
    threshold_spec,
)

SPEC_DEFAULTS = {  # issue 13 retuned the rules: new keys, drop_points 3 (2 landing at 6 or below)
    "low_alliance": 6, "serious_level": 3, "split_gap": 3, "persist_count": 2, "persist_window": 3,
    "drop_baseline": 3, "drop_points": 3, "drop_points_low": 2, "drop_level": 6, "drop_serious": 4,
    "drop_sd": 2.0, "sd_floor": 0.75, "weak_unit": 5, "stalled_window": 4,
    "stalled_mean": 7.0, "stalled_rise": 1.0, "rupture_window": 4, "rupture_count": 2,
    "withdrawal_count": 2, "rupture_any_count": 3, "tension_window": 3, "tension_count": 2,
    "client_cutoff": 36, "optimism_fall": 5, "early_checkins": 2, "calibration": 1,
    "calibration_min_checkins": 30, "silent_days": 14, "silent_digest_days": 28,
    "flag_close_after": 2,
}


def test_keys_stored_by_earlier_versions_are_ignored_not_fatal() -> None:
    assert Thresholds.from_overrides({"split_hold_checkins": "3", "low_alliance": "5"}) == \
        Thresholds(low_alliance=5)


def test_defaults_are_the_numbers_of_the_spec() -> None:
    assert Thresholds().as_dict() == SPEC_DEFAULTS


def test_every_field_has_a_spec_in_field_order() -> None:
    assert list(THRESHOLD_SPECS) == [f.name for f in dataclasses.fields(Thresholds)]


@pytest.mark.parametrize("spec", THRESHOLD_SPECS.values(), ids=lambda s: s.key)
def test_each_default_is_allowed_and_of_its_kind(spec) -> None:
    assert type(spec.default) is spec.kind
    assert spec.min <= spec.default <= spec.max
    assert spec.description and "\n" not in spec.description


def test_only_the_two_literature_cut_offs_are_labelled_literature() -> None:
    literature = {key for key, spec in THRESHOLD_SPECS.items() if spec.basis == LITERATURE}
    assert literature == {"low_alliance", "client_cutoff"}
    assert all(s.basis in (LITERATURE, TEAM_DEFAULT) for s in THRESHOLD_SPECS.values())


def test_with_value_sets_one_threshold_and_leaves_the_original_alone() -> None:
    defaults = Thresholds()
    changed = defaults.with_value("low_alliance", " 7 ")
    assert changed.low_alliance == 7
    assert defaults.low_alliance == 6
    assert changed.as_dict() == {**SPEC_DEFAULTS, "low_alliance": 7}


def test_typed_keys_are_forgiving_about_case_and_dashes() -> None:
    assert Thresholds().with_value("Low-Alliance", "5").low_alliance == 5


def test_float_thresholds_take_decimals_and_whole_numbers() -> None:
    assert Thresholds().with_value("drop_sd", "2.5").drop_sd == 2.5
    changed = Thresholds().with_value("stalled_mean", "6")
    assert changed.stalled_mean == 6.0 and isinstance(changed.stalled_mean, float)


@pytest.mark.parametrize("raw", ["0", "11", "six", "6.5", "", "-1", "6 7"])
def test_a_bad_whole_number_names_the_allowed_range_and_an_example(raw: str) -> None:
    with pytest.raises(ThresholdError) as error:
        Thresholds().with_value("low_alliance", raw)
    assert str(error.value) == "low_alliance must be a whole number from 1 to 10, e.g. `/alliance config set low_alliance 6`"


@pytest.mark.parametrize("raw", ["0.4", "5.1", "nan", "inf", "two", "1e0"])
def test_a_bad_number_names_the_allowed_range_and_an_example(raw: str) -> None:
    with pytest.raises(ThresholdError, match=r"^drop_sd must be a number from 0\.5 to 5, e\.g\. `/alliance config set drop_sd 2`$"):
        Thresholds().with_value("drop_sd", raw)


def test_threshold_error_is_a_value_error() -> None:
    assert issubclass(ThresholdError, ValueError)


def test_an_unknown_key_lists_the_known_ones() -> None:
    with pytest.raises(ThresholdError, match="unknown threshold `low`; known: low_alliance, serious_level, split_gap"):
        Thresholds().with_value("low", "5")
    with pytest.raises(ThresholdError):
        threshold_spec("weak")


@pytest.mark.parametrize("spec", THRESHOLD_SPECS.values(), ids=lambda s: s.key)
def test_range_ends_are_accepted_and_just_outside_refused(spec) -> None:
    step = 1 if spec.kind is int else 0.01
    for edge in (spec.min, spec.max):
        value = spec.parse(str(spec.kind(edge)))
        assert value == edge and type(value) is spec.kind
    for outside in (spec.min - step, spec.max + step):
        with pytest.raises(ThresholdError, match=f"^{spec.key} must be "):
            spec.parse(str(spec.kind(outside)) if spec.kind is int else f"{outside:.2f}")


def test_rupture_count_cannot_exceed_its_window() -> None:
    with pytest.raises(ThresholdError, match="rupture_count \\(5\\) can be at most rupture_window \\(4\\)"):
        Thresholds().with_value("rupture_count", "5")
    with pytest.raises(ThresholdError, match="rupture_count"):
        Thresholds().with_value("rupture_window", "1")


def test_the_digest_cannot_come_before_the_reminder() -> None:
    with pytest.raises(ThresholdError, match="silent_digest_days \\(10\\) must be at least silent_days \\(14\\)"):
        Thresholds().with_value("silent_digest_days", "10")


def test_from_overrides_checks_consistency_once_all_are_applied() -> None:
    for overrides in ({"rupture_count": "5", "rupture_window": "6"},
                      {"rupture_window": "6", "rupture_count": "5"}):
        thresholds = Thresholds.from_overrides(overrides)
        assert (thresholds.rupture_count, thresholds.rupture_window) == (5, 6)
    with pytest.raises(ThresholdError):
        Thresholds.from_overrides({"rupture_count": "5"})


def test_from_overrides_refuses_bad_stored_values() -> None:
    with pytest.raises(ThresholdError, match="client_cutoff must be a whole number from 1 to 40"):
        Thresholds.from_overrides({"client_cutoff": "41"})
    with pytest.raises(ThresholdError, match="unknown threshold"):
        Thresholds.from_overrides({"nonsense": "1"})


def test_no_overrides_and_round_trips_give_the_defaults() -> None:
    assert Thresholds.from_overrides({}) == Thresholds()
    as_text = {key: str(value) for key, value in Thresholds().as_dict().items()}
    assert Thresholds.from_overrides(as_text) == Thresholds()


@given(st.sampled_from(list(THRESHOLD_SPECS.values())), st.data())
def test_any_value_in_range_is_accepted_and_any_outside_refused(spec, data) -> None:
    if spec.kind is int:
        inside = data.draw(st.integers(int(spec.min), int(spec.max)))
        outside = data.draw(st.integers(-1000, 1000).filter(lambda v: not spec.min <= v <= spec.max))
    else:
        inside = data.draw(st.floats(spec.min, spec.max).map(lambda v: round(v, 2))
                           .filter(lambda v: spec.min <= v <= spec.max))
        outside = data.draw(st.floats(-100, 100).map(lambda v: round(v, 2))
                            .filter(lambda v: not spec.min <= v <= spec.max))
    assert spec.parse(str(inside)) == inside
    with pytest.raises(ThresholdError):
        spec.parse(str(outside))
