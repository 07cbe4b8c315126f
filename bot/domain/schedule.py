"""Time math for scheduled messages: when a weekly moment falls in a time zone,
whether it is due, the period key that makes it unique, and when a snooze ends.

Every datetime handed out here is aware and in UTC, so comparisons and
arithmetic never silently use wall-clock time. Local times go through
zoneinfo, so a weekly moment stays at the same local hour across daylight-saving
changes; a local time that does not exist on the day (inside the spring-forward
gap) resolves to the instant the clocks jump past it (PEP 495, fold=0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEK = timedelta(days=7)
WORKING_DAYS = range(0, 5)  # Monday … Friday
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Weekly:
    """A moment that recurs every week: a weekday (Monday=0) and a local time."""

    weekday: int
    at: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError("weekday must be 0 (Monday) to 6 (Sunday)")

    def describe(self) -> str:
        """`Friday 15:00`."""
        return f"{WEEKDAY_NAMES[self.weekday]} {self.at.strftime('%H:%M')}"


DEFAULT_WEEKLY = Weekly(weekday=4, at=time(15, 0))  # reminders: Friday 15:00, each therapist's time
DIGEST_WEEKLY = Weekly(weekday=0, at=time(9, 0))  # the digest: Monday 09:00, workspace time


def parse_clock(text: str) -> time:
    """`15:00` → 15:00; raises ValueError for anything but a 24-hour HH:MM."""
    match = _CLOCK.match(text.strip())
    if not match:
        raise ValueError(f"not a 24-hour HH:MM time: {text!r}")
    return time(int(match.group(1)), int(match.group(2)))


@lru_cache(maxsize=512)
def zone_named(name: str | None, fallback: str) -> ZoneInfo:
    """The IANA zone `name`, or `fallback` when it is empty or unknown."""
    for candidate in (name, fallback):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("schedule math needs a timezone-aware datetime")


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of local `day` `at` in `zone`."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(timezone.utc)


def moment_in_week(day: date, weekly: Weekly, zone: ZoneInfo) -> datetime:
    """The weekly moment of the ISO week (Monday–Sunday) that contains `day`."""
    monday = day - timedelta(days=day.weekday())
    return local_instant(monday + timedelta(days=weekly.weekday), weekly.at, zone)


def latest_moment(now: datetime, weekly: Weekly, zone: ZoneInfo) -> datetime:
    """The most recent occurrence of the weekly moment at or before `now`."""
    _require_aware(now)
    today = now.astimezone(zone).date()
    moment = moment_in_week(today, weekly, zone)
    if moment > now:
        moment = moment_in_week(today - WEEK, weekly, zone)
    return moment


def previous_moment(moment: datetime, weekly: Weekly, zone: ZoneInfo) -> datetime:
    """The occurrence a week before `moment`, by the local calendar (not 168 hours)."""
    return moment_in_week(moment.astimezone(zone).date() - WEEK, weekly, zone)


def is_due(now: datetime, moment: datetime, grace: timedelta) -> bool:
    """Whether `moment` has come and is less than `grace` old: a run that fell due
    while nothing was running is still made up within the grace window, never later."""
    _require_aware(now)
    return moment <= now < moment + grace


def week_key(moment: datetime, zone: ZoneInfo) -> str:
    """The ISO week of `moment`'s local date: `2026-W47` (the period of a weekly key)."""
    year, week, _ = moment.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


def next_working_day_at(now: datetime, zone: ZoneInfo, at: time = time(9, 0)) -> datetime:
    """`at` on the first Monday–Friday after `now`'s local date: where a snooze ends."""
    _require_aware(now)
    day = now.astimezone(zone).date() + timedelta(days=1)
    while day.weekday() not in WORKING_DAYS:
        day += timedelta(days=1)
    return local_instant(day, at, zone)


def minute_key(moment: datetime) -> str:
    """`2026-11-23T14:00Z`: a UTC minute, for keys of one-off moments."""
    _require_aware(moment)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


def days_between(earlier: datetime, later: datetime) -> int:
    """Whole days from `earlier` to `later` (0 when `later` is not after it)."""
    return max((later - earlier).days, 0)


def next_moment(now: datetime, weekly: Weekly, zone: ZoneInfo) -> datetime:
    """The first occurrence of the weekly moment after `now`."""
    _require_aware(now)
    today = now.astimezone(zone).date()
    moment = moment_in_week(today, weekly, zone)
    return moment if moment > now else moment_in_week(today + WEEK, weekly, zone)


def describe_local(moment: datetime, zone: ZoneInfo) -> str:
    """`Mon 23 Nov, 09:00` in `zone`."""
    local = moment.astimezone(zone)
    return f"{local.strftime('%a')} {local.day} {local.strftime('%b, %H:%M')}"
