"""A second same-day `/alliance log` asks "log another session?" before storing (issue 14, item 1)."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import select

from bot.runtime.bootstrap import Runtime
from bot.store.models import Checkin
from bot.slack.ids import Action, Block
from tests.support import slack_requests as sr
from tests.support.driver import SlackDriver
from tests.support.slack_standin import Call
from tests.test_checkins_e2e import THERAPIST, create_case


def sessions(runtime: Runtime, code: str) -> list[tuple[int, dict[str, int]]]:
    from bot.store.models import Case

    with runtime.services.session_factory() as session:
        case_id = session.scalar(select(Case.id).where(Case.code == code))
        rows = session.scalars(select(Checkin).where(Checkin.case_id == case_id).order_by(Checkin.session_number))
        return [(row.session_number, dict(row.ratings)) for row in rows]


def buttons(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in payload.get("blocks") or [] if b.get("type") == "actions" for e in b["elements"]]


def press(slack: SlackDriver, button: dict[str, Any], response_url: str) -> Call:
    """Press a button of the ephemeral question; the answer replaces it via the response URL."""
    before = len([c for c in slack.standin.responses if c.method == response_url.removeprefix(slack.standin.base)])
    action = {"action_id": button["action_id"], "block_id": Block.LOG_AGAIN_ACTIONS.value, "value": button["value"],
              "type": "button", "action_ts": "1"}
    answer = slack.interact(sr.block_actions(THERAPIST, [action], response_url=response_url))
    assert answer.status == 200
    path = response_url.removeprefix(slack.standin.base)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        calls = [c for c in slack.standin.responses if c.method == path]
        if len(calls) > before:
            return calls[-1]
        time.sleep(0.01)
    raise AssertionError("no answer to the button")


def test_a_second_log_on_the_same_day_asks_and_one_press_stores_one(slack: SlackDriver, runtime: Runtime) -> None:
    code = create_case(slack)
    assert "Logged session 1" in slack.command(THERAPIST, f"log {code} 8 8 8 8").text
    asked = slack.command(THERAPIST, f"log {code} 8 4 8 8 flags=stuck")
    assert asked.ephemeral and "already has a check-in for" in asked.text and "(session 1)" in asked.text
    assert "Log this as another session, session 2?" in asked.text
    assert sessions(runtime, code) == [(1, {"A": 8, "B": 8, "unit": 8, "collective": 8})]  # nothing stored yet
    log, cancel = buttons(asked.payload or {})
    assert (log["action_id"], log["text"]["text"]) == (Action.LOG_AGAIN.value, "Log session 2")
    assert cancel["action_id"] == Action.LOG_AGAIN_CANCEL.value
    assert json.loads(log["value"]) == {"code": code, "ratings": ["8", "4", "8", "8"], "options": {"flags": "stuck"},
                                        "session": 2}

    url = slack.standin.response_url("again")
    first = press(slack, log, url)
    assert first.args["replace_original"] is True and "Logged session 2" in first.args["text"]
    second = press(slack, log, url)  # a double click, or Slack replaying the request
    assert "nothing was stored twice" in second.args["text"]
    assert [s for s, _ in sessions(runtime, code)] == [1, 2]


def test_dont_log_it_stores_nothing(slack: SlackDriver, runtime: Runtime) -> None:
    code = create_case(slack)
    slack.command(THERAPIST, f"log {code} 8 8 8 8")
    asked = slack.command(THERAPIST, f"log {code} 8 8 8 8")
    _, cancel = buttons(asked.payload or {})
    answer = press(slack, cancel, slack.standin.response_url("cancel"))
    assert answer.args["text"] == f"Nothing was logged; {code} is as it was."
    assert len(sessions(runtime, code)) == 1


def test_a_note_never_rides_on_a_button(slack: SlackDriver, runtime: Runtime) -> None:
    code = create_case(slack)
    slack.command(THERAPIST, f"log {code} 8 8 8 8")
    asked = slack.command(THERAPIST, f'log {code} 8 7 8 8 note="B quiet about the move"')
    assert buttons(asked.payload or {}) == []
    assert "quiet" not in json.dumps(asked.payload)
    assert "`session=2`" in asked.text and f"`/alliance {code}`" in asked.text
    assert len(sessions(runtime, code)) == 1
    again = slack.command(THERAPIST, f'log {code} 8 7 8 8 session=2 note="B quiet about the move"')
    assert "Logged session 2" in again.text  # an explicit session number is not asked about


def test_another_day_or_an_explicit_date_is_not_asked_about(slack: SlackDriver, runtime: Runtime, clock: Any) -> None:
    from datetime import timedelta

    code = create_case(slack)
    slack.command(THERAPIST, f"log {code} 8 8 8 8")
    yesterday = (clock.now - timedelta(days=1)).date().isoformat()
    assert "Logged session 2" in slack.command(THERAPIST, f"log {code} 8 8 8 8 date={yesterday}").text
    clock.now += timedelta(days=7)
    assert "Logged session 3" in slack.command(THERAPIST, f"log {code} 8,8,8,8").text
