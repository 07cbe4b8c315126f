"""Small pieces of English that counts and ranges need: `1 thread`, `Sessions 2–5`."""

from __future__ import annotations

from datetime import date

IRREGULAR = {"reply": "replies", "check-in": "check-ins"}


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`1 thread`, `2 threads`, `0 threads`; `many` for an irregular plural."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {many or IRREGULAR.get(noun) or noun + 's'}"


def span(noun: str, first: int, last: int, many: str | None = None) -> str:
    """`session 3` for one item, `sessions 1–4` for several (en dash, no spaces)."""
    if first == last:
        return f"{noun} {first}"
    return f"{many or noun + 's'} {first}–{last}"


def short_day(day: date) -> str:
    """`Mon 22 Feb`: no leading zero, English names whatever the locale."""
    return f"{'Mon Tue Wed Thu Fri Sat Sun'.split()[day.weekday()]} {day.day} " \
           f"{'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split()[day.month - 1]}"


def day_range(first: date, last: date) -> str:
    """`Mon 22 Feb – Sun 28 Feb`, or one day alone."""
    return short_day(first) if first == last else f"{short_day(first)} – {short_day(last)}"
