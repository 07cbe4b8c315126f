"""Issue 14, item 4 end to end: sharing tells the colleague and refuses bots and
strangers; a co-therapist's check-in warns them; the lead's rights; transfer."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select

from bot.runtime.bootstrap import Runtime
from bot.sandbox.slack_api import User
from bot.sandbox.workspace import BOT_USER
from bot.store.models import AuditEntry, Case, Flag
from tests.conftest import ADMIN
from tests.support.driver import SlackDriver
from tests.test_checkins_e2e import THERAPIST, create_case
from tests.test_stalls_e2e import followups, wait_for_followup, warnings  # noqa: F401

COLLEAGUE = "U0COTHER1"
NEWCOMER = "U0NEWLEAD"


def dms_to(slack: SlackDriver, user: str) -> list[str]:
    return [c.args.get("text", "") for c in slack.standin.calls_to("chat.postMessage") if c.args.get("channel") == user]


def wait_for(check: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
    return found


def test_share_tells_the_colleague_and_refuses_bots_and_strangers(slack: SlackDriver) -> None:
    slack.standin.users["U0GONE001"] = User(deleted=True)
    slack.standin.users["U0GUEST01"] = User(team_id="T0OTHER")
    slack.standin.users["U0HELPER1"] = User(is_bot=True)
    code = create_case(slack)
    reply = slack.command(THERAPIST, f"share {code} <@{COLLEAGUE}>")
    assert f"<@{COLLEAGUE}> can now see and log {code}" in reply.text
    [dm] = wait_for(lambda: dms_to(slack, COLLEAGUE))
    assert f"<@{THERAPIST}> shared *{code}* with you" in dm
    assert "is a bot" in slack.command(THERAPIST, f"share {code} <@{BOT_USER}>").text
    assert "is a bot" in slack.command(THERAPIST, f"share {code} <@U0HELPER1>").text
    assert "deactivated" in slack.command(THERAPIST, f"share {code} <@U0GONE001>").text
    assert "outside this workspace" in slack.command(THERAPIST, f"share {code} <@U0GUEST01>").text
    assert "already works on" in slack.command(THERAPIST, f"share {code} <@{THERAPIST}>").text


def test_a_co_therapists_checkin_warns_them_and_only_the_lead_pauses(
        slack: SlackDriver, followups: pytest.LogCaptureFixture) -> None:  # noqa: F811
    code = create_case(slack)
    slack.command(THERAPIST, f"share {code} <@{COLLEAGUE}>")
    for number, ratings in ((1, "8 8 8 8"), (2, "8 7 8 8"), (3, "8 4 6 7")):
        who = COLLEAGUE if number == 3 else THERAPIST
        assert f"Logged session {number}" in slack.command(who, f"log {code} {ratings} session={number}").text
        wait_for_followup(followups, code, number)
    slack.settle()  # the warning the check-ins queued has gone out
    [warning] = warnings(slack)
    assert warning.args["channel"] == COLLEAGUE  # the one who logged the session
    refused = slack.command(COLLEAGUE, f"pause {code}").text
    assert "Only the case's lead therapist or an admin" in refused
    assert f"{code} is now paused." in slack.command(ADMIN, f"pause {code}").text
    assert f"{code} is now active." in slack.command(THERAPIST, f"reopen {code}").text


def test_transfer_moves_the_case_and_its_open_warnings(
        slack: SlackDriver, runtime: Runtime, followups: pytest.LogCaptureFixture) -> None:  # noqa: F811
    code = create_case(slack)
    for number, ratings in ((1, "8 8 8 8"), (2, "8 7 8 8"), (3, "8 4 6 7")):
        slack.command(THERAPIST, f"log {code} {ratings} session={number}")
        wait_for_followup(followups, code, number)
    slack.settle()
    [old_root] = warnings(slack)
    assert "not among your cases" in slack.command(COLLEAGUE, f"transfer {code} <@{NEWCOMER}>").text
    slack.command(THERAPIST, f"share {code} <@{COLLEAGUE}>")
    assert "Only the case's lead" in slack.command(COLLEAGUE, f"transfer {code} <@{NEWCOMER}>").text
    reply = slack.command(THERAPIST, f"transfer {code} <@{NEWCOMER}>")
    assert f"<@{NEWCOMER}> now leads {code}" in reply.text
    slack.settle()  # what the transfer queued (new root, note in the old thread, the DM) has gone out
    new_root = wait_for(lambda: [w for w in warnings(slack) if w.args["channel"] == NEWCOMER])
    assert code in new_root[0].args["text"]
    told = wait_for(lambda: [t for t in dms_to(slack, NEWCOMER) if "handed you 1 case" in t])
    assert code in told[0]
    moved_note = [c for c in slack.standin.calls_to("chat.postMessage")
                  if c.args.get("thread_ts") and "moved to" in c.args.get("text", "")]
    assert moved_note and moved_note[0].args["channel"] == "D" + THERAPIST[1:] == "D" + old_root.args["channel"][1:]
    with runtime.services.session_factory() as session:
        case = session.scalar(select(Case).where(Case.code == code))
        assert case is not None and case.owner_id == NEWCOMER
        channels = set(session.scalars(select(Flag.channel_id).where(Flag.case_id == case.id,
                                                                     Flag.open_slot.is_not(None))))
        assert channels == {"D" + NEWCOMER[1:]}
        audit = session.scalar(select(AuditEntry).where(AuditEntry.action == "transfer_case"))
        assert audit is not None and audit.detail == f"from {THERAPIST} to {NEWCOMER}"
    assert "not among your cases" in slack.command(THERAPIST, f"history {code}").text  # the old lead left it
    assert "Logged session 4" in slack.command(NEWCOMER, f"log {code} 8 8 8 8 session=4").text


def test_transfer_all_hands_over_a_leavers_caseload_for_admins_only(slack: SlackDriver, runtime: Runtime) -> None:
    codes = {create_case(slack), create_case(slack, kind="family")}
    assert "Only Alliance admins" in slack.command(THERAPIST, f"transfer all <@{THERAPIST}> <@{NEWCOMER}>").text
    reply = slack.command(ADMIN, f"transfer all <@{THERAPIST}> <@{NEWCOMER}>")
    assert all(code in reply.text for code in codes) and f"<@{NEWCOMER}> now leads" in reply.text
    with runtime.services.session_factory() as session:
        owners = set(session.scalars(select(Case.owner_id).where(Case.code.in_(codes))))
    assert owners == {NEWCOMER}
    assert "leads no cases" in slack.command(ADMIN, f"transfer all <@{THERAPIST}> <@{NEWCOMER}>").text
