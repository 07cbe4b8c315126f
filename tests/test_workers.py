"""`alliance-bot serve --workers N`: processes forked from one, sharing the port.
A real process tree, signed requests: every acknowledged check-in is stored once,
a worker that cannot run leaves the port to the others, what any worker queues is
delivered (by worker 0), a dead worker is started again, and SIGTERM stops them all
within the grace period."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from sqlalchemy import func, select

from bot.store.db import make_engine
from bot.store.models import Case, Checkin
from bot.runtime.workers import QUICK_DEATH_SECONDS
from tests.support.slack_standin import SlackStandIn
from tests.test_checkins_e2e import THERAPIST, create_case
from tests.test_stopping import MARGIN, cleanup, launch, stop_and_time  # noqa: F401 - cleanup is a fixture

GRACE = 6.0


def workers_of(process: subprocess.Popen[bytes], count: int, timeout: float = 15.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while True:
        path = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        pids = [int(p) for p in path.read_text().split()] if path.exists() else []
        if len(pids) == count or time.monotonic() > deadline:
            return pids
        time.sleep(0.05)


def stored(database_url: str, code: str) -> list[int]:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        numbers = connection.execute(select(Checkin.session_number).join(Case, Case.id == Checkin.case_id)
                                     .where(Case.code == code).order_by(Checkin.session_number)).scalars().all()
    engine.dispose()
    return list(numbers)


def test_workers_share_the_port_deliver_what_any_queues_and_stop_together(
        database_url: str, standin: SlackStandIn, tmp_path: Path, cleanup: list[subprocess.Popen[bytes]]) -> None:
    process, slack = launch(database_url, standin, tmp_path, "--workers", "2", "--grace", str(GRACE))
    cleanup.append(process)
    started = time.monotonic()
    workers = workers_of(process, 2)
    assert len(workers) == 2, (tmp_path / "serve.log").read_text()
    codes = [create_case(slack) for _ in range(8)]  # their DMs are sent by worker 0's deliverer
    code = codes[0]

    replies: dict[tuple[str, int], str] = {}

    def send(case: str) -> None:  # one sender per case, as each therapist logs their own
        for number in range(1, 4):
            replies[case, number] = slack.command(THERAPIST, f"log {case} 8 7 8 8 session={number}").text

    senders = [threading.Thread(target=send, args=(case,)) for case in codes]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(timeout=30)
    assert len(replies) == 24
    assert all(f"Logged session {n}" in text for (_, n), text in replies.items()), replies
    for case in codes:
        assert stored(database_url, case) == [1, 2, 3]  # each once

    # Worker 0 stopped (it delivers): the other still answers on the same port, and the
    # warning it queues goes out once worker 0 runs again.
    before = len(standin.calls_to("chat.postMessage"))
    os.kill(workers[0], signal.SIGSTOP)
    try:
        assert "Logged session 4" in slack.command(THERAPIST, f"log {code} 8 2 8 8 session=4").text
    finally:
        os.kill(workers[0], signal.SIGCONT)
    deadline = time.monotonic() + 10
    while not [c for c in standin.calls_to("chat.postMessage")[before:] if code in str(c.args)]:
        assert time.monotonic() < deadline, f"no warning for {code}: {standin.methods()}"
        time.sleep(0.05)

    # A worker that dies is started again; the port keeps answering.
    time.sleep(max(0.0, QUICK_DEATH_SECONDS + 0.5 - (time.monotonic() - started)))
    os.kill(workers[1], signal.SIGKILL)
    deadline = time.monotonic() + 15
    while not ((now := workers_of(process, 2, timeout=0.1)) and len(now) == 2 and workers[1] not in now):
        assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
        time.sleep(0.1)
    assert "Logged session 5" in slack.command(THERAPIST, f"log {code} 8 7 8 8 session=5").text

    status, seconds = stop_and_time(process)
    logged = (tmp_path / "serve.log").read_text()
    assert status == 0 and seconds < GRACE + MARGIN, (status, seconds, logged)
    for pid in now:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
    assert stored(database_url, code) == [1, 2, 3, 4, 5]


def test_workers_stop_when_their_parent_is_killed(
        database_url: str, standin: SlackStandIn, tmp_path: Path, cleanup: list[subprocess.Popen[bytes]]) -> None:
    process, slack = launch(database_url, standin, tmp_path, "--workers", "2", "--grace", str(GRACE))
    cleanup.append(process)
    workers = workers_of(process, 2)
    assert len(workers) == 2
    process.kill()  # SIGKILL: the parent cannot pass anything on
    process.wait(timeout=10)
    deadline = time.monotonic() + GRACE + MARGIN + 2
    while any(alive(pid) for pid in workers):
        assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
        time.sleep(0.1)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_workers_are_for_http_mode_and_counted_sensibly(tmp_path: Path) -> None:
    from tests.test_cli_serve import BIN, bot_env, free_port

    env = bot_env(f"sqlite:///{tmp_path}/x.db", SLACK_BOT_TOKEN="xoxb-test-token", SLACK_SIGNING_SECRET="s",
                  SLACK_APP_TOKEN="xapp-test", ALLIANCE_ENCRYPTION_KEY="")
    for args, said in ((["--workers", "0"], "--workers takes a number"),
                       (["--workers", "2", "--socket-mode"], "--workers is for HTTP mode")):
        result = subprocess.run([str(BIN), "serve", "--port", str(free_port()), "--dev", *args], env=env,
                                cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and said in result.stderr, result.stderr
