"""Bolt answers a request when its listener returns (`process_before_response`):
what a listener does with Slack after acknowledging runs in its later part (a lazy
listener), so a slow Slack call never holds the acknowledgement back, and what a
request stores is stored before the acknowledgement."""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any, Callable, Sequence

from slack_bolt.request import BoltRequest
from sqlalchemy import func, select

from bot.runtime.app import create_app
from bot.runtime.bootstrap import Runtime
from bot.store.models import Case, Checkin
from tests.support import slack_requests as sr
from tests.support.driver import SlackDriver
from tests.support.slack_standin import Call, SlackStandIn
from tests.test_checkins_e2e import THERAPIST, create_case
from tests.test_log_again import buttons, sessions

SLOW = 2.0  # seconds Slack takes to answer the slow call
PROMPT = 1.0  # an acknowledgement that waited for it would take at least SLOW
CASE_CODE = re.compile(r"\b(IND|CPL|FAM)-[0-9A-HJKMNP-TV-Z]{4}\b")


def response_to(slack: SlackDriver, url: str) -> Call:
    path = url.removeprefix(slack.standin.base)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = [c for c in list(slack.standin.responses) if c.method == path]
        if found:
            return found[-1]
        time.sleep(0.01)
    raise AssertionError(f"nothing posted to {path}")


def checkins(runtime: Runtime, code: str) -> int:
    with runtime.services.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(Checkin).join(Case, Case.id == Checkin.case_id)
                                  .where(Case.code == code)) or 0)


def test_the_checkin_modal_opens_after_an_acknowledgement_that_does_not_wait_for_it(slack: SlackDriver) -> None:
    code = create_case(slack)
    slack.standin.delay_methods["views.open"] = SLOW
    answer, trigger, _ = slack.send_command(THERAPIST, code)
    assert answer.status == 200 and answer.body == "", answer
    assert answer.seconds < PROMPT, f"acknowledged after {answer.seconds:.2f}s: it waited for views.open"
    call = slack.standin.wait_for("views.open")[-1]
    assert call.args["trigger_id"] == trigger
    assert call.args["view"]["callback_id"] == "checkin_modal" and code in str(call.args["view"]), call.args


def test_log_session_n_replaces_its_prompt_after_an_acknowledgement_that_does_not_wait(
        slack: SlackDriver, runtime: Runtime) -> None:
    code = create_case(slack)
    slack.command(THERAPIST, f"log {code} 8 8 8 8")
    asked = slack.command(THERAPIST, f"log {code} 8 4 8 8")
    log, _ = buttons(asked.payload or {})
    slack.standin.delay_responses = SLOW
    url = slack.standin.response_url("again")
    action = {"action_id": log["action_id"], "block_id": "log_again_actions", "value": log["value"],
              "type": "button", "action_ts": "1"}
    answer = slack.interact(sr.block_actions(THERAPIST, [action], response_url=url))
    assert answer.status == 200 and answer.body == "", answer
    assert answer.seconds < PROMPT, f"acknowledged after {answer.seconds:.2f}s: it waited for the response_url"
    assert [s for s, _ in sessions(runtime, code)] == [1, 2]  # stored before the acknowledgement
    replaced = response_to(slack, url)
    assert replaced.args["replace_original"] is True and "Logged session 2" in replaced.args["text"], replaced.args


def test_a_reply_whose_response_url_is_refused_comes_by_dm(slack: SlackDriver, runtime: Runtime) -> None:
    """No reply depends on response_url: a refused one (expired, Slack down) is sent by DM."""
    code = create_case(slack)
    slack.command(THERAPIST, f"log {code} 8 8 8 8")
    asked = slack.command(THERAPIST, f"log {code} 8 4 8 8")
    log, _ = buttons(asked.payload or {})
    slack.standin.fail_responses = 1
    url = slack.standin.response_url("refused")
    action = {"action_id": log["action_id"], "block_id": "log_again_actions", "value": log["value"],
              "type": "button", "action_ts": "1"}
    assert slack.interact(sr.block_actions(THERAPIST, [action], response_url=url)).status == 200
    assert [s for s, _ in sessions(runtime, code)] == [1, 2]
    response_to(slack, url)  # tried first, and refused
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not [c for c in slack.standin.calls_to("chat.postMessage")
                                               if c.args["channel"] == THERAPIST and "Logged session 2" in c.args["text"]]:
        time.sleep(0.02)
    [dm] = [c for c in slack.standin.calls_to("chat.postMessage")
            if c.args["channel"] == THERAPIST and "Logged session 2" in c.args["text"]]
    assert "replace_original" not in dm.args


def test_log_is_stored_then_acknowledged_with_its_reply(slack: SlackDriver, runtime: Runtime) -> None:
    code = create_case(slack)
    answer, _, response_url = slack.send_command(THERAPIST, f"log {code} 8 7 8 8")
    assert checkins(runtime, code) == 1  # read at once: stored before the answer came back
    assert answer.status == 200 and "Logged session 1" in answer.json()["text"], answer
    assert answer.seconds < PROMPT
    time.sleep(0.2)
    assert [c for c in slack.standin.responses if c.method == response_url.removeprefix(slack.standin.base)] == []


class CountingExecutor(Executor):
    """Runs what it is given on a thread pool and counts it."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=2)
        self.submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted += 1
        return self.pool.submit(fn, *args, **kwargs)


def test_only_the_modal_form_of_the_command_has_work_after_its_acknowledgement(runtime: Runtime,
                                                                                standin: SlackStandIn) -> None:
    """A `log` is answered by its listener's return alone: nothing is started on the
    listener executor (no lazy listener, no polling for the acknowledgement)."""
    executor = CountingExecutor()
    app = create_app(runtime.services, listener_executor=executor)
    assert app.process_before_response

    def dispatch(text: str) -> tuple[int, str]:
        body = sr.command_body(text, THERAPIST, standin.new_trigger(), standin.response_url())
        headers: dict[str, str | Sequence[str]] = {**sr.signed_headers(body, "application/x-www-form-urlencoded")}
        before = executor.submitted
        response = app.dispatch(BoltRequest(body=body.decode(), headers=headers))
        assert response.status == 200, response.body
        return executor.submitted - before, str(json.loads(response.body or "{}").get("text", ""))

    try:
        started, created = dispatch("new couple")
        code = CASE_CODE.search(created)
        assert started == 0 and code, created
        started, logged = dispatch(f"log {code.group(0)} 8 7 8 8")
        assert started == 0 and "Logged session 1" in logged, logged
        assert dispatch("help")[0] == 0
        assert dispatch("")[0] == 1  # the modal form: opened after the acknowledgement
        standin.wait_for("views.open")
    finally:
        executor.pool.shutdown(wait=True)
