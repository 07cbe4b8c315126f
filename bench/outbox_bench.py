"""Part 4 (issue 11): what the outbox costs and how fast it empties.

- warning delivery: 8 senders, each logging a split ("8 3 8 8", which warns at
  once by DM) on its own cases, one a second (Slack's pace for one DM): the time
  from each acknowledgement to the warning reaching the stand-in;
- drain rate on PostgreSQL: N queued DMs to N different people, sent by one and
  then by two `alliance-bot deliver` processes side by side.

    python -m bench.outbox_bench [--postgres-url URL] [--rows N] [--requests N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

from bench.ack_latency import OUT, Server, percentile, prepare_cases, send_all, serve_command
from bench.databases import DEFAULT_POSTGRES, fresh_database, postgres_reachable
from bench.standin_process import StandinProcess
from bot.store import outbox
from bot.store.crypto import generate_key
from bot.store.db import make_engine, make_session_factory
from tests.support import slack_requests as sr

CODE = re.compile(r"\b(?:CPL|IND|FAM)-[0-9A-Z]{4}\b")


@dataclass(frozen=True)
class WarningLatency:
    backend: str
    senders: int
    checkins: int
    warnings: int
    p50_ms: float
    p99_ms: float
    ack_p99_ms: float


@dataclass(frozen=True)
class DrainRate:
    processes: int
    rows: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.rows / self.seconds


def warning_latency(database_url: str, backend: str, senders: int, per_sender: int,
                    standin: StandinProcess) -> WarningLatency:
    codes = prepare_cases(database_url, senders)
    users = list(codes)
    env = {"SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": sr.SIGNING_SECRET,
           "SLACK_API_URL": standin.api_url, "DATABASE_URL": database_url, "ALLIANCE_ENCRYPTION_KEY": generate_key(),
           "ALLIANCE_TIMEZONE": "America/New_York"}
    server = Server(serve_command(), env, OUT / f"serve-warnings-{backend}.log")
    standin.clear()
    sent_at: dict[int, float] = {}
    acked_code: dict[str, float] = {}
    try:
        def body_for(slot: int, index: int) -> bytes:
            user = users[slot]
            code = codes[user][(index // senders) % len(codes[user])]
            return sr.command_body(f"log {code} 8 3 8 8", user, f"{index}.w.trigger", f"{standin.base}/respond/w-{index}")

        answers: dict[int, str] = {}
        latencies, errors, _ = send_all(server.port, senders, senders * per_sender, body_for, sent_at, 1.0, answers)
        for index, answer in answers.items():
            match = CODE.search(answer)
            if match and "Logged session" in answer:
                acked_code.setdefault(match.group(0), sent_at[index])
        deadline = time.monotonic() + 60
        arrivals: dict[str, float] = {}
        while time.monotonic() < deadline:
            for channel, at, text in standin.stats()["posts"]:
                match = CODE.search(text or "")
                if match and "Stall warning" in (text or ""):
                    arrivals.setdefault(match.group(0), at)
            if len(arrivals) >= len(acked_code):
                break
            time.sleep(0.2)
    finally:
        server.stop()
    # From the start of the request that logged the check-in (so the figure includes its acknowledgement).
    waits = [arrivals[code] - acked_code[code] for code in arrivals if code in acked_code]
    return WarningLatency(backend, senders, len(answers), len(waits), percentile(waits, 0.5) * 1000,
                          percentile(waits, 0.99) * 1000, percentile(latencies, 0.99) * 1000)


def drain_rate(database_url: str, rows: int, processes: int, standin: StandinProcess) -> DrainRate:
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        for n in range(rows):
            outbox.enqueue(session, "dm", f"U0DRAIN{n:05d}", {"text": f"message {n}"})
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_API_URL": standin.api_url,
           "DATABASE_URL": database_url, "ALLIANCE_LOG_LEVEL": "WARNING"}
    executable = os.path.join(os.path.dirname(sys.executable), "alliance-bot")
    started = time.monotonic()
    workers = [subprocess.Popen([executable, "deliver", "--seconds", "300"], env=env, cwd=OUT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(processes)]
    while outbox.depth(engine)["pending"] + outbox.depth(engine)["sending"] > 0:
        time.sleep(0.05)
    seconds = time.monotonic() - started
    for worker in workers:
        worker.wait(timeout=60)
    sent = outbox.depth(engine)
    engine.dispose()
    assert sent["failed"] == 0, sent
    return DrainRate(processes, rows, seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.outbox_bench", description=__doc__)
    parser.add_argument("--postgres-url", default=os.environ.get("ALLIANCE_TEST_DATABASE_URL") or DEFAULT_POSTGRES)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--per-sender", type=int, default=16)  # one check-in per case: each warns once
    args = parser.parse_args(argv)
    pg = args.postgres_url if postgres_reachable(args.postgres_url) is None else None
    results: dict[str, object] = {}
    with StandinProcess() as standin:
        for backend in ["sqlite"] + (["postgresql"] if pg else []):
            db = fresh_database(backend, "warnings", pg)
            try:
                results[f"warnings-{backend}"] = asdict(warning_latency(db.url, backend, 8, args.per_sender, standin))
            finally:
                db.drop(pg)
            print(json.dumps(results[f"warnings-{backend}"]), flush=True)
        if pg:
            for processes in (1, 2):
                db = fresh_database("postgresql", "drain", pg)
                try:
                    rate = drain_rate(db.url, args.rows, processes, standin)
                finally:
                    db.drop(pg)
                results[f"drain-{processes}"] = {**asdict(rate), "per_second": rate.per_second}
                print(json.dumps(results[f"drain-{processes}"]), flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "outbox-bench.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
