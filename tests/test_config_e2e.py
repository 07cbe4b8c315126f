"""`/alliance config …` through signed requests: show for everyone, changes for admins."""

from __future__ import annotations

import pytest

from bot.runtime.bootstrap import Runtime
from bot.domain.errors import UserError
from bot.usecases import audit
from bot.usecases.config import parse_channel
from tests.conftest import ADMIN, SUPERVISION_CHANNEL
from tests.support.driver import SlackDriver
from tests.test_checkins_e2e import create_case

THERAPIST = "U0THERA01"


def audit_actions(runtime: Runtime) -> list[tuple[str, str, str | None]]:
    with runtime.services.session_factory.begin() as session:
        return [(e.actor_id, e.action, e.detail) for e in audit.entries_since(session) if e.action.startswith("config")]


def test_everyone_sees_the_thresholds_in_force(slack: SlackDriver) -> None:
    shown = slack.command(THERAPIST, "config show")
    assert shown.ephemeral
    lines = shown.text.splitlines()
    low = next(line for line in lines if "`low_alliance`" in line)
    assert "= *6*" in low and "from 1 to 10" in low and "_literature cut-off_" in low
    # The list outgrew the 3,000-character fallback text (issue 13); the blocks carry every row.
    assert any("_literature cut-off_" in line for line in lines if "`client_cutoff`" in line)
    split = next(line for line in lines if "`split_gap`" in line)
    assert "_team default_" in split and "Split alliance" in split
    assert len({line for line in lines if "_literature cut-off_" in line}) == 2  # (text and blocks repeat)
    assert f"<#{SUPERVISION_CHANNEL}> (from ALLIANCE_SUPERVISION_CHANNEL)" in shown.text
    assert slack.command(THERAPIST, "config").text == shown.text


def test_an_admin_sets_and_resets_a_threshold(slack: SlackDriver, runtime: Runtime) -> None:
    assert slack.command(ADMIN, "config set low_alliance 5").text.startswith("`low_alliance` is now 5.")
    low = next(line for line in slack.command(THERAPIST, "config show").text.splitlines() if "`low_alliance`" in line)
    assert "= *5* (set here; default 6)" in low
    assert "back to its default, 6" in slack.command(ADMIN, "config reset low_alliance").text
    assert audit_actions(runtime) == [(ADMIN, "config_set_threshold", "low_alliance=5"),
                                      (ADMIN, "config_reset_threshold", "low_alliance")]


def test_invalid_values_are_refused_with_the_allowed_range(slack: SlackDriver, runtime: Runtime) -> None:
    refusal = slack.command(ADMIN, "config set low_alliance 11").text
    assert refusal == "low_alliance must be a whole number from 1 to 10, e.g. `/alliance config set low_alliance 6`"
    assert "stalled_mean must be a number from 1 to 10" in slack.command(ADMIN, "config set stalled_mean lots").text
    unknown = slack.command(ADMIN, "config set <b>loud 3").text
    assert unknown.startswith("unknown threshold `&lt;b&gt;loud`") and "low_alliance" in unknown
    assert "rupture_count (5) can be at most rupture_window (4)" in slack.command(ADMIN, "config set rupture_count 5").text
    assert "Try `/alliance config set low_alliance 6`" in slack.command(ADMIN, "config set low_alliance").text
    assert audit_actions(runtime) == []


def test_others_get_a_one_line_refusal(slack: SlackDriver, runtime: Runtime) -> None:
    for text in ("config set low_alliance 5", f"config supervision <#C0OTHER01|general>", "config reset low_alliance"):
        assert slack.command(THERAPIST, text).text == "Only Alliance admins can change the configuration."
    assert "= *6*" in next(line for line in slack.command(THERAPIST, "config show").text.splitlines()
                           if "`low_alliance`" in line)
    assert audit_actions(runtime) == []


def test_supervision_warnings_follow_the_configured_channel(slack: SlackDriver, runtime: Runtime) -> None:
    assert "<#C0NEWSUP1>" in slack.command(ADMIN, "config supervision <#C0NEWSUP1|supervision>").text
    assert "<#C0NEWSUP1>" in slack.command(THERAPIST, "config show").text
    code = create_case(slack)
    # Issue 13: Stalled reaches supervision once the case has been flat at three check-ins running.
    for session in range(1, 7):
        assert f"Logged session {session}" in slack.command(THERAPIST, f"log {code} 6 6 6 6 session={session}").text
    warning = slack.standin.wait_for("chat.postMessage")[-1]
    assert warning.args["channel"] == "C0NEWSUP1" and "Stalled" in warning.args["text"]
    assert audit_actions(runtime) == [(ADMIN, "config_supervision_channel", "C0NEWSUP1")]


def test_channels_are_taken_as_slack_sends_them() -> None:
    assert parse_channel("<#C0123ABCD|supervision>") == "C0123ABCD"
    assert parse_channel("<#G0123ABCD>") == "G0123ABCD"
    assert parse_channel("C0123ABCD") == "C0123ABCD"
    for raw in ("#supervision", "supervision", "<@U0THERA01>", "<#C0123ABCD|x"):
        with pytest.raises(UserError, match="Pick the channel with #"):
            parse_channel(raw)
