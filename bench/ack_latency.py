"""Part 1: acknowledgement latency of signed `/alliance log CASE 8 7 8 8`
requests from 1, 8 and 32 concurrent senders, against `alliance-bot serve` as a
real subprocess and against the bare Bolt app (the floor) on the same stack.

Each sender is one therapist logging their own 16 cases in turn over one keep-alive
connection, one request at a time. Since issue 11 the acknowledgement itself
carries the reply, and the check-in is stored before it: right after a level's
last acknowledgement the benchmark counts the check-ins stored (they must all be
there) and checks that every acknowledgement said "Logged session"."""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from sqlalchemy import func, select

from bench.databases import OUT
from bench.standin_process import REPO, StandinProcess
from bot.domain.access import Actor
from bot.store.crypto import generate_key
from bot.store.db import make_engine, make_session_factory
from bot.domain.cases import CaseKind
from bot.store.models import Checkin
from bot.usecases.cases import create_case
from tests.support import slack_requests as sr
from tests.support.proc_cpu import cpu_seconds

CASES_PER_SENDER = 16  # a case comes round again only after its last check-in is long stored
WARMUP_PER_SENDER = 2


@dataclass(frozen=True)
class Level:
    senders: int
    requests: int
    pause: float  # seconds each sender waits after an acknowledgement before its next request
    p50_ms: float
    p99_ms: float
    throughput: float  # acknowledgements a second
    errors: int
    reply_p50_ms: float | None = None  # until the reply was in hand: the acknowledgement itself
    reply_p99_ms: float | None = None
    replied: int | None = None  # acknowledgements that carried "Logged session" (None for the bare app)
    stored: int | None = None  # check-ins stored at this level (None for the bare app)
    server_cpu_ms: float | None = None  # CPU the server's processes used per request at this level


def sender_id(index: int) -> str:
    return f"U0SEND{index:03d}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(round(share * (len(ordered) - 1))), len(ordered) - 1)]


def prepare_cases(url: str, senders: int) -> dict[str, list[str]]:
    """CASES_PER_SENDER couple cases for each sender; returns their codes by sender."""
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    now = datetime.now(timezone.utc)
    codes: dict[str, list[str]] = {}
    with sessions.begin() as session:
        for index in range(senders):
            actor = Actor(user_id=sender_id(index))
            codes[actor.user_id] = [create_case(session, actor, CaseKind.COUPLE, 2, (), now).code
                                    for _ in range(CASES_PER_SENDER)]
    engine.dispose()
    return codes


def count_checkins(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as connection:
        count = int(connection.execute(select(func.count()).select_from(Checkin)).scalar() or 0)
    engine.dispose()
    return count


class Server:
    """`alliance-bot serve` or the bare app, as a subprocess on a free port."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        OUT.mkdir(exist_ok=True)
        self._log = log.open("w")
        self.process = subprocess.Popen(command + ["--host", "127.0.0.1", "--port", str(self.port)],
                                        env={**os.environ, **env}, stdout=self._log, stderr=subprocess.STDOUT,
                                        cwd=OUT)
        self.wait_healthy()

    def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}; see {self._log.name}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not healthy after {timeout:.0f}s; see {self._log.name}")

    def cpu_seconds(self) -> float | None:
        """User and system CPU the server has used so far: its process and, with
        `--workers`, the processes it forked (Linux /proc; None elsewhere)."""
        try:
            pids = [self.process.pid] + [int(child) for child in Path(
                f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()]
            return sum(cpu_seconds(f"/proc/{pid}/stat") for pid in pids)
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


def serve_command() -> list[str]:
    executable = shutil.which("alliance-bot", path=str(Path(sys.executable).parent)) or "alliance-bot"
    help_text = subprocess.run([executable, "serve", "--help"], capture_output=True, text=True).stdout
    return [executable, "serve"] + (["--no-scheduler"] if "--no-scheduler" in help_text else [])


def send_all(port: int, senders: int, total: int, body_for: Callable[[int, int], bytes],
             sent_at: dict[int, float], pause: float = 0.0,
             answers: dict[int, str] | None = None) -> tuple[list[float], int, float]:
    """`total` requests from `senders` threads, each waiting for its answer (and
    then `pause` seconds) before sending the next; returns latencies (s), errors
    and the wall time."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(total))

    def sender(slot: int) -> None:
        nonlocal errors
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        if pause:
            time.sleep(pause * slot / senders)  # staggered, so the senders do not move in step
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                break
            body = body_for(slot, index)
            headers = sr.signed_headers(body, "application/x-www-form-urlencoded")
            started = time.monotonic()
            sent_at[index] = started
            try:
                connection.request("POST", "/slack/events", body, headers)
                response = connection.getresponse()
                answer = response.read()
                ok = response.status == 200
                if answers is not None:
                    answers[index] = answer.decode(errors="replace")
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok = False
            elapsed = time.monotonic() - started
            with lock:
                latencies.append(elapsed)
                errors += 0 if ok else 1
            if pause:
                time.sleep(pause)
        connection.close()

    threads = [threading.Thread(target=sender, args=(slot,)) for slot in range(senders)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors, time.monotonic() - started


LevelSpec = tuple[int, float]  # senders, pause after each acknowledgement (s)


def run_levels(port: int, standin: StandinProcess, codes: dict[str, list[str]], levels: tuple[LevelSpec, ...],
               requests: int, label: str, database_url: str | None,
               server_cpu: Callable[[], float | None] = lambda: None) -> list[Level]:
    users = list(codes)
    results: list[Level] = []
    sessions: dict[str, int] = {}  # the next session number per case: many logs a day name their session
    numbering = threading.Lock()
    stored_before = count_checkins(database_url) if database_url else 0
    rounds = [("warmup", len(users), len(users) * WARMUP_PER_SENDER, 0.0)] + [
        (f"L{n}p{int(pause * 1000)}", n, requests, pause) for n, pause in levels]
    for name, senders, total, pause in rounds:
        prefix = f"/respond/{label}-{name}-"
        sent_at: dict[int, float] = {}

        def body_for(slot: int, index: int) -> bytes:
            user = users[index % len(users)] if name == "warmup" else users[slot]
            user_codes = codes[user]
            code = user_codes[index % len(user_codes)]
            with numbering:
                number = sessions[code] = sessions.get(code, 0) + 1
            return sr.command_body(f"log {code} 8 7 8 8 session={number}", user, f"{index}.{label}.trigger",
                                   f"{standin.base}{prefix}{index}")

        answers: dict[int, str] = {}
        cpu_before = server_cpu()
        latencies, errors, wall = send_all(port, senders, total, body_for, sent_at, pause, answers)
        cpu_after = server_cpu()
        stored = replied = None
        if database_url:  # counted right after the last acknowledgement: stored before it, or not at all
            stored_now = count_checkins(database_url)
            stored, stored_before = stored_now - stored_before, stored_now
            replied = sum("Logged session" in answer for answer in answers.values())
        if name == "warmup":
            continue
        results.append(Level(
            senders=senders, requests=total, pause=pause, p50_ms=percentile(latencies, 0.50) * 1000,
            p99_ms=percentile(latencies, 0.99) * 1000, throughput=total / wall, errors=errors,
            reply_p50_ms=percentile(latencies, 0.50) * 1000 if database_url else None,
            reply_p99_ms=percentile(latencies, 0.99) * 1000 if database_url else None, stored=stored,
            replied=replied, server_cpu_ms=(cpu_after - cpu_before) / total * 1000
            if cpu_before is not None and cpu_after is not None else None))
    return results


def measure_alliance(database_url: str, backend: str, levels: tuple[LevelSpec, ...], requests: int,
                     standin: StandinProcess, workers: int = 1) -> list[Level]:
    codes = prepare_cases(database_url, max(n for n, _ in levels))
    env = {"SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": sr.SIGNING_SECRET,
           "SLACK_API_URL": standin.api_url, "DATABASE_URL": database_url, "ALLIANCE_ENCRYPTION_KEY": generate_key(),
           "ALLIANCE_SUPERVISION_CHANNEL": "C0SUPERV1", "ALLIANCE_TIMEZONE": "America/New_York"}
    extra = ["--workers", str(workers)] if workers > 1 else []
    server = Server(serve_command() + extra, env, OUT / f"serve-{backend}{'-w%d' % workers if workers > 1 else ''}.log")
    try:
        return run_levels(server.port, standin, codes, levels, requests, backend, database_url, server.cpu_seconds)
    finally:
        server.stop()


def measure_bare(levels: tuple[LevelSpec, ...], requests: int, standin: StandinProcess,
                 workers: int = 1, process_before_response: bool = True) -> list[Level]:
    """The floor, by default with the Bolt setting Alliance runs with
    (`process_before_response`); False measures Bolt's default (an ack poll every 10 ms)."""
    codes = {sender_id(i): ["CPL-7KQ2"] for i in range(max(n for n, _ in levels))}
    env = {"SLACK_SIGNING_SECRET": sr.SIGNING_SECRET, "SLACK_API_URL": standin.api_url,
           "PYTHONPATH": str(REPO)}
    extra = ["--workers", str(workers)] if workers > 1 else []
    if process_before_response:
        extra.append("--process-before-response")
    suffix = ("-w%d" % workers if workers > 1 else "") + ("" if process_before_response else "-polling")
    server = Server([sys.executable, "-m", "bench.bare_app", *extra], env, OUT / f"bare{suffix}.log")
    try:
        return run_levels(server.port, standin, codes, levels, requests, "bare", None, server.cpu_seconds)
    finally:
        server.stop()
