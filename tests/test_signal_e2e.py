"""Issue 13's "done when", end to end through signed `/alliance log` commands:
warnings worth reading (SPEC §5). Each case is logged session by session and the
warnings are read back from the Web API stand-in."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.runtime.bootstrap import Runtime
from tests.conftest import ADMIN, SUPERVISION_CHANNEL, SUPERVISOR
from tests.support.driver import SlackDriver
from tests.test_checkins_e2e import create_case
from bot.store.models import Flag
from bot.slack.ids import Action, Block
from tests.support import slack_requests as sr
from tests.test_stalls_e2e import DM, THERAPIST, buttons, followups, log, section_text, warnings  # noqa: F401 - fixture
from tests.support.outbox import run_and_deliver


def log_all(slack: SlackDriver, caplog: pytest.LogCaptureFixture, code: str, rows: list[str]) -> list[int]:
    """Logs each row; returns how many warning roots existed after each."""
    counts = []
    for session, ratings in enumerate(rows, start=1):
        log(slack, caplog, code, session, ratings)
        counts.append(len(warnings(slack)))
    return counts


def test_a_couple_steady_around_8_for_ten_sessions_gets_no_warning(
        slack: SlackDriver, followups: pytest.LogCaptureFixture) -> None:  # noqa: F811
    code = create_case(slack)
    rows = ["8 8 8 8", "7 8 8 7", "8 9 8 8", "9 8 8 9", "8 7 7 8", "7 8 8 8", "8 8 9 8", "9 9 8 8",
            "8 7 8 7", "7 8 7 8"]
    assert log_all(slack, followups, code, rows) == [0] * 10


def test_a_couple_at_9_to_10_dipping_to_8_gets_no_warning(
        slack: SlackDriver, followups: pytest.LogCaptureFixture) -> None:  # noqa: F811
    code = create_case(slack)
    rows = ["10 9 9 9", "9 10 9 10", "10 10 10 9", "9 9 9 9", "8 8 8 8", "10 9 9 10"]
    assert log_all(slack, followups, code, rows) == [0] * 6


def test_b_sliding_while_a_holds_warns_by_the_fourth_then_reaches_supervision(
        slack: SlackDriver, followups: pytest.LogCaptureFixture) -> None:  # noqa: F811
    code = create_case(slack)
    log_all(slack, followups, code, ["8 8 8 8", "8 7 8 8", "8 6 8 8", "8 5 8 8"])
    dm = [c for c in warnings(slack) if c.args["channel"] == THERAPIST]
    assert dm and "B" in section_text(dm[0])
    log(slack, followups, code, 5, "8 5 8 8")  # the split holds
    supervision = [c for c in warnings(slack) if c.args["channel"] == SUPERVISION_CHANNEL]
    assert len(supervision) == 1 and "*Split alliance*" in section_text(supervision[0])


def test_b_withdrawing_in_sessions_2_and_4_is_a_warning(
        slack: SlackDriver, followups: pytest.LogCaptureFixture) -> None:  # noqa: F811
    code = create_case(slack)
    log_all(slack, followups, code, ["8 8 8 8", "8 8 8 8 rupture=withdrawal:B", "8 8 8 8"])
    assert warnings(slack) == []
    log(slack, followups, code, 4, "8 8 8 8 rupture=withdrawal:B")
    [warning] = warnings(slack)
    text = section_text(warning)
    assert warning.args["channel"] == THERAPIST and "*Repeated rupture*" in text
    assert "B withdrew in 2 of the last 4 check-ins (sessions 2, 4)" in text


def test_an_individual_case_flat_at_6_to_7_reaches_supervision_as_stalled_in_its_own_words(
        slack: SlackDriver, followups: pytest.LogCaptureFixture) -> None:  # noqa: F811
    code = create_case(slack, "individual")
    log_all(slack, followups, code, ["6", "7", "6", "7", "6", "7"])
    supervision = [c for c in warnings(slack) if c.args["channel"] == SUPERVISION_CHANNEL]
    assert supervision and "*Stalled*" in section_text(supervision[0])
    for warning in warnings(slack):
        assert not re.search(r"partner|couple", str(warning.args), re.IGNORECASE)


def test_a_member_absent_for_one_session_raises_nothing(
        slack: SlackDriver, followups: pytest.LogCaptureFixture) -> None:  # noqa: F811
    code = create_case(slack)
    log_all(slack, followups, code, ["8 8 8 8", "8 8 8 8"])
    reply = slack.command(THERAPIST, f"log {code} 8 - 8 8 session=3")
    assert "Logged session 3" in reply.text and "B absent" in reply.text
    for session, ratings in enumerate(["8 8 8 8", "8 8 8 8"], start=4):
        log(slack, followups, code, session, ratings)
    assert warnings(slack) == []
    history = slack.command(THERAPIST, f"history {code}").text
    assert "8 → 8 → · → 8 → 8" in history  # B's trail: the absence is a dot, never a 0


def test_only_a_member_can_be_absent(slack: SlackDriver) -> None:
    code = create_case(slack)
    reply = slack.command(THERAPIST, f"log {code} 8 8 - 8")
    assert "Only a member can be absent" in reply.text and "Logged" not in reply.text


def test_config_show_gives_the_therapist_their_offset_and_admins_can_turn_calibration_off(
        slack: SlackDriver) -> None:
    shown = slack.command(THERAPIST, "config show").text
    assert "*Calibration to the rater*: on (after 30 check-ins" in shown
    assert f"<@{THERAPIST}> 0 (level cut-offs as set)" in shown
    assert slack.command(ADMIN, "config set calibration 0").text.startswith("`calibration` is now 0.")
    assert "*Calibration to the rater*: off." in slack.command(THERAPIST, "config show").text


def test_a_supervisor_sees_every_case_owners_offset(slack: SlackDriver, runtime: Runtime) -> None:
    create_case(slack)  # the therapist owns a case
    shown = slack.command(SUPERVISOR, "config show").text
    assert f"<@{THERAPIST}> 0 (level cut-offs as set)" in shown


def test_the_form_offers_absent_for_members_and_stores_it_as_absent(slack: SlackDriver) -> None:
    from tests.support.driver import rating_values

    code = create_case(slack)
    view = slack.open_modal(THERAPIST, code)
    options = {block["block_id"]: [o["value"] for o in block["element"]["options"]]
               for block in view["blocks"] if block.get("block_id", "").startswith("rating:")}
    assert "-" in options["rating:B"] and "-" not in options["rating:unit"]
    answer = slack.submit(THERAPIST, view, {**rating_values({"A": 8, "unit": 7, "collective": 8}),
                                            "rating:B": {"value": {"type": "static_select",
                                                                   "selected_option": {"value": "-"}}}})
    assert answer.status == 200 and answer.body in ("", "null"), answer.body
    dm = slack.standin.wait_for("chat.postMessage")[-1]
    assert "Logged session 1" in dm.args["text"] and "B absent" in dm.args["text"]


# -- issue 13 item 9: one case, one conversation -------------------------------------

def _root_ts(runtime: Runtime, channel: str) -> str:
    with runtime.services.session_factory() as session:
        found = {f.message_ts for f in session.scalars(select(Flag).where(Flag.channel_id == channel)) if f.message_ts}
    assert len(found) == 1, found
    return found.pop()


def _next_monday(now: datetime) -> datetime:
    """The first Monday 14:05 UTC (09:05 New York, after the digest's 09:00) after `now`."""
    day = now + timedelta(days=1)
    while day.weekday() != 0:
        day += timedelta(days=1)
    return day.replace(hour=14, minute=5, second=0, microsecond=0)


def test_three_rules_over_four_checkins_make_one_supervision_thread_and_one_dm_warning_and_one_digest_line(
        slack: SlackDriver, runtime: Runtime, followups: pytest.LogCaptureFixture) -> None:  # noqa: F811
    code = create_case(slack)
    # Session 2 ticks tension; session 3 drops B to 4 (low, drop, a split of 4) with tension again
    # (Recurring tension: a rule of its own); session 4 holds B low (supervision); session 5
    # ticks tension again while the case is in supervision.
    log_all(slack, followups, code, ["8 7 8 8", "8 7 8 8 flags=tension", "8 4 7 7 flags=tension"])
    dm = [c for c in warnings(slack) if c.args["channel"] == THERAPIST]
    assert len(dm) == 1, [section_text(c) for c in dm]
    assert "*Recurring tension*" in section_text(dm[0]) and "*Split alliance*" in section_text(dm[0])

    # The DM warning is acknowledged privately; the supervision post must not inherit that.
    button = next(dict(b, block_id=Block.WARNING_ACTIONS, action_ts="1.2") for b in buttons(dm[0])
                  if b["action_id"] == Action.ACKNOWLEDGE)
    dm_ts = _root_ts(runtime, DM)
    payload = sr.block_actions(THERAPIST, [button], message={"ts": dm_ts, "blocks": dm[0].args["blocks"]},
                               channel_id=DM, response_url=slack.standin.response_url("button"),
                               trigger_id=slack.standin.new_trigger())
    assert slack.interact(payload).status == 200
    slack.standin.wait_for("chat.update", 1)

    log(slack, followups, code, 4, "8 4 7 7")
    log(slack, followups, code, 5, "8 4 7 7 flags=tension")
    roots = warnings(slack)
    supervision = [c for c in roots if c.args["channel"] == SUPERVISION_CHANNEL]
    assert len(supervision) == 1 and len([c for c in roots if c.args["channel"] == THERAPIST]) == 1
    assert "*Recurring tension*" in section_text(slack.standin.calls_to("chat.update")[-1])
    assert "acknowledged by" not in section_text(supervision[0])
    supervision_ts = _root_ts(runtime, SUPERVISION_CHANNEL)
    # One reply per check-in in the supervision thread (session 5), naming every rule still open.
    replies = [c for c in slack.standin.calls_to("chat.postMessage")
               if c.args.get("thread_ts") == supervision_ts]
    assert len([r for r in replies if r.args["text"].startswith("Session 5")]) == 1
    # The DM links the supervision thread.
    moved = [c for c in slack.standin.calls_to("chat.postMessage")
             if c.args.get("thread_ts") == dm_ts and "now goes to supervision" in c.args["text"]]
    assert moved and f"archives/{SUPERVISION_CHANNEL}/p{supervision_ts.replace('.', '')}" in \
        moved[0].args["text"]

    result = run_and_deliver(runtime, "digest", _next_monday(runtime.services.now()))
    assert result.queued >= 1, result.summary()
    [digest] = [c for c in slack.standin.calls_to("chat.postMessage")
                if c.args["channel"] == SUPERVISION_CHANNEL and "thread_ts" not in c.args and c not in roots]
    text = "\n".join((b.get("text") or {}).get("text", "") for b in digest.args["blocks"])
    assert text.count(code) == 1, text
    assert "<@" not in text and "/D0" not in text and f"archives/{SUPERVISION_CHANNEL}/p" in text
