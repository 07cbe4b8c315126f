"""Part 3: the reminder sweep, the daily scan and the digest at health-system
scale, each in a fresh process (time and peak memory), with Slack calls counted
in process; beside each, its floor: the one query that reads what the sweep
needs. Then the same sweeps, small, against a stand-in that allows one message
a second per channel."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.datagen import Encoder, undo_sweep, Scale
from bench.standin_process import REPO, StandinProcess
from bot.store.db import make_engine

JOB_TIMES = (  # each job at a moment when it has its full work to do
    ("scan", datetime.fromisoformat("2026-11-20T11:00:00+00:00")),  # 06:00 in New York
    ("digest", datetime.fromisoformat("2026-11-23T14:30:00+00:00")),  # Monday 09:30 in New York
    ("reminders", datetime.fromisoformat("2026-11-20T23:30:00+00:00")),  # Friday, after 15:00 across the Americas
)


@dataclass
class JobRun:
    job: str
    seconds: float
    peak_mb: float
    before_mb: float
    result: dict[str, Any]
    calls: dict[str, int] = field(default_factory=dict)
    busiest_channel: int = 0
    delivery_seconds: float = 0.0  # the outbox's deliverer sending what the sweep queued, after it

    def summary(self) -> str:
        r = self.result
        done = f"due {r['due']}, queued {r['queued']}" if r["due"] else "nothing queued"
        if r["queued"]:
            done += f", delivered in {self.delivery_seconds:.2f} s after the sweep"
        notes = "; ".join(r.get("notes") or [])
        calls = ", ".join(f"{k} {v}" for k, v in sorted(self.calls.items()))
        return f"{done}{'; ' + notes if notes else ''}{' — Slack calls: ' + calls if calls else ''}"


def run_job(url: str, job: str, now: datetime, api_url: str = "", profile: Path | None = None) -> JobRun:
    command = [sys.executable, "-m", "bench.run_job", "--url", url, "--job", job, "--now", now.isoformat()]
    if api_url:
        command += ["--api-url", api_url]
    if profile is not None:
        command += ["--profile", str(profile)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{job} failed:\n{done.stderr[-3000:]}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return JobRun(job=job, seconds=data["seconds"], peak_mb=data["peak_mb"], before_mb=data["before_mb"],
                  result=data["result"], calls=data.get("calls") or {}, busiest_channel=data.get("busiest_channel", 0),
                  delivery_seconds=data.get("delivery_seconds", 0.0))


def floor_queries(backend: str, job: str, now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """The least a sweep must read, as plain queries."""
    enc = Encoder(backend)
    true = "1" if backend == "sqlite" else "true"
    if job == "reminders":
        return [
            (f"SELECT c.owner_id, c.code, c.last_checkin_at FROM cases c JOIN therapists t ON t.user_id = c.owner_id "
             f"WHERE t.reminders_on = {true} AND c.status = 'active' "
             "AND (c.last_checkin_at IS NULL OR c.last_checkin_at < :since)", {"since": enc.ts(now - timedelta(days=7))}),
            ("SELECT dedupe_key FROM outbox WHERE dedupe_key LIKE :pattern", {"pattern": "reminder:%:2026-W47"}),
        ]
    if job == "scan":
        cutoff = enc.ts(now - timedelta(days=14))
        return [("SELECT id, code, owner_id, last_checkin_at FROM cases WHERE status = 'active' "
                 "AND (last_checkin_at < :cutoff OR (last_checkin_at IS NULL AND created_at < :cutoff))",
                 {"cutoff": cutoff})]
    since = enc.ts(now - timedelta(days=7))
    return [
        ("SELECT f.id, f.rule, f.status, f.opened_at, f.channel_id, f.message_ts, c.code, c.owner_id FROM flags f "
         "JOIN cases c ON c.id = f.case_id WHERE f.status IN ('open', 'discussing') ORDER BY f.opened_at", {}),
        ("SELECT count(*) FROM checkins WHERE created_at >= :since", {"since": since}),
        ("SELECT id, code, owner_id FROM cases WHERE status = 'active' AND last_checkin_at < :cutoff",
         {"cutoff": enc.ts(now - timedelta(days=28))}),
    ]


def floor_seconds(url: str, backend: str, job: str, now: datetime, repeats: int = 3) -> float:
    engine = make_engine(url)
    timings = []
    try:
        for _ in range(repeats):
            started = time.perf_counter()
            with engine.connect() as connection:
                for sql, params in floor_queries(backend, job, now):
                    connection.execute(text(sql), params).fetchall()
            timings.append(time.perf_counter() - started)
    finally:
        engine.dispose()
    return statistics.median(timings)


@dataclass
class SweepOutcome:
    runs: list[JobRun]
    floors: dict[str, float]
    profiles: dict[str, str]  # job -> profile text (for the jobs that missed)


def health_system_sweeps(url: str, backend: str, scale: Scale, limit_seconds: float, limit_mb: float,
                         profile_dir: Path | None) -> SweepOutcome:
    runs = [run_job(url, job, now) for job, now in JOB_TIMES]
    floors = {job: floor_seconds(url, backend, job, now) for job, now in JOB_TIMES}
    profiles: dict[str, str] = {}
    if profile_dir is not None:
        for run in runs:
            if run.seconds < limit_seconds and run.peak_mb < limit_mb:
                continue
            undo_sweep(url, backend, scale)
            path = profile_dir / f"profile-{run.job}-{backend}.txt"
            run_job(url, run.job, dict(JOB_TIMES)[run.job], profile=path)
            profiles[run.job] = path.read_text()
    return SweepOutcome(runs=runs, floors=floors, profiles=profiles)


@dataclass
class PacedOutcome:
    job: str
    free_seconds: float  # against a stand-in without limits
    paced_seconds: float  # against one that allows one message a second per channel
    messages: int
    busiest: int  # messages to the busiest channel
    limited: int  # 429s answered

    @property
    def allowed_seconds(self) -> float:
        """What the limit allows: the unlimited time plus a second for each
        message after the first to the busiest channel."""
        return self.free_seconds + max(self.busiest - 1, 0) * 1.0


def _messages(stats: dict[str, Any]) -> tuple[int, int]:
    per_channel = stats["per_channel"]
    return sum(per_channel.values()), max(per_channel.values(), default=0)


def paced_sweeps(free_url: str, paced_url: str, scale: Scale, burst: int) -> list[PacedOutcome]:
    """Reminders and digest (and a burst of supervision warnings) on two copies of
    one small database: one against an unlimited stand-in, one against a paced one."""
    from bench.stall_local import warnings_burst

    outcomes: dict[str, dict[str, Any]] = {}
    for name, url, per_channel in (("free", free_url, 0.0), ("paced", paced_url, 1.0)):
        with StandinProcess(per_channel=per_channel) as standin:
            for job, now in JOB_TIMES:
                if job == "scan":
                    continue  # sends nothing
                standin.clear()
                run = run_job(url, job, now, api_url=standin.api_url)
                messages, busiest = _messages(standin.stats())
                seconds = run.seconds + run.delivery_seconds  # queued, then sent through the paced stand-in
                outcomes.setdefault(job, {})[name] = (seconds, messages, busiest, standin.stats()["rate_limited"])
            standin.clear()
            seconds = warnings_burst(url, standin.api_url, scale, burst)
            stats = standin.stats()
            messages, busiest = _messages(stats)
            outcomes.setdefault("warnings", {})[name] = (seconds, messages, busiest, stats["rate_limited"])
    return [PacedOutcome(job=job, free_seconds=both["free"][0], paced_seconds=both["paced"][0],
                         messages=both["paced"][1], busiest=both["paced"][2], limited=both["paced"][3])
            for job, both in outcomes.items()]
