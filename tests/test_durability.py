"""Issue 11, "done when": a burst of `/alliance log` commands and modal submissions
at 8 concurrent senders against REAL `alliance-bot serve` processes, one killed
with SIGKILL in the middle. Every request answered HTTP 200 is stored exactly once,
and every message those check-ins queued reaches the stand-in exactly once.

SQLite: one process, killed and restarted on the same file. PostgreSQL: two
processes share the database; one is killed and never comes back, and the other
delivers what the dead one had claimed (after its claim expires on the database's
clock)."""

from __future__ import annotations

import json

import re
import signal
import subprocess
import http.client
import threading
import time
import urllib.error
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import func, select

from bot.store import outbox
from bot.store.crypto import generate_key
from bot.store.db import make_engine
from bot.store.models import Case, Checkin, Flag, OutboxMessage
from tests.support.served import came_up
from tests.support import slack_requests as sr
from tests.support.driver import SlackDriver, rating_values, text_value
from tests.support.slack_requests import SIGNING_SECRET
from tests.support.slack_standin import SlackStandIn
from tests.test_cli_serve import BIN, bot_env, free_port

SENDERS = 8
COMMANDS = 150
SUBMISSIONS = 150
LEASE_SECONDS = "3"
THERAPISTS = [f"U0THERA{n:02d}" for n in range(1, SENDERS + 1)]


def ratings_for(session: int) -> str:
    """Mostly steady; every eighth session a split and a drop, which open flags
    (a root, then edits and thread replies while they stay open)."""
    return "9 4 7 7" if session % 8 == 5 else "8 8 8 8"


class Server:
    def __init__(self, database_url: str, standin: SlackStandIn, cwd: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = bot_env(database_url, SLACK_BOT_TOKEN="xoxb-test-token", SLACK_SIGNING_SECRET=SIGNING_SECRET,
                           SLACK_API_URL=standin.api_url, ALLIANCE_ENCRYPTION_KEY=KEY,
                           ALLIANCE_OUTBOX_LEASE_SECONDS=LEASE_SECONDS)
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "Server":
        self.process = subprocess.Popen(
            [str(BIN), "serve", "--port", str(self.port), "--host", "127.0.0.1", "--no-scheduler"],
            env=self.env, cwd=self.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert came_up(self.base, self.process), "alliance-bot serve did not come up"
        return self

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


KEY = generate_key()


@dataclass
class Burst:
    acked: list[tuple[str, int]] = field(default_factory=list)  # (case code, session) answered 200
    failed: int = 0
    answered: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _post(base: str, body: bytes) -> tuple[int, str]:
    try:
        answer = sr.post(f"{base}/slack/events", body, sr.signed_headers(body, "application/x-www-form-urlencoded"),
                         timeout=10)
        return answer.status, answer.body
    except (OSError, urllib.error.URLError, http.client.HTTPException):
        # Killed mid-answer (e.g. headers sent, body cut off): Slack would count that
        # as no acknowledgement, and so does this test.
        return 0, ""


def setup_cases(driver: SlackDriver) -> tuple[list[str], list[dict[str, Any]]]:
    codes, views = [], []
    for therapist in THERAPISTS:
        reply = driver.command(therapist, "new couple")
        match = re.search(r"\bCPL-[0-9A-Z]{4}\b", reply.text)
        assert match, reply.text
        codes.append(match.group(0))
        views.append(driver.open_modal(therapist, match.group(0)))
    return codes, views


def send_burst(bases: list[str], codes: list[str], views: list[dict[str, Any]], standin: SlackStandIn,
               kill_after: int, kill: Any) -> Burst:
    """Each sender owns one case and alternates a typed `log` and a modal submission,
    session numbers counting up; after `kill_after` answers the kill happens."""
    burst = Burst()
    per_sender = (COMMANDS + SUBMISSIONS) // SENDERS
    killed = threading.Event()

    def sender(index: int) -> None:
        code, view, user = codes[index], views[index], THERAPISTS[index]
        base = bases[index % len(bases)]
        for step in range(per_sender + (1 if index < (COMMANDS + SUBMISSIONS) % SENDERS else 0)):
            session = step + 1
            if step % 2 == 0:
                body = sr.command_body(f"log {code} {ratings_for(session)} session={session}", user,
                                       standin.new_trigger(), standin.response_url())
                status, text = _post(base, body)
                ok = status == 200
                if ok and f"Logged session {session}" not in text:
                    refused.append(text)
            else:
                values = rating_values(dict(zip(("A", "B", "unit", "collective"),
                                                (int(r) for r in ratings_for(session).split()))))
                values["session"] = text_value(str(session))
                payload = sr.view_submission(user, view, values, view_id=f"V{index:02d}S{session:04d}", view_hash="h1")
                status, text = _post(base, sr.interaction_body(payload))
                ok = status == 200
                if ok and "errors" in text:
                    refused.append(text)
            with burst.lock:
                burst.answered += 1
                if ok:
                    burst.acked.append((code, session))
                else:
                    burst.failed += 1
                if burst.answered >= kill_after and not killed.is_set():
                    killed.set()
                    threading.Thread(target=kill).start()
            if not ok:
                time.sleep(0.3)  # the server is down: the next request, a little later
                if len(bases) > 1:
                    base = bases[(bases.index(base) + 1) % len(bases)]  # the load balancer moves on

    refused: list[str] = []
    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        list(pool.map(sender, range(SENDERS)))
    assert refused == [], "every answered request was a stored check-in"
    return burst


def wait_delivered(database_url: str, timeout: float = 240.0) -> list[OutboxMessage]:
    engine = make_engine(database_url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            depth = outbox.depth(engine)
            if depth["pending"] == depth["sending"] == depth["held"] == 0:
                break
            time.sleep(0.5)
        from sqlalchemy.orm import Session

        with Session(engine) as session:
            return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    finally:
        engine.dispose()


def check_exactly_once(database_url: str, burst: Burst, standin: SlackStandIn) -> dict[str, int]:
    rows = wait_delivered(database_url)
    assert rows, "the check-ins queued messages"
    assert Counter(r.status for r in rows) == Counter({outbox.SENT: len(rows)}), \
        Counter((r.status, r.last_error) for r in rows)
    engine = make_engine(database_url)
    from sqlalchemy.orm import Session

    try:
        with Session(engine) as session:
            stored = Counter((code, number) for code, number in
                             session.execute(select(Case.code, Checkin.session_number).join(Checkin)))
            roots = {(channel, ts) for channel, ts in session.execute(select(Flag.channel_id, Flag.message_ts))}
            checkins = session.scalar(select(func.count()).select_from(Checkin)) or 0
    finally:
        engine.dispose()
    # Every request answered 200 is stored, exactly once (and nothing is stored twice).
    assert [key for key in burst.acked if stored[key] != 1] == []
    assert max(stored.values()) == 1
    # Every message queued reached Slack exactly once: one message carrying each row's id.
    carried = Counter(m["metadata"]["event_payload"]["outbox_id"]
                      for messages in standin.messages.values() for m in messages
                      if (m.get("metadata") or {}).get("event_type") == "alliance_outbox")
    posting = [r.id for r in rows if r.kind in ("post", "reply", "dm")]
    assert [row_id for row_id in posting if carried[row_id] != 1] == []
    updates = [r for r in rows if r.kind == "update"]
    assert all(r.result_ts for r in updates)
    # No warning root twice: every root in Slack is one the flags point at.
    warning_roots = {(channel, m["ts"]) for channel, messages in standin.messages.items() for m in messages
                     if "thread_ts" not in m and "Stall warning" in (m.get("text") or "")}
    assert warning_roots == {root for root in roots if root[1]}
    return {"acked": len(burst.acked), "failed": burst.failed, "stored": checkins, "messages": len(posting),
            "edits": len(updates)}


@pytest.fixture
def big_standin() -> Iterator[SlackStandIn]:
    server = SlackStandIn().start()
    yield server
    server.stop()


def test_kill_9_in_a_burst_loses_nothing_acknowledged_on_sqlite(sqlite_url: str, big_standin: SlackStandIn,
                                                                  tmp_path: Path) -> None:
    server = Server(sqlite_url, big_standin, tmp_path).start()
    try:
        codes, views = setup_cases(SlackDriver(server.base, big_standin))

        def kill_and_restart() -> None:
            server.kill()
            server.start()  # the same database, the same port

        burst = send_burst([server.base], codes, views, big_standin, (COMMANDS + SUBMISSIONS) // 2, kill_and_restart)
        figures = check_exactly_once(sqlite_url, burst, big_standin)
    finally:
        server.stop()
    assert figures["acked"] >= (COMMANDS + SUBMISSIONS) // 2
    print(json.dumps(figures))


@pytest.mark.postgres
def test_two_processes_on_postgresql_one_killed_lose_and_repeat_nothing(big_standin: SlackStandIn,
                                                                         tmp_path: Path) -> None:
    from tests.support import databases

    base_url = databases.postgres_base_url()
    if base_url is None:
        pytest.skip(f"PostgreSQL tests need {databases.POSTGRES_ENV}")
    url, schema = databases.fresh_postgres(base_url)
    first = Server(url, big_standin, tmp_path).start()
    second = Server(url, big_standin, tmp_path).start()
    try:
        codes, views = setup_cases(SlackDriver(first.base, big_standin))
        burst = send_burst([first.base, second.base], codes, views, big_standin, (COMMANDS + SUBMISSIONS) // 2,
                           first.kill)
        figures = check_exactly_once(url, burst, big_standin)
    finally:
        first.stop()
        second.stop()
        databases.drop_postgres_schema(base_url, schema)
    assert figures["acked"] >= (COMMANDS + SUBMISSIONS) // 2
    print(json.dumps(figures))



