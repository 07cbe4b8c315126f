"""The sandbox's clock: real time plus an offset that only moves forward, so
"next Friday 15:00" can be reached without waiting for it."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NEXT = re.compile(r"^(?:next\s+)?(" + "|".join(DAYS) + r")\s+(\d{1,2}):(\d{2})$")
_PLUS = re.compile(r"^\+\s*(\d{1,3})\s*(minute|hour|day|week)s?$")
_UNITS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}
USAGE = 'Say "next Friday 15:00", "+1 day", "+3 hours" or a date-time such as 2026-12-11T15:00.'


class SandboxClock:
    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self._offset = offset
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return datetime.now(timezone.utc) + self._offset

    @property
    def offset(self) -> timedelta:
        return self._offset

    def epoch(self) -> float:
        return self().timestamp()

    def move_to(self, moment: datetime) -> datetime:
        """Jump forward to `moment`; the clock never goes back (stored check-ins and
        sent messages would then lie in the future)."""
        with self._lock:
            now = datetime.now(timezone.utc) + self._offset
            if moment < now - timedelta(seconds=1):
                raise ValueError("The sandbox clock only moves forward.")
            self._offset = moment - datetime.now(timezone.utc)
        return moment


def parse_when(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """"next Friday 15:00" (in `zone`, strictly after now), "+1 day", or ISO-8601."""
    cleaned = " ".join(text.strip().lower().split())
    matched = _NEXT.match(cleaned)
    if matched:
        weekday, hour, minute = DAYS.index(matched[1]), int(matched[2]), int(matched[3])
        if hour > 23 or minute > 59:
            raise ValueError(f"{hour}:{minute:02d} is not a time of day. {USAGE}")
        local = now.astimezone(zone)
        for days_ahead in range(0, 8):
            day = local.date() + timedelta(days=days_ahead)
            if day.weekday() != weekday:
                continue
            candidate = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
            if candidate > now:
                return candidate
        raise AssertionError("a weekday recurs within eight days")
    matched = _PLUS.match(cleaned)
    if matched:
        return now + int(matched[1]) * _UNITS[matched[2]]
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"Cannot read {text.strip()!r} as a time. {USAGE}") from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment
