"""A case's session cadence (issue 14): weekly, every two weeks or monthly.

A cadence is a number of weeks between sessions. The weekly reminder asks about
a case only when its last session (or, before any, the day the cadence was set)
is at least a cadence ago, less one week: a fortnightly case logged last week
is not asked about this week. Silence waits the cadence out too."""

from __future__ import annotations

from datetime import datetime, timedelta

WEEKLY, FORTNIGHTLY, MONTHLY = 1, 2, 4
NAMES = {WEEKLY: "weekly", FORTNIGHTLY: "every 2 weeks", MONTHLY: "monthly"}
_TYPED = {
    "weekly": WEEKLY, "1w": WEEKLY, "week": WEEKLY,
    "2w": FORTNIGHTLY, "fortnightly": FORTNIGHTLY, "biweekly": FORTNIGHTLY, "every 2 weeks": FORTNIGHTLY,
    "4w": MONTHLY, "monthly": MONTHLY, "month": MONTHLY,
}
TYPED_FORMS = "weekly, 2w (every 2 weeks) or monthly"


def read_cadence(text: str) -> int | None:
    """Weeks between sessions for what was typed (`weekly`, `2w`, `every 2 weeks`, `monthly`), else None."""
    return _TYPED.get(" ".join(text.lower().replace("_", " ").split()))


def cadence_name(weeks: int) -> str:
    return NAMES.get(weeks, f"every {weeks} weeks")


def due_in_week(week_starts: datetime, reference: datetime, weeks: int) -> bool:
    """Whether a case seen every `weeks` weeks is due a check-in in the reminder
    week that starts at `week_starts`, its last session (or cadence start) being
    `reference`. Weekly: anything before this week. Every N weeks: before this
    week's start less N-1 weeks."""
    return reference < week_starts - timedelta(weeks=max(weeks, 1) - 1)


def silence_days(silent_days: int, weeks: int) -> int:
    """Days without a check-in before a case counts as silent, for its cadence."""
    return silent_days + 7 * (max(weeks, 1) - 1)
