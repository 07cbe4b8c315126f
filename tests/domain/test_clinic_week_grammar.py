"""Issue 14's new commands as the grammar reads them, and the cadence arithmetic."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.domain import grammar
from bot.domain.cadence import due_in_week, read_cadence, silence_days
from bot.domain.checkins import no_shows_in_a_row

MONDAY = datetime(2026, 11, 16, tzinfo=timezone.utc)


def test_the_new_commands_parse() -> None:
    assert grammar.parse_command("undo") == grammar.Undo()
    assert grammar.parse_command("edit cpl 7kq2 session=3 8,4,8,8 flags=stuck") == grammar.EditCheckin(
        code="CPL-7KQ2", session=3, ratings=("8", "4", "8", "8"), options={"flags": "stuck"})
    assert grammar.parse_command("missed CPL-7KQ2 no-show") == grammar.Missed(code="CPL-7KQ2", attendance="no_show")
    assert grammar.parse_command("missed CPL-7KQ2") == grammar.Missed(code="CPL-7KQ2", attendance="cancelled")
    assert grammar.parse_command("cadence CPL-7KQ2 every 2 weeks") == grammar.SetCadence(code="CPL-7KQ2", weeks=2)
    assert grammar.parse_command("new couple cadence=monthly").cadence == 4  # type: ignore[union-attr]


@pytest.mark.parametrize("text", ["edit CPL-7KQ2 8 8 8 8", "edit CPL-7KQ2 session=2", "missed CPL-7KQ2 ill",
                                  "cadence CPL-7KQ2 yearly", "undo now", "new couple cadence=3d"])
def test_bad_forms_get_one_line(text: str) -> None:
    with pytest.raises(grammar.CommandError) as raised:
        grammar.parse_command(text)
    assert "\n" not in raised.value.message and "Try `/alliance" in raised.value.message


def test_cadence_arithmetic() -> None:
    assert read_cadence("2W") == 2 and read_cadence("Monthly") == 4 and read_cadence("daily") is None
    last_week = MONDAY - timedelta(days=5)
    assert due_in_week(MONDAY, last_week, 1)
    assert not due_in_week(MONDAY, last_week, 2)  # fortnightly: its off week
    assert due_in_week(MONDAY + timedelta(weeks=1), last_week, 2)
    assert not due_in_week(MONDAY + timedelta(weeks=2), last_week, 4)
    assert silence_days(14, 1) == 14 and silence_days(14, 4) == 35


def test_two_no_shows_in_a_row() -> None:
    assert no_shows_in_a_row(["no_show", "no_show", "attended"])
    assert not no_shows_in_a_row(["no_show", "cancelled", "no_show"])
    assert not no_shows_in_a_row(["no_show"])
