"""Issue 14, item 5 end to end: a supervisor's team view (`/alliance cases`, App
Home), the supervision agenda and its Post button, and a supervisor's own notes."""

from __future__ import annotations

import time
from datetime import timedelta

from bot.runtime.bootstrap import Runtime
from bot.slack.ids import Action, Block
from bot.store.models import Flag, RepairPlan
from bot.usecases.flag_actions import RESOLUTION_NOTE_CONTEXT, PlanAction
from tests.conftest import SUPERVISION_CHANNEL, SUPERVISOR
from tests.support import slack_requests as sr
from tests.test_home_and_threads import COLLEAGUE, THERAPIST, home_opened, make_cases, open_flag
from tests.support.driver import SlackDriver


def serious(runtime: Runtime, flag_id: int, opened_days_ago: int) -> None:
    with runtime.services.session_factory.begin() as session:
        flag = session.get(Flag, flag_id)
        assert flag is not None
        flag.severity = 3
        flag.opened_at = runtime.services.now() - timedelta(days=opened_days_ago)


def test_a_supervisors_cases_and_home_show_the_team_by_therapist(slack: SlackDriver, runtime: Runtime) -> None:
    mine = make_cases(runtime, 2)
    theirs = make_cases(runtime, 1, owner=COLLEAGUE)
    open_flag(runtime, mine[0])
    listed = slack.command(SUPERVISOR, "cases").text
    assert "Create one with" not in listed and "*The team* (2 therapists)" in listed
    assert f"<@{THERAPIST}>* · 2 active cases · :warning: 1 open warning" in listed
    assert f"<@{COLLEAGUE}>* · 1 active case" in listed
    assert all(code in listed for code in mine + theirs)
    line = next(line for line in listed.splitlines() if mine[0] in line)
    assert "`▅`" in line  # its sparkline: one session, the mean of A 8, B 0, unit 7, collective 6
    assert "supervision thread" in line and f"/{SUPERVISION_CHANNEL}/p" in line  # and the link to its thread

    view = home_opened(slack, SUPERVISOR, "Ev0TEAM01")["view"]
    text = str(view)
    assert view["blocks"][0]["text"]["text"] == "The team" and len(view["blocks"]) <= 100
    assert f"<@{THERAPIST}>" in text and f"<@{COLLEAGUE}>" in text and "supervision thread" in text
    assert "Create one with" not in text and "Team overview" in text
    assert "The team" not in str(home_opened(slack, THERAPIST, "Ev0TEAM02")["view"])  # a therapist's own Home


def test_the_agenda_lists_serious_warnings_oldest_first_and_posts_once(slack: SlackDriver, runtime: Runtime) -> None:
    codes = make_cases(runtime, 3)
    newer = open_flag(runtime, codes[0], ts="1700000000.000200")
    older = open_flag(runtime, codes[1], ts="1700000000.000300")
    serious(runtime, newer, 2)
    serious(runtime, older, 9)
    open_flag(runtime, codes[2], ts="1700000000.000400")  # a warning, not serious: not on the agenda
    with runtime.services.session_factory.begin() as session:
        session.add(RepairPlan(flag_id=newer, action="raise_in_session", due_on=runtime.services.now().date(),
                               created_by=THERAPIST, created_at=runtime.services.now()))
    assert "Only supervisors and admins see the team overview." in slack.command(THERAPIST, "agenda").text
    reply = slack.command(SUPERVISOR, "agenda")
    text = reply.text
    assert "*Supervision agenda, week of" in text
    assert text.index(codes[1]) < text.index(codes[0])  # oldest first
    assert codes[2] not in text.split("*Newly silent cases*")[0]
    assert "*Newly silent cases*: none" in text
    plans = text.split("*Repair plans due this week*")[1]
    assert f"*{codes[0]}* · {PlanAction.RAISE_IN_SESSION.label} · <@{THERAPIST}> · due" in plans
    [button] = [e for b in (reply.payload or {})["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert button["action_id"] == Action.POST_AGENDA

    url = slack.standin.response_url("agenda")
    action = {"action_id": Action.POST_AGENDA.value, "block_id": Block.AGENDA_ACTIONS.value, "value": "agenda",
              "type": "button", "action_ts": "1"}
    assert slack.interact(sr.block_actions(SUPERVISOR, [action], response_url=url)).status == 200
    posted = slack.standin.wait_for("chat.postMessage")
    [agenda] = [c for c in posted if c.args["channel"] == SUPERVISION_CHANNEL and "Supervision agenda" in c.args["text"]]
    assert codes[1] in agenda.args["text"]
    deadline = time.monotonic() + 5
    while not [c for c in slack.standin.responses if c.method == url.removeprefix(slack.standin.base)]:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    confirm = [c for c in slack.standin.responses if c.method == url.removeprefix(slack.standin.base)][-1]
    assert f"<#{SUPERVISION_CHANNEL}>" in confirm.args["text"]


def test_a_supervisors_own_note_is_shown_to_them(slack: SlackDriver, runtime: Runtime) -> None:
    [code] = make_cases(runtime, 1)
    flag_id = open_flag(runtime, code)
    cipher = runtime.services.cipher
    with runtime.services.session_factory.begin() as session:
        flag = session.get(Flag, flag_id)
        assert flag is not None
        flag.status, flag.open_slot, flag.resolution, flag.resolved_by = "resolved", None, "repaired", SUPERVISOR
        flag.resolved_at = runtime.services.now()
        flag.resolution_note_ciphertext = cipher.encrypt("talked it through in supervision", RESOLUTION_NOTE_CONTEXT)
    history = slack.command(SUPERVISOR, f"history {code}").text
    assert "*Your own notes on this case*" in history and "talked it through in supervision" in history
    assert "talked it through" not in slack.command("U0SUPER02", f"history {code}").text
    assert "talked it through" in slack.command(THERAPIST, f"history {code}").text
