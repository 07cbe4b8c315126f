"""Issue 3 end to end: signed `/alliance log` requests to the served app, warnings
read back from the Web API stand-in (which checks every block with slack_sdk)."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from sqlalchemy import select

from bot.runtime.bootstrap import Runtime
from bot.domain.questions import QuestionRef
from bot.store.models import Flag
from bot.slack.question_text import question_counts, render_questions
from bot.slack.ids import Action, Block
from tests.conftest import SUPERVISION_CHANNEL
from tests.support import slack_requests as sr
from tests.support.driver import SlackDriver
from tests.support.slack_standin import Call
from tests.test_checkins_e2e import create_case

THERAPIST = "U0THERA01"
DM = "D" + THERAPIST[1:]  # the stand-in answers a post to a user with their DM channel


@pytest.fixture
def followups(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="bot.slack.warning_outbox")  # "none fired" is a debug line
    return caplog


def wait_for_followup(caplog: pytest.LogCaptureFixture, code: str, session: int, timeout: float = 5.0) -> str:
    """The stall rules' summary line for this check-in (logged in its transaction)."""
    needle = f"stall rules for {code} after session {session}:"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for record in list(caplog.records):
            if record.getMessage().startswith(needle):
                return record.getMessage()
        time.sleep(0.01)
    raise AssertionError(f"no follow-up for session {session} of {code}: {[r.getMessage() for r in caplog.records]}")


def log(slack: SlackDriver, caplog: pytest.LogCaptureFixture, code: str, session: int, ratings: str) -> str:
    reply = slack.command(THERAPIST, f"log {code} {ratings} session={session}")  # same day: explicit numbers
    assert f"Logged session {session}" in reply.text, reply.text
    summary = wait_for_followup(caplog, code, session)
    slack.settle()  # what the check-in queued has reached the stand-in
    return summary


def warnings(slack: SlackDriver, method: str = "chat.postMessage") -> list[Call]:
    """Warning roots: messages with the warning's buttons or its heading, not thread replies."""
    return [c for c in slack.standin.calls_to(method)
            if "thread_ts" not in c.args and "Stall warning" in (c.args.get("text") or "")]


def section_text(call: Call) -> str:
    return "\n".join((b.get("text") or {}).get("text", "") for b in call.args["blocks"] if b["type"] == "section")


def theme_questions(theme: str, member: str | None, code: str) -> set[str]:
    refs = [QuestionRef(theme, i) for i in range(question_counts()[theme])]
    return set(render_questions(refs, member=member, case_code=code))


def buttons(call: Call) -> list[dict[str, Any]]:
    actions = [b for b in call.args["blocks"] if b["type"] == "actions"]
    assert len(actions) == 1 and actions[0]["block_id"] == Block.WARNING_ACTIONS
    return actions[0]["elements"]


def test_split_and_drop_warn_then_escalate_then_edit(slack: SlackDriver, followups: pytest.LogCaptureFixture) -> None:
    code = create_case(slack)
    log(slack, followups, code, 1, "8 8 8 8")
    log(slack, followups, code, 2, "8 7 8 8")
    assert warnings(slack) == []
    summary = log(slack, followups, code, 3, '8 4 6 7 note="felt tense today" date=2026-11-19')
    assert "1 new" in summary

    [warning] = warnings(slack)
    assert warning.args["channel"] == THERAPIST
    text = section_text(warning)
    for title in ("*Split alliance*", "*Alliance drop*", "*Low alliance*"):
        assert title in text
    assert code in text and f"<@{THERAPIST}>" in text
    assert "`A 8 vs B 4 (gap 4)`" in text and "`B 8 → 7 → 4`" in text
    assert "▇▆▄` 4 ↓" in text  # B's sparkline: 8, 7, 4
    assert "felt tense" not in str(warning.args) and "2026-11-19" not in str(warning.args)
    questions = [line.removeprefix("• ") for line in text.splitlines() if line.startswith("• ")]
    assert 2 <= len(questions) <= 4
    split, rupture = theme_questions("split", "B", code), theme_questions("rupture", "B", code)
    assert set(questions) <= split | rupture and set(questions) & split and set(questions) & rupture
    assert [(b["action_id"], b["text"]["text"]) for b in buttons(warning)] == [
        (Action.ACKNOWLEDGE, "Acknowledge"), (Action.PLAN_REPAIR, "Plan repair"), (Action.RESOLVE, "Resolve")]

    # The split holds a second check-in: it goes to the supervision channel, and (issue 13: one
    # warning per piece of evidence) the low rating and the drop of the same number go with it.
    summary = log(slack, followups, code, 4, "8 4 6 7")
    supervision = [c for c in warnings(slack) if c.args["channel"] == SUPERVISION_CHANNEL]
    assert len(supervision) == 1 and len(warnings(slack)) == 2
    text = section_text(supervision[0])
    assert "*Split alliance*" in text and "*Low alliance*" in text and "for supervision" in text
    moved = [c for c in slack.standin.calls_to("chat.postMessage")
             if c.args.get("thread_ts") and c.args["channel"] == DM and "now goes to supervision" in c.args["text"]]
    assert moved and f"<#{SUPERVISION_CHANNEL}>" in moved[0].args["text"]
    assert f"archives/{SUPERVISION_CHANNEL}/p" in moved[0].args["text"]  # a link to the case's supervision thread

    # Still split: the supervision warning is edited, not posted again; the drop of unit
    # (quiet at sessions 5 and 6) closes itself.
    before = len(slack.standin.calls_to("chat.update"))
    log(slack, followups, code, 5, "10 6 9 9")
    log(slack, followups, code, 6, "10 6 9 9")
    assert len(warnings(slack)) == 2
    edits = slack.standin.calls_to("chat.update")[before:]
    supervision_edit = [c for c in edits if c.args["channel"] == SUPERVISION_CHANNEL]
    assert supervision_edit and "*Split alliance*" in section_text(supervision_edit[-1])
    closed = [c for c in slack.standin.calls_to("chat.postMessage") if "closed itself" in (c.args.get("text") or "")]
    assert any("*Alliance drop*" in c.args["text"] for c in closed)


def test_a_steady_high_case_never_warns(slack: SlackDriver, followups: pytest.LogCaptureFixture) -> None:
    code = create_case(slack)
    for session in range(1, 5):
        summary = log(slack, followups, code, session, "8 8 8 8")
        assert "none fired" in summary
    assert slack.standin.calls_to("chat.postMessage") == [] and slack.standin.calls_to("chat.update") == []


def test_a_flat_middling_case_is_stalled(slack: SlackDriver, followups: pytest.LogCaptureFixture) -> None:
    code = create_case(slack)
    # Issue 13: a flat window once is a notice; flat at three check-ins running, supervision.
    for session in range(1, 6):
        log(slack, followups, code, session, "6 6 6 6")
    assert warnings(slack) == []
    log(slack, followups, code, 6, "6 6 6 6")
    [warning] = warnings(slack)
    assert warning.args["channel"] == SUPERVISION_CHANNEL
    text = section_text(warning)
    assert "*Stalled*" in text and "case mean 6 → 6 → 6 → 6" in text
    questions = [line.removeprefix("• ") for line in text.splitlines() if line.startswith("• ")]
    assert 2 <= len(questions) <= 4 and set(questions) <= theme_questions("stalled", None, code)


def test_acknowledge_on_a_dm_warning_replies_in_its_thread_and_edits_it(slack: SlackDriver, runtime: Runtime,
                                                                        followups: pytest.LogCaptureFixture) -> None:
    code = create_case(slack)
    # Issue 13: B falls to 4 from 7 (a 5 would be a notice until it holds; a fall of 4 goes to supervision).
    for session, ratings in enumerate(("8 7 8 8", "8 7 8 8", "8 7 8 8", "8 4 8 8"), start=1):
        log(slack, followups, code, session, ratings)
    [warning] = warnings(slack)
    assert warning.args["channel"] == THERAPIST
    button = buttons(warning)[0]
    assert button["action_id"] == Action.ACKNOWLEDGE
    with runtime.services.session_factory() as session:  # where the warning landed
        ts = session.scalars(select(Flag.message_ts).where(Flag.message_ts.is_not(None))).first()
    assert ts is not None
    response_url = slack.standin.response_url("button")
    payload = sr.block_actions(THERAPIST, [dict(button, block_id=Block.WARNING_ACTIONS, action_ts="1.2")],
                               message={"ts": ts, "blocks": warning.args["blocks"]},
                               channel_id=DM, response_url=response_url)
    assert slack.interact(payload).status == 200
    [edit] = slack.standin.wait_for("chat.update")
    assert (edit.args["channel"], edit.args["ts"]) == (DM, ts)
    assert f"acknowledged by <@{THERAPIST}>" in str(edit.args["blocks"])
    [reply] = [c for c in slack.standin.calls_to("chat.postMessage") if c.args.get("thread_ts") == ts]
    assert reply.args["channel"] == DM and reply.args["text"] == f"<@{THERAPIST}> acknowledged this warning."
    assert [c for c in slack.standin.responses if response_url.endswith(c.method)] == []  # nothing to tell the presser
