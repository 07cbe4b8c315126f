"""Issue 12: nothing a user typed reaches the log of a real `alliance-bot serve`
process at the default level, whatever fails; every line is one line; a flood
of unsigned bodies costs a few lines, not a copy of each body."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest

from bot.store.crypto import generate_key
from tests.support.served import came_up
from tests.support import slack_requests as sr
from tests.support.driver import SlackDriver
from tests.support.slack_standin import SlackStandIn
from tests.test_checkins_e2e import THERAPIST, create_case
from tests.test_cli_serve import BIN, bot_env, free_port

MARKER = "PRIVATE-NOTE-MARKER-7KQ2"


class ServedBot:
    def __init__(self, driver: SlackDriver, process: subprocess.Popen[bytes], log: Path) -> None:
        self.driver, self.process, self.log = driver, process, log

    def text(self) -> str:
        return self.log.read_text(errors="replace")


def start_bot(database_url: str, standin: SlackStandIn, tmp_path: Path, **extra: str) -> ServedBot:
    port = free_port()
    env = bot_env(database_url, SLACK_BOT_TOKEN="xoxb-test-token", SLACK_SIGNING_SECRET=sr.SIGNING_SECRET,
                  SLACK_API_URL=standin.api_url, ALLIANCE_ENCRYPTION_KEY=generate_key(), **extra)
    env.pop("ALLIANCE_LOG_LEVEL")  # the default level (INFO)
    log = tmp_path / "bot.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(BIN), "serve", "--port", str(port), "--host", "127.0.0.1", "--no-scheduler"],
                                   env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    if not came_up(base, process):
        process.kill()
        pytest.fail(f"alliance-bot serve did not come up:\n{log.read_text()}")
    return ServedBot(SlackDriver(base, standin), process, log)


@pytest.fixture
def bot(sqlite_url: str, standin: SlackStandIn, tmp_path: Path) -> Iterator[ServedBot]:
    served = start_bot(sqlite_url, standin, tmp_path)
    yield served
    served.process.terminate()
    served.process.wait(timeout=10)


def command_with_marker(standin: SlackStandIn, text: str = f'log CPL-7KQ2 8 7 8 8 note="{MARKER} B cried"') -> tuple[bytes, str]:
    response_url = standin.response_url("secret-hook")
    return sr.command_body(text, THERAPIST, standin.new_trigger(), response_url), response_url


def assert_log_is_clean(bot: ServedBot, *private: str) -> str:
    time.sleep(0.3)  # let the process flush what it wrote
    text = bot.text()
    for value in (MARKER, *private):
        assert value not in text, f"{value!r} reached the log:\n{text[-3000:]}"
    return text


def test_refused_requests_leave_no_body_in_the_log(bot: ServedBot, standin: SlackStandIn) -> None:
    form = "application/x-www-form-urlencoded"
    url = bot.driver.events_url
    body, response_url = command_with_marker(standin)

    bad_signature = sr.post(url, body, sr.signed_headers(body, form, secret="a-rotated-signing-secret-000000"))
    stale = sr.post(url, body, sr.signed_headers(body, form, timestamp=int(time.time()) - 600))
    unsigned = sr.post(url, body, {"Content-Type": form})
    big = body + b"&padding=" + (MARKER.encode() * 50_000)  # > 1 MB
    try:
        too_large_status: int | None = sr.post(url, big, sr.signed_headers(big, form)).status
    except OSError:  # waitress may answer 413 and close before the client has sent it all
        too_large_status = None
    assert (bad_signature.status, stale.status, unsigned.status) == (401, 401, 401)
    assert too_large_status in (413, None)

    text = assert_log_is_clean(bot, response_url, "secret-hook", "B cried")
    refusals = [line for line in text.splitlines() if "refused a request" in line]
    assert any("signature does not match" in line for line in refusals), text
    assert any("timestamp more than 5 minutes" in line for line in refusals), text
    assert any("127.0.0.1" in line for line in refusals)
    assert "Invalid request signature detected" not in text and "body:" not in text


def test_unknown_payloads_and_listener_failures_leave_no_body_in_the_log(bot: ServedBot, standin: SlackStandIn) -> None:
    form = "application/x-www-form-urlencoded"
    response_url = standin.response_url("secret-hook")
    unknown = {"type": "block_actions", "user": {"id": THERAPIST}, "team": {"id": sr.TEAM_ID},
               "actions": [{"action_id": "no_such_action", "block_id": "b", "value": MARKER}],
               "response_url": response_url, "trigger_id": "1.2.x", "api_app_id": "A0ALLIANCE"}
    assert bot.driver.interact(unknown).status in (200, 404)
    event = {"type": "no_such_event", "text": MARKER, "user": THERAPIST}
    assert bot.driver.event(event, "Ev0UNKNOWN1").status in (200, 404)

    # listener work that fails: the Web API answers with an error that quotes text,
    # and the SlackApiError's message carries the whole answer
    code = create_case(bot.driver)
    standin.fail_methods["views.open"] = f"invalid_arguments {MARKER}"
    answer, _, command_url = bot.driver.send_command(THERAPIST, code)  # opening the modal fails after the ack
    assert answer.status == 200
    standin.wait_for_response()
    time.sleep(0.5)
    standin.fail_methods.clear()
    # and a check-in whose note carries the marker, refused by the PHI guard at INFO
    refused = bot.driver.command(THERAPIST, f'log {code} 8 7 8 8 note="{MARKER} call 555-123-4567"')
    assert "nothing was saved" in refused.text
    body = sr.command_body(f"log {code} 8 7 8 8", THERAPIST, standin.new_trigger(), response_url)
    assert bot.driver.post(body, form).status == 200
    text = assert_log_is_clean(bot, response_url, command_url, "secret-hook", "555-123-4567")
    assert "SlackApiError (message withheld" in text, "the listener's failure was logged, without its message"


def test_every_log_line_is_one_line(bot: ServedBot, standin: SlackStandIn) -> None:
    """A body with a newline cannot forge a log line: the refusal is logged, the
    body is not, and every line the process wrote starts like a record."""
    forged = b"x=1\n2026-12-06 00:00:00,000 ERROR alliance: forged line"
    sr.post(bot.driver.events_url, forged, sr.signed_headers(forged, "text/plain", secret="wrong-secret-0123456789"))
    text = assert_log_is_clean(bot)
    assert "forged line" not in text
    for line in text.splitlines():
        assert line[:4].isdigit() and " " in line, f"a line that is not a record: {line!r}"


def test_two_hundred_unsigned_900_kb_bodies_grow_the_log_by_under_1_mb(bot: ServedBot) -> None:
    before = bot.log.stat().st_size
    body = (b"payload=" + json.dumps({"note": MARKER + "x" * 900_000}).encode())[:900_000]
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": str(int(time.time())),
               "X-Slack-Signature": "v0=" + "0" * 64}
    started = time.monotonic()
    statuses = {sr.post(bot.driver.events_url, body, headers).status for _ in range(200)}
    seconds = time.monotonic() - started
    time.sleep(0.3)
    grown = bot.log.stat().st_size - before
    print(f"\n200 unsigned 900 kB bodies in {seconds:.1f} s grew the log by {grown} bytes")
    assert statuses == {401}
    assert grown < 1_000_000
    assert MARKER not in bot.text()


def test_the_debug_switch_announces_itself(sqlite_url: str, standin: SlackStandIn, tmp_path: Path) -> None:
    served = start_bot(sqlite_url, standin, tmp_path, ALLIANCE_DEBUG_LOG_PAYLOADS="1")
    try:
        time.sleep(0.3)
        text = served.text()
    finally:
        served.process.terminate()
        served.process.wait(timeout=10)
    assert "ALLIANCE_DEBUG_LOG_PAYLOADS is on" in text and "WILL be logged" in text


def test_refusals_are_rate_limited_and_the_rest_counted(caplog: pytest.LogCaptureFixture) -> None:
    from bot.runtime.request_rejections import Rejection, RejectionLog

    now = [0.0]
    log = RejectionLog(lines_per_window=3, window_seconds=60, clock=lambda: now[0])
    caplog.set_level("INFO", logger="alliance.requests")
    for _ in range(50):
        log.rejected(Rejection.BAD_SIGNATURE, "127.0.0.1\nforged")
    assert len(caplog.records) == 3
    now[0] = 61.0
    log.rejected(Rejection.STALE, "10.0.0.9")
    messages = [r.getMessage() for r in caplog.records]
    assert "47 more refused requests were not logged" in messages[3]
    assert "10.0.0.9" in messages[4] and "\n" not in "".join(messages)


@pytest.mark.parametrize("raw,escaped", [
    ("a\nb", "a\\nb"), ("a\r\nb", "a\\r\\nb"), ("\x1b[31mred", "\\u001b[31mred"),
    ("x\u202ey", "x\\u202ey"), ("x\u200by", "x\\u200by"), ("x\u2028y", "x\\u2028y"), ("tab\there", "tab\\there"),
])
def test_control_and_format_characters_are_escaped(raw: str, escaped: str) -> None:
    import logging

    from bot.runtime.log_lines import OneLineFormatter

    record = logging.LogRecord("alliance", logging.INFO, __file__, 1, "%s", (raw,), None)
    assert OneLineFormatter("%(message)s").format(record) == escaped
