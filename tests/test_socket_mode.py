"""`alliance-bot serve --socket-mode` as a clinic without a public URL runs it:
a real process that opens a WebSocket to (a stand-in for) Slack and answers
the envelopes pushed down it."""

from __future__ import annotations

import json
import re
import subprocess
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qsl

import pytest

from bot.runtime.bootstrap import Runtime
from bot.store.crypto import generate_key
from bot.store.models import Flag
from tests.support.driver import rating_values
from tests.support.slack_requests import command_body, event_body, view_submission
from tests.support.slack_standin import SlackStandIn
from tests.support.socket_mode_server import SocketModeStandIn
from tests.test_cli_serve import BIN, bot_env
from tests.test_home_and_threads import make_cases, open_flag, reply_event
from tests.test_thread_reply_concurrency import flags_locked

THERAPIST = "U0THERA01"
APP_TOKEN = "xapp-1-test"
BOT_TOKEN = "xoxb-test-token"
CASE_CODE = re.compile(r"\b(IND|CPL|FAM)-[0-9A-HJKMNP-TV-Z]{4}\b")
ACK_LIMIT = 3.0
LOCK_WAITED = 4.0  # longer than the bot's lock waits (1.2 s, twice at most) and Slack's 3 s


@dataclass
class SocketBot:
    """The running bot, the Web API stand-in it calls, and the socket it listens on."""
    api: SlackStandIn
    socket: SocketModeStandIn

    def command(self, text: str, user: str = THERAPIST) -> tuple[dict[str, Any], str, str]:
        """Push `/alliance text`; return its ack, the trigger_id and the response_url."""
        trigger, response_url = self.api.new_trigger(), self.api.response_url()
        payload = dict(parse_qsl(command_body(text, user, trigger, response_url).decode()))
        envelope_id = self.socket.push("slash_commands", payload, accepts_response_payload=True)
        ack, seconds = self.socket.wait_for_ack(envelope_id, timeout=5.0)
        assert seconds < ACK_LIMIT, f"`/alliance {text}` acknowledged after {seconds:.2f}s"
        return ack.message, trigger, response_url

    def reply(self, text: str, user: str = THERAPIST, timeout: float = 5.0) -> dict[str, Any]:
        """Push `/alliance text` and return the reply: the acknowledgement's payload
        (issue 11: a change is stored, then acknowledged with its reply), else what
        was posted to its response_url."""
        ack, _, response_url = self.command(text, user)
        if ack.get("payload"):
            return dict(ack["payload"])
        path = response_url.removeprefix(self.api.base)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for call in list(self.api.responses):
                if call.method == path:
                    return call.args
            time.sleep(0.01)
        raise AssertionError(f"no reply to `/alliance {text}`; calls: {self.api.methods()}")


@pytest.fixture
def socket_bot(database_url: str, standin: SlackStandIn, tmp_path: Path) -> Iterator[SocketBot]:
    socket = SocketModeStandIn().start()
    standin.socket_url = socket.url
    env = bot_env(database_url, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN,
                  SLACK_API_URL=standin.api_url, ALLIANCE_ENCRYPTION_KEY=generate_key())
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([str(BIN), "serve", "--socket-mode", "--no-scheduler"], env=env, cwd=tmp_path,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        try:
            socket.wait_for_connection(timeout=20.0)
        except AssertionError:
            process.terminate()
            process.wait(timeout=5)
            pytest.fail(f"alliance-bot serve --socket-mode did not connect:\n{log_path.read_text()}")
        yield SocketBot(standin, socket)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        socket.stop()
    assert socket.problems == [], socket.problems
    logged = log_path.read_text()
    assert "Traceback" not in logged and " ERROR " not in logged, logged


def test_socket_mode_connects_with_the_app_token_and_serves_the_checkin_flow(socket_bot: SocketBot) -> None:
    api, socket = socket_bot.api, socket_bot.socket
    opened = api.calls_to("apps.connections.open")
    assert len(opened) == 1 and opened[0].token == APP_TOKEN

    created = socket_bot.reply("new couple")
    match = CASE_CODE.search(created.get("text", ""))
    assert match and match.group(0).startswith("CPL-"), created
    code = match.group(0)

    logged = socket_bot.reply(f"log {code} 8 7 8 8")
    assert "Logged session 1" in logged["text"], logged

    ack, trigger, _ = socket_bot.command("")
    assert "payload" not in ack, ack
    view_call = api.wait_for("views.open")[-1]
    assert view_call.args["trigger_id"] == trigger
    assert view_call.args["view"]["callback_id"] == "checkin_modal"

    # A modal submitted down the socket is stored like one posted over HTTP.
    ack, _, _ = socket_bot.command(code)
    modal = dict(api.wait_for("views.open", 2)[-1].args["view"])
    submission = view_submission(THERAPIST, modal, rating_values({"A": 9, "B": 6, "unit": 7, "collective": 8}))
    submitted, seconds = socket.wait_for_ack(socket.push("interactive", submission), timeout=5.0)
    assert seconds < ACK_LIMIT and not (submitted.payload or {}).get("response_action"), submitted.message
    history = socket_bot.reply(f"history {code}")
    assert "2 check-ins" in history["text"] and "8 → 9" in history["text"], history

    # Every Web API call but the connection itself is made with the bot token.
    assert {call.token for call in api.calls if call.method != "apps.connections.open"} == {BOT_TOKEN}


def test_socket_mode_acks_carry_immediate_replies_and_events_are_acknowledged(socket_bot: SocketBot) -> None:
    api, socket = socket_bot.api, socket_bot.socket
    ack, _, _ = socket_bot.command("frobnicate")
    reply = ack.get("payload") or {}
    assert reply.get("response_type") == "ephemeral" and reply.get("text"), ack

    event = json.loads(event_body({"type": "app_home_opened", "user": THERAPIST, "channel": "D0HOME001", "tab": "home",
                                   "event_ts": "1700000000.000001"}, "Ev0SOCKET1"))
    acked, seconds = socket.wait_for_ack(socket.push("events_api", event), timeout=5.0)
    assert seconds < ACK_LIMIT and acked.payload is None, acked.message
    published = api.wait_for("views.publish")[-1].args
    assert published["user_id"] == THERAPIST and published["view"]["type"] == "home"


def test_socket_mode_without_app_token_names_what_to_set(tmp_path: Path) -> None:
    env = bot_env(f"sqlite:///{tmp_path}/x.db", SLACK_BOT_TOKEN=BOT_TOKEN, ALLIANCE_ENCRYPTION_KEY=generate_key())
    result = subprocess.run([str(BIN), "serve", "--socket-mode", "--no-scheduler"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "SLACK_APP_TOKEN" in lines[0], result.stderr
    assert "SLACK_SIGNING_SECRET" not in result.stderr  # Socket Mode needs none
    assert "Traceback" not in result.stderr


def test_an_envelope_delivered_again_is_answered_once(socket_bot: SocketBot) -> None:
    """Issue 11: the same envelope sent again (a redelivery) is acknowledged with the
    first answer and dispatched once: one case, one reply."""
    api, socket = socket_bot.api, socket_bot.socket
    response_url = api.response_url()
    payload = dict(parse_qsl(command_body("new couple", THERAPIST, api.new_trigger(), response_url).decode()))
    envelope_id = socket.push("slash_commands", payload, accepts_response_payload=True)
    first, _ = socket.wait_for_ack(envelope_id, timeout=5.0)
    assert "Created" in first.message["payload"]["text"]  # the reply is in the acknowledgement (issue 11)
    path = response_url.removeprefix(api.base)
    socket.push("slash_commands", payload, accepts_response_payload=True, envelope_id=envelope_id)
    deadline = time.monotonic() + 5
    while len([a for a in socket.received if a.envelope_id == envelope_id]) < 2:
        assert time.monotonic() < deadline, "the redelivery was not acknowledged"
        time.sleep(0.01)
    time.sleep(0.5)  # time for a wrongly doubled dispatch to reply
    assert [c for c in list(api.responses) if c.method == path] == []
    again = [a for a in socket.received if a.envelope_id == envelope_id]
    assert again[1].message == again[0].message, "answered as before"
    deadline = time.monotonic() + 5
    while not api.calls_to("chat.postMessage"):  # the code's DM, through the outbox
        assert time.monotonic() < deadline, api.methods()
        time.sleep(0.01)
    time.sleep(0.5)
    codes = {m.group(0) for c in api.calls_to("chat.postMessage") for m in [CASE_CODE.search(c.args.get("text", ""))] if m}
    assert len(codes) == 1, codes


def test_an_event_that_could_not_be_stored_is_not_acknowledged_and_its_redelivery_is_counted(
        socket_bot: SocketBot, runtime: Runtime, database_url: str) -> None:
    """A thread reply is stored before its envelope is acknowledged. One that meets a
    held lock gets no acknowledgement, so Slack sends the envelope again; that
    delivery is dispatched anew (the failed one left no answer behind) and counted."""
    socket = socket_bot.socket
    flag_id = open_flag(runtime, make_cases(runtime, 1)[0])
    envelope = json.loads(event_body(reply_event("1700000001.000200"), "Ev0SOCKLOCK"))
    with flags_locked(database_url):
        envelope_id = socket.push("events_api", envelope)
        with pytest.raises(AssertionError, match="no ack"):
            socket.wait_for_ack(envelope_id, timeout=LOCK_WAITED)
    socket.push("events_api", envelope, retry_attempt=1, retry_reason="timeout", envelope_id=envelope_id)
    acked, _ = socket.wait_for_ack(envelope_id, timeout=5.0)
    assert acked.payload is None, acked.message
    with runtime.services.session_factory() as session:  # counted before the acknowledgement
        flag = session.get(Flag, flag_id)
        assert flag is not None and (flag.status, flag.reply_count) == ("discussing", 1)


def test_an_event_whose_first_delivery_never_answered_is_dispatched_when_sent_again(
        socket_bot: SocketBot, runtime: Runtime) -> None:
    """A delivery that claimed its envelope and never answered (its process was killed,
    or its failure could not release the claim) must not make a redelivery be
    acknowledged empty, which loses the event: while the claim is fresh the redelivery
    is left unacknowledged (Slack sends it again), and once it is stale it is taken
    over and dispatched, once."""
    from bot.runtime.socket_mode import envelope_key
    from bot.store import seen_requests as seen
    from tests.test_replays import backdate_claim

    socket = socket_bot.socket
    flag_id = open_flag(runtime, make_cases(runtime, 1)[0])
    envelope = json.loads(event_body(reply_event("1700000001.000300"), "Ev0SOCKDIED"))
    envelope_id, key = "env-died-standin", envelope_key("env-died-standin")
    assert seen.claim(runtime.engine, key, int(time.time()))  # what the killed delivery left behind

    def replies() -> int:
        with runtime.services.session_factory() as session:
            flag = session.get(Flag, flag_id)
            assert flag is not None
            return flag.reply_count

    socket.push("events_api", envelope, retry_attempt=1, retry_reason="timeout", envelope_id=envelope_id)
    with pytest.raises(AssertionError, match="no ack"):
        socket.wait_for_ack(envelope_id, timeout=3.0)  # its first copy might still answer
    assert replies() == 0

    backdate_claim(runtime, key, timedelta(seconds=30))  # the claim outlives any request path
    socket.push("events_api", envelope, retry_attempt=2, retry_reason="timeout", envelope_id=envelope_id)
    acked, _ = socket.wait_for_ack(envelope_id, timeout=5.0)
    assert acked.payload is None, acked.message
    assert replies() == 1

    socket.push("events_api", envelope, retry_attempt=3, retry_reason="timeout", envelope_id=envelope_id)
    deadline = time.monotonic() + 5
    while len([a for a in socket.received if a.envelope_id == envelope_id]) < 2:
        assert time.monotonic() < deadline, "the answered delivery's copy was not acknowledged"
        time.sleep(0.01)
    assert replies() == 1
