"""`alliance-bot serve` as a clinic runs it: a real process, signed requests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from bot.store.crypto import generate_key
from tests.support.driver import SlackDriver, rating_values
from tests.support.served import came_up
from tests.support.slack_requests import SIGNING_SECRET
from tests.support.slack_standin import SlackStandIn
from tests.test_checkins_e2e import THERAPIST, create_case

BIN = Path(sys.executable).parent / "alliance-bot"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ALLIANCE_", "DATABASE_URL"))}
    env.update({"DATABASE_URL": database_url, "ALLIANCE_LOG_LEVEL": "WARNING"})
    env.update(extra)
    return env


@pytest.fixture
def served(database_url: str, standin: SlackStandIn, tmp_path: Path) -> Iterator[SlackDriver]:
    port = free_port()
    env = bot_env(database_url, SLACK_BOT_TOKEN="xoxb-test-token", SLACK_SIGNING_SECRET=SIGNING_SECRET,
                  SLACK_API_URL=standin.api_url, ALLIANCE_ENCRYPTION_KEY=generate_key())
    process = subprocess.Popen([str(BIN), "serve", "--port", str(port), "--host", "127.0.0.1", "--no-scheduler"],
                               env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    if not came_up(base, process):
        process.kill()
        output = process.stdout.read().decode() if process.stdout else ""
        pytest.fail(f"alliance-bot serve did not come up:\n{output}")
    driver = SlackDriver(base, standin)
    driver.process = process  # type: ignore[attr-defined]
    yield driver
    process.terminate()
    process.wait(timeout=10)


def test_served_bot_answers_the_whole_checkin_flow(served: SlackDriver) -> None:
    code = create_case(served)
    assert "Logged session 1" in served.command(THERAPIST, f"log {code} 8 7 8 8").text
    picker_view = served.open_modal(THERAPIST, "")
    assert picker_view["callback_id"] == "checkin_modal"
    view = served.open_modal(THERAPIST, code)
    answer = served.submit(THERAPIST, view, rating_values({"A": 9, "B": 6, "unit": 7, "collective": 8}))
    assert answer.status == 200
    history = served.command(THERAPIST, f"history {code}")
    assert "2 check-ins" in history.text and "8 → 9" in history.text
    for bad in ("frobnicate", f"log {code} 8 11 8 8", f"log {code} 8 7 8", "log CPL-0000 8 7 8 8"):
        reply = served.command(THERAPIST, bad)
        assert reply.ephemeral and reply.text


def test_serve_without_credentials_names_what_to_set(tmp_path: Path) -> None:
    result = subprocess.run([str(BIN), "serve", "--port", str(free_port())], env=bot_env(f"sqlite:///{tmp_path}/x.db"),
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "SLACK_BOT_TOKEN" in result.stderr and "SLACK_SIGNING_SECRET" in result.stderr
    assert "Traceback" not in result.stderr


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    result = subprocess.run([str(BIN), "db", "upgrade"], env=bot_env(url), cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    import sqlite3

    tables = {row[0] for row in sqlite3.connect(f"{tmp_path}/fresh.db").execute("select name from sqlite_master where type='table'")}
    assert {"cases", "checkins", "flags", "audit_log", "alembic_version"} <= tables


def test_a_stop_finishes_what_was_acknowledged(served: SlackDriver, database_url: str) -> None:
    """SIGTERM (a deploy) right after an acknowledgement: the warning that follows the
    check-in is still posted and recorded before the process exits."""
    import signal

    from sqlalchemy import select

    from bot.store.db import make_engine, make_session_factory
    from bot.store.models import Flag

    code = create_case(served)
    served.command(THERAPIST, f"log {code} 8 8 8 8")
    served.command(THERAPIST, f"log {code} 8 7 8 8 session=2")  # same day: an explicit session number
    served.standin.delay_methods["chat.postMessage"] = 1.5  # the warning is still on its way…
    served.command(THERAPIST, f"log {code} 8 4 6 7 session=3")
    time.sleep(0.3)
    process = served.process  # type: ignore[attr-defined]
    process.send_signal(signal.SIGTERM)  # …when the deploy stops the bot
    assert process.wait(timeout=30) == 0
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        posted = session.scalars(select(Flag.message_ts).where(Flag.status == "open")).all()
    engine.dispose()
    assert posted and all(posted), "every open flag's warning was posted and recorded before exiting"


def test_the_first_request_does_not_wait_for_slack_to_say_who_the_bot_is(served: SlackDriver) -> None:
    """Bolt asks `auth.test` once per process. `serve` asks it at start, before any
    request, so a Slack slow to answer it then cannot hold the first acknowledgement past
    Slack's 3 s (the change would be stored after the user was shown a failure)."""
    assert len(served.standin.calls_to("auth.test")) == 1  # asked at start
    served.standin.delay_methods["auth.test"] = 4.0
    answer, _, _ = served.send_command(THERAPIST, "new couple")
    assert answer.status == 200 and "Created" in answer.json()["text"], answer
    assert answer.seconds < 2.0, f"the first request waited {answer.seconds:.1f}s for auth.test"
    assert len(served.standin.calls_to("auth.test")) == 1
