"""Issue 11, item 5: `alliance-bot serve` stops within its grace period on SIGTERM,
a real process: it stops taking requests, finishes the ones in flight, and never
waits longer than the grace period, however slow Slack is."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import select

from bot.store.crypto import generate_key
from bot.store.db import make_engine, make_session_factory
from bot.store.models import Case, Checkin
from tests.support.served import came_up
from tests.support import slack_requests as sr
from tests.support.driver import SlackDriver, rating_values
from tests.support.slack_standin import SlackStandIn
from tests.test_checkins_e2e import THERAPIST, create_case
from tests.test_cli_serve import BIN, bot_env, free_port
from tests.test_lock_timeouts import database_locked

GRACE = 4.0
MARGIN = 2.5  # process start-up of the interpreter's exit, logging, the test's own polling


def launch(database_url: str, standin: SlackStandIn, cwd: Path, *args: str) -> tuple[subprocess.Popen[bytes], SlackDriver]:
    port = free_port()
    env = bot_env(database_url, SLACK_BOT_TOKEN="xoxb-test-token", SLACK_SIGNING_SECRET=sr.SIGNING_SECRET,
                  SLACK_API_URL=standin.api_url, ALLIANCE_ENCRYPTION_KEY=generate_key(), ALLIANCE_LOG_LEVEL="INFO")
    log = (cwd / "serve.log").open("wb")
    process = subprocess.Popen([str(BIN), "serve", "--port", str(port), "--host", "127.0.0.1", "--no-scheduler", *args],
                               env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    if not came_up(base, process):
        process.kill()
        pytest.fail(f"alliance-bot serve did not come up:\n{(cwd / 'serve.log').read_text()}")
    return process, SlackDriver(base, standin)


@pytest.fixture
def cleanup() -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def stop_and_time(process: subprocess.Popen[bytes]) -> tuple[int, float]:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=60)
    return code, time.monotonic() - started


def test_a_stop_with_slack_answering_slowly_ends_within_the_grace_period(
        database_url: str, standin: SlackStandIn, tmp_path: Path, cleanup: list[subprocess.Popen[bytes]]) -> None:
    process, slack = launch(database_url, standin, tmp_path, "--grace", str(GRACE))
    cleanup.append(process)
    create_case(slack)
    standin.delay_methods["chat.postMessage"] = 30.0  # every DM now takes half a minute…
    standin.delay_methods["conversations.open"] = 30.0
    for kind in ("couple", "family", "individual"):
        answer, _, _ = slack.send_command(THERAPIST, f"new {kind}")  # …and each new case DMs its code
        assert answer.status == 200
    time.sleep(0.5)
    code, seconds = stop_and_time(process)
    logged = (tmp_path / "serve.log").read_text()
    assert seconds < GRACE + MARGIN, f"stopped after {seconds:.1f}s:\n{logged}"
    assert code == 1 and "unfinished" in logged, logged  # it says it gave up, and on what


def test_a_stop_finishes_the_request_in_flight_and_takes_no_new_one(
        database_url: str, standin: SlackStandIn, tmp_path: Path, cleanup: list[subprocess.Popen[bytes]]) -> None:
    process, slack = launch(database_url, standin, tmp_path, "--grace", "10")
    cleanup.append(process)
    case_code = create_case(slack)
    view = slack.open_modal(THERAPIST, case_code)
    body = sr.interaction_body(sr.view_submission(THERAPIST, view, rating_values({"A": 9, "B": 6, "unit": 7,
                                                                                  "collective": 8})))
    answers: list[sr.Answer] = []
    with database_locked(database_url, seconds=1.0):  # the submission waits for the lock…
        sender = threading.Thread(target=lambda: answers.append(slack.post(body, "application/x-www-form-urlencoded")))
        sender.start()
        time.sleep(0.4)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)  # …when the deploy stops the bot
        time.sleep(0.4)
        with pytest.raises(urllib.error.URLError):  # no new request is taken
            urllib.request.urlopen(f"{slack.base_url}/healthz", timeout=2)
    sender.join(timeout=10)
    code = process.wait(timeout=30)
    seconds = time.monotonic() - started
    logged = (tmp_path / "serve.log").read_text()
    assert [(a.status, a.body) for a in answers] == [(200, "")], logged  # answered: saved, the modal closes
    assert code == 0 and seconds < 10, (code, seconds, logged)
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        stored = session.scalars(select(Checkin.id).join(Case, Case.id == Checkin.case_id)
                                 .where(Case.code == case_code)).all()
    engine.dispose()
    assert len(stored) == 1


def test_socket_mode_stops_promptly_on_sigterm(database_url: str, standin: SlackStandIn, tmp_path: Path) -> None:
    from tests.support.socket_mode_server import SocketModeStandIn

    socket = SocketModeStandIn().start()
    standin.socket_url = socket.url
    env = bot_env(database_url, SLACK_BOT_TOKEN="xoxb-test-token", SLACK_APP_TOKEN="xapp-1-test",
                  SLACK_API_URL=standin.api_url, ALLIANCE_ENCRYPTION_KEY=generate_key(), ALLIANCE_LOG_LEVEL="INFO")
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen([str(BIN), "serve", "--socket-mode", "--no-scheduler", "--grace", str(GRACE)], env=env,
                               cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    try:
        socket.wait_for_connection(timeout=20.0)
        code, seconds = stop_and_time(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        socket.stop()
    logged = (tmp_path / "serve.log").read_text()
    assert code == 0 and seconds < 2.0, (code, seconds, logged)
    assert "stopped" in logged and "Traceback" not in logged, logged


def test_a_bad_grace_period_is_one_clear_line(tmp_path: Path) -> None:
    env = bot_env(f"sqlite:///{tmp_path}/x.db", SLACK_BOT_TOKEN="xoxb-test-token", SLACK_SIGNING_SECRET="s",
                  ALLIANCE_ENCRYPTION_KEY=generate_key(), ALLIANCE_STOP_GRACE="soon")
    result = subprocess.run([str(BIN), "serve", "--port", str(free_port())], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "alliance-bot: ALLIANCE_STOP_GRACE must be a number of seconds between 0 and 3600, not 'soon'"]


def test_the_watchdog_ends_the_process_at_the_grace_period() -> None:
    from bot.runtime.stopping import Stopping

    exits: list[tuple[int, float]] = []
    stopping = Stopping(0.3, exit_now=lambda code: exits.append((code, time.monotonic())))
    started = time.monotonic()
    stopping.begin("test")
    assert stopping.event.is_set() and 0 < stopping.remaining() < 0.3
    deadline = time.monotonic() + 5
    while not exits and time.monotonic() < deadline:
        time.sleep(0.02)
    [(code, at)] = exits
    assert code == 1 and 0.3 <= at - started < 2.0  # never before the grace; late only on a loaded machine
    assert stopping.remaining() == 0.0
