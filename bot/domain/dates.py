"""Reading a typed `YYYY-MM-DD` date, and saying what is wrong with one that is not."""

from __future__ import annotations

import calendar
import re
from datetime import date

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")  # not calendar.month_name: that follows the locale
_ISO_SHAPE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def ordinal(day: int) -> str:
    """1st, 2nd, 3rd, 4th … 11th, 12th, 13th … 21st, 22nd, 30th, 31st."""
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


class DateProblem(ValueError):
    """Why a typed text is not a date, as one sentence for the person who typed it."""


def read_typed_date(text: str) -> date:
    """`2027-01-04` as a date. A calendar-invalid one is named as such
    ("February 2027 has no 30th."), any other shape gets the expected format."""
    text = text.strip()
    match = _ISO_SHAPE.match(text)
    if not match:
        shown = text[:16].replace("`", "'")
        raise DateProblem(f"`{shown}` is not a date as YYYY-MM-DD.")
    year, month, day = (int(part) for part in match.groups())
    if not 1 <= month <= 12:
        raise DateProblem(f"There is no month {month} (`{text}` is read as YYYY-MM-DD).")
    if year < 1:
        raise DateProblem(f"There is no year {year}.")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        nth = "0th" if day == 0 else ordinal(day)
        raise DateProblem(f"{MONTHS[month - 1]} {year} has no {nth}.")
    return date(year, month, day)
