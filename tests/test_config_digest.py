"""`/alliance config digest DAY HH:MM`: admins move the weekly digest; the sweep follows."""

from __future__ import annotations

from datetime import datetime, timezone

from bot.runtime.bootstrap import Runtime
from tests.conftest import ADMIN, SUPERVISION_CHANNEL
from tests.support.driver import SlackDriver
from tests.test_checkins_e2e import THERAPIST
from tests.support.outbox import run_and_deliver

MONDAY_0905_NY = datetime(2026, 11, 23, 14, 5, tzinfo=timezone.utc)
WEDNESDAY_1405_NY = datetime(2026, 11, 25, 19, 5, tzinfo=timezone.utc)


def digests(slack: SlackDriver) -> int:
    return len([c for c in slack.standin.calls_to("chat.postMessage") if c.args["channel"] == SUPERVISION_CHANNEL])


def test_admins_move_the_digest_and_the_sweep_follows(slack: SlackDriver, runtime: Runtime) -> None:
    assert "Monday 09:00 (America/New_York)" in slack.command(THERAPIST, "config show").text
    assert "Only Alliance admins" in slack.command(THERAPIST, "config digest wednesday 14:00").text
    assert "not a day of the week" in slack.command(ADMIN, "config digest someday 14:00").text
    assert "now goes out on Wednesdays at 14:00" in slack.command(ADMIN, "config digest wed 14:00").text
    assert "Wednesday 14:00" in slack.command(THERAPIST, "config show").text

    assert run_and_deliver(runtime, "digest", MONDAY_0905_NY).notes == ("not due",)
    assert digests(slack) == 0
    run_and_deliver(runtime, "digest", WEDNESDAY_1405_NY)
    assert digests(slack) == 1


FRIDAY_1505_NY = datetime(2026, 11, 20, 20, 5, tzinfo=timezone.utc)
MONDAY_1005_NY = datetime(2026, 11, 23, 15, 5, tzinfo=timezone.utc)


def reminded(slack: SlackDriver, user: str) -> int:
    return len([c for c in slack.standin.calls_to("chat.postMessage")
                if c.args["channel"] == user and "check-in" in (c.args.get("text") or "").lower()])


def test_the_workspace_reminder_time_applies_to_those_who_chose_none(slack: SlackDriver, runtime: Runtime) -> None:
    from tests.test_checkins_e2e import OTHER, create_case

    create_case(slack, user=THERAPIST)
    create_case(slack, user=OTHER)
    slack.command(OTHER, "remind friday 15:00")  # OTHER chooses Friday 15:00 for themself
    assert "Friday 15:00" in slack.command(THERAPIST, "config show").text
    assert "now go out on Mondays at 10:00" in slack.command(ADMIN, "config reminders monday 10:00").text

    run_and_deliver(runtime, "reminders", FRIDAY_1505_NY)
    assert (reminded(slack, THERAPIST), reminded(slack, OTHER)) == (0, 1)
    run_and_deliver(runtime, "reminders", MONDAY_1005_NY)
    assert (reminded(slack, THERAPIST), reminded(slack, OTHER)) == (1, 1)
