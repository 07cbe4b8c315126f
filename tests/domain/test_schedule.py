"""Weekly moments in a time zone, due windows, period keys and snoozes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.schedule import (
    Weekly,
    describe_local,
    is_due,
    latest_moment,
    local_instant,
    next_moment,
    next_working_day_at,
    parse_clock,
    previous_moment,
    week_key,
    zone_named,
)

UTC = timezone.utc
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
FRIDAY_3PM = Weekly(weekday=4, at=time(15, 0))
ZONES = [NEW_YORK, TOKYO, ZoneInfo("Europe/Berlin"), ZoneInfo("Australia/Lord_Howe"), ZoneInfo("UTC")]


def test_friday_afternoon_in_new_york_and_tokyo() -> None:
    now = datetime(2026, 11, 20, 20, 5, tzinfo=UTC)  # Friday 15:05 EST, Saturday 05:05 JST
    assert latest_moment(now, FRIDAY_3PM, NEW_YORK) == datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
    assert latest_moment(now, FRIDAY_3PM, TOKYO) == datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    grace = timedelta(hours=6)
    assert is_due(now, latest_moment(now, FRIDAY_3PM, NEW_YORK), grace)
    assert not is_due(now, latest_moment(now, FRIDAY_3PM, TOKYO), grace)


def test_before_this_weeks_moment_the_latest_is_last_weeks() -> None:
    thursday = datetime(2026, 11, 19, 12, 0, tzinfo=UTC)
    assert latest_moment(thursday, FRIDAY_3PM, NEW_YORK) == datetime(2026, 11, 13, 20, 0, tzinfo=UTC)
    assert next_moment(thursday, FRIDAY_3PM, NEW_YORK) == datetime(2026, 11, 20, 20, 0, tzinfo=UTC)


def test_the_local_hour_holds_across_the_autumn_change() -> None:
    before = datetime(2026, 10, 30, 19, 0, tzinfo=UTC)  # 15:00 EDT
    after = datetime(2026, 11, 6, 20, 0, tzinfo=UTC)  # 15:00 EST
    assert latest_moment(datetime(2026, 11, 6, 20, 30, tzinfo=UTC), FRIDAY_3PM, NEW_YORK) == after
    assert latest_moment(datetime(2026, 11, 6, 19, 30, tzinfo=UTC), FRIDAY_3PM, NEW_YORK) == before
    assert previous_moment(after, FRIDAY_3PM, NEW_YORK) == before  # 169 hours: a calendar week
    assert after - before == timedelta(hours=169)


def test_a_time_inside_the_spring_gap_is_the_instant_the_clocks_jump() -> None:
    sunday_0230 = Weekly(weekday=6, at=time(2, 30))
    moment = latest_moment(datetime(2026, 3, 8, 12, 0, tzinfo=UTC), sunday_0230, NEW_YORK)
    assert moment == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT
    assert local_instant(date(2026, 3, 9), time(2, 30), NEW_YORK) == datetime(2026, 3, 9, 6, 30, tzinfo=UTC)


def test_grace_window_edges() -> None:
    moment = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    grace = timedelta(hours=24)
    assert not is_due(moment - timedelta(seconds=1), moment, grace)
    assert is_due(moment, moment, grace)
    assert is_due(moment + grace - timedelta(seconds=1), moment, grace)
    assert not is_due(moment + grace, moment, grace)


def test_week_keys_are_iso_weeks_of_the_local_date() -> None:
    assert week_key(datetime(2026, 11, 20, 20, 0, tzinfo=UTC), NEW_YORK) == "2026-W47"
    assert week_key(datetime(2027, 1, 1, 12, 0, tzinfo=UTC), NEW_YORK) == "2026-W53"
    # Sunday night in New York is already Monday in Tokyo: another week there.
    sunday_night = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert (week_key(sunday_night, NEW_YORK), week_key(sunday_night, TOKYO)) == ("2026-W47", "2026-W48")


@pytest.mark.parametrize("local_now, expected", [
    (datetime(2026, 11, 20, 15, 5), datetime(2026, 11, 23, 9, 0)),  # Friday → Monday
    (datetime(2026, 11, 18, 23, 59), datetime(2026, 11, 19, 9, 0)),  # Wednesday → Thursday
    (datetime(2026, 11, 21, 10, 0), datetime(2026, 11, 23, 9, 0)),  # Saturday → Monday
    (datetime(2026, 10, 30, 16, 0), datetime(2026, 11, 2, 9, 0)),  # over the clock change
])
def test_snooze_ends_at_nine_on_the_next_working_day(local_now: datetime, expected: datetime) -> None:
    for zone in (NEW_YORK, TOKYO):
        now = local_now.replace(tzinfo=zone)
        until = next_working_day_at(now, zone)
        assert until.astimezone(zone).replace(tzinfo=None) == expected
        assert until.tzinfo == UTC
    assert describe_local(next_working_day_at(datetime(2026, 11, 20, 20, 5, tzinfo=UTC), NEW_YORK),
                          NEW_YORK) == "Mon 23 Nov, 09:00"


def test_clock_and_zone_parsing() -> None:
    assert parse_clock("9:05") == time(9, 5) and parse_clock("23:59") == time(23, 59)
    for bad in ("24:00", "9", "09:60", "nine"):
        with pytest.raises(ValueError):
            parse_clock(bad)
    with pytest.raises(ValueError):
        Weekly(weekday=7, at=time(9))
    assert zone_named("Asia/Tokyo", "UTC") == TOKYO
    assert zone_named("Mars/Olympus", "America/New_York") == NEW_YORK
    assert zone_named(None, "America/New_York") == NEW_YORK
    with pytest.raises(ValueError):
        latest_moment(datetime(2026, 11, 20, 12, 0), FRIDAY_3PM, NEW_YORK)


@given(
    now=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)),
    weekday=st.integers(0, 6),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    zone=st.sampled_from(ZONES),
)
def test_latest_and_next_moments_bracket_now(now: datetime, weekday: int, hour: int, minute: int,
                                             zone: ZoneInfo) -> None:
    weekly = Weekly(weekday, time(hour, minute))
    latest, upcoming = latest_moment(now, weekly, zone), next_moment(now, weekly, zone)
    assert latest <= now < upcoming
    assert timedelta(days=7) - timedelta(hours=2) <= upcoming - latest <= timedelta(days=7) + timedelta(hours=2)
    assert latest.astimezone(zone).weekday() == weekday
    assert previous_moment(upcoming, weekly, zone) == latest
