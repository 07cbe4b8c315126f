"""`/alliance config supervisors`: admins name supervisors (people or user groups) in Slack."""

from __future__ import annotations

from bot.runtime.bootstrap import Runtime
from tests.conftest import ADMIN, SUPERVISOR
from tests.support.driver import SlackDriver
from tests.test_checkins_e2e import OTHER, THERAPIST, create_case

NEW_SUPERVISOR = "U0NEWSUP1"


def test_admins_add_supervisors_who_then_see_others_cases(slack: SlackDriver, runtime: Runtime) -> None:
    code = create_case(slack)
    assert "is not among your cases" in slack.command(NEW_SUPERVISOR, f"history {code}").text
    assert "Only Alliance admins" in slack.command(THERAPIST, f"config supervisors <@{NEW_SUPERVISOR}|lead>").text
    assert "Mention people or a user group" in slack.command(ADMIN, "config supervisors lead").text
    slack.standin.usergroups["S0LEADS01"] = [OTHER]
    reply = slack.command(ADMIN, f"config supervisors <@{NEW_SUPERVISOR}|lead> <!subteam^S0LEADS01|@leads>")
    assert f"<@{NEW_SUPERVISOR}>" in reply.text and "<!subteam^S0LEADS01>" in reply.text
    assert "0 check-ins" in slack.command(NEW_SUPERVISOR, f"history {code}").text
    assert "0 check-ins" in slack.command(OTHER, f"history {code}").text  # through the user group
    shown = slack.command(THERAPIST, "config show").text
    assert f"<@{SUPERVISOR}>" in shown and f"<@{NEW_SUPERVISOR}>" in shown and "&lt;@" not in shown

    assert "No supervisors are set here now" in slack.command(ADMIN, "config supervisors none").text
    assert "is not among your cases" in slack.command(NEW_SUPERVISOR, f"history {code}").text
