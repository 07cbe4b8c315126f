"""Issue 4's "done when", through the real command line: `alliance-bot run-job`
shares the database with the running bot; `alliance-bot scheduler` and `serve`
run the sweeps themselves, one scheduler at a time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import pytest

from bot.store.crypto import generate_key
from bot.runtime.bootstrap import Runtime
from bot.runtime.cli import main
from bot.store.models import SchedulerLease
from bot.jobs.sweeps import run_digest
from bot.jobs.lease import Lease
from bot.jobs.scheduler import AllianceScheduler
from bot.settings import Settings
from bot.slack.pacing import ChannelPacer
from tests.support.outbox import drain_outbox
from tests.support.schedule_data import SUPERVISION_CHANNEL, add_flag, add_therapist, log_checkin, make_case
from tests.support.slack_requests import SIGNING_SECRET
from tests.support.slack_standin import SlackStandIn, User
from tests.test_cli_serve import bot_env, free_port

BIN = Path(sys.executable).parent / "alliance-bot"
UTC = timezone.utc
NY, TOKYO = "U0THERA01", "U0THERA02"
CREATED = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def job_env(settings: Settings, standin: SlackStandIn) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ALLIANCE_", "DATABASE_URL"))}
    env.update({"DATABASE_URL": settings.database_url, "SLACK_API_URL": standin.api_url,
                "SLACK_BOT_TOKEN": "xoxb-test-token", "ALLIANCE_ENCRYPTION_KEY": settings.encryption_key or "",
                "ALLIANCE_SUPERVISION_CHANNEL": SUPERVISION_CHANNEL, "ALLIANCE_TIMEZONE": "America/New_York",
                "ALLIANCE_LOG_LEVEL": "WARNING"})
    return env


def run_job(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), "run-job", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def dms(standin: SlackStandIn, user: str) -> list[Any]:
    return [c for c in standin.calls_to("chat.postMessage") if c.args.get("channel") == user]


def test_run_job_reminders_and_digest_as_a_cron_user_would(runtime: Runtime, standin: SlackStandIn,
                                                          tmp_path: Path) -> None:
    services = runtime.services
    standin.users[TOKYO] = User(tz="Asia/Tokyo")
    ny_cases = [make_case(services, NY, CREATED) for _ in range(2)]
    logged = make_case(services, NY, CREATED)
    log_checkin(services, NY, logged, datetime(2026, 11, 19, 15, 0, tzinfo=UTC))
    tokyo_case = make_case(services, TOKYO, CREATED)
    add_flag(services, ny_cases[0], "split_alliance", datetime(2026, 11, 12, 15, 0, tzinfo=UTC),
             message_ts="1700000200.000300")
    log_checkin(services, NY, ny_cases[0], datetime(2026, 11, 12, 14, 0, tzinfo=UTC), rating=5)
    env = job_env(runtime.settings, standin)

    first = run_job(env, tmp_path, "reminders", "--now", "2026-11-20T15:05:00-05:00")
    assert first.returncode == 0, first.stderr
    assert "queued 1," in first.stdout and "delivered 1, failed 0, waiting 0" in first.stdout
    assert first.stdout.count("\n") == 1
    [dm] = dms(standin, NY)
    assert all(code in dm.args["text"] for code in ny_cases) and logged not in dm.args["text"]
    assert dms(standin, TOKYO) == []  # 05:05 on Saturday in Tokyo

    second = run_job(env, tmp_path, "reminders", "--now", "2026-11-20T15:10:00-05:00")
    assert second.returncode == 0 and "queued 0," in second.stdout
    assert len(dms(standin, NY)) == 1

    tokyo = run_job(env, tmp_path, "reminders", "--now", "2026-11-27T15:05:00+09:00")
    assert tokyo.returncode == 0 and "queued 1," in tokyo.stdout, tokyo.stdout + tokyo.stderr
    [tokyo_dm] = dms(standin, TOKYO)
    assert tokyo_case in tokyo_dm.args["text"]
    assert len(dms(standin, NY)) == 1

    digest = run_job(env, tmp_path, "digest", "--now", "2026-11-23T09:05:00-05:00")
    assert digest.returncode == 0 and "queued 2," in digest.stdout, digest.stdout + digest.stderr
    assert "delivered 2, failed 0, waiting 0" in digest.stdout  # the digest and its chart, in its thread
    [post] = [c for c in standin.calls_to("chat.postMessage") if c.args["channel"] == SUPERVISION_CHANNEL]
    blocks_text = "\n".join((b.get("text") or {}).get("text", "") for b in post.args["blocks"])
    assert f"*{ny_cases[0]}* · Split alliance · open" in blocks_text and "<@" not in blocks_text  # issue 13: nobody mentioned
    assert f"<https://clinic.example/archives/{SUPERVISION_CHANNEL}/p1700000200000300|thread>" in blocks_text
    assert len(standin.uploads) == 1 and len(standin.calls_to("files.completeUploadExternal")) == 1
    again = run_digest(services, datetime(2026, 11, 23, 15, 0, tzinfo=UTC), ChannelPacer())  # the same database
    assert (again.queued, again.already) == (0, 1)
    assert len(standin.uploads) == 1


def test_run_job_refuses_a_malformed_now(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run-job", "digest", "--now", "next monday"]) == 2
    assert "ISO-8601" in capsys.readouterr().err


def test_run_job_delivers_every_reminder_once_when_every_third_call_is_429(runtime: Runtime, standin: SlackStandIn,
                                                                          tmp_path: Path) -> None:
    therapists = [f"U0THERA{n:02d}" for n in range(1, 5)]
    for user in therapists:
        make_case(runtime.services, user, CREATED)
    standin.rate_limit_every = 3
    standin.retry_after = 0
    result = run_job(job_env(runtime.settings, standin), tmp_path, "reminders", "--now", "2026-11-20T15:05:00-05:00")
    assert result.returncode == 0, result.stderr
    assert "queued 4, already queued 0" in result.stdout and "delivered 4, failed 0, waiting 0" in result.stdout
    assert standin.rate_limited >= 2
    assert sorted(c.args["channel"] for c in standin.calls_to("chat.postMessage")) == therapists


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_two_schedulers_one_acts_and_a_restart_sends_nothing_again(runtime: Runtime, standin: SlackStandIn,
                                                                  clock: Any) -> None:
    services = runtime.services
    make_case(services, NY, CREATED)
    clock.now = datetime(2026, 11, 20, 22, 30, tzinfo=UTC)  # 17:30: the 15:00 reminder fell due while down
    schedulers = [AllianceScheduler(services, Lease(services.session_factory, f"replica-{n}"), pacer=ChannelPacer())
                  for n in (1, 2)]
    for scheduler in schedulers:
        scheduler.start()
    try:
        wait_until(lambda: all("reminders" in s.last_runs and "digest" in s.last_runs for s in schedulers))
    finally:
        for scheduler in schedulers:
            scheduler.shutdown()
    acted = [s for s in schedulers if s.last_runs["reminders"] is not None]
    assert len(acted) == 1 and acted[0].last_runs["reminders"].queued == 1  # type: ignore[union-attr]
    drain_outbox(runtime)  # as `serve`'s deliverer would
    assert len(dms(standin, NY)) == 1

    restarted = AllianceScheduler(services, Lease(services.session_factory, "replica-3"), pacer=ChannelPacer())
    restarted.start()  # the others released the lease on shutdown
    try:
        wait_until(lambda: "reminders" in restarted.last_runs)
    finally:
        restarted.shutdown()
    assert restarted.last_runs["reminders"] is not None and restarted.last_runs["reminders"].queued == 0
    drain_outbox(runtime)
    assert len(dms(standin, NY)) == 1


def test_the_scheduler_command_sends_what_is_due_and_hands_the_lease_back(runtime: Runtime, standin: SlackStandIn,
                                                                          tmp_path: Path) -> None:
    """`alliance-bot scheduler` runs on the real clock: the therapist's reminder is
    set to a minute ago, local time."""
    a_minute_ago = datetime.now(UTC).astimezone(runtime.settings.zone) - timedelta(minutes=1)
    add_therapist(runtime.services, NY, CREATED, remind_day=a_minute_ago.weekday(),
                  remind_time=a_minute_ago.strftime("%H:%M"))
    code = make_case(runtime.services, NY, CREATED)
    process = subprocess.Popen([str(BIN), "scheduler"], env=job_env(runtime.settings, standin), cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        [dm] = standin.wait_for("chat.postMessage", timeout=30)
        assert dm.args["channel"] == NY and code in dm.args["text"]
        with runtime.services.session_factory.begin() as session:
            lease = session.get(SchedulerLease, "scheduler")
            assert lease is not None and lease.expires_at > datetime.now(UTC)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    with runtime.services.session_factory.begin() as session:
        lease = session.get(SchedulerLease, "scheduler")
        assert lease is not None and lease.expires_at < datetime.now(UTC)  # handed back on the way out
    assert len(standin.calls_to("chat.postMessage")) == 1


def lease_holder(database_url: str) -> str | None:
    from bot.store.db import make_engine, make_session_factory

    engine = make_engine(database_url)
    try:
        with make_session_factory(engine).begin() as session:
            row = session.get(SchedulerLease, "scheduler")
            return row.holder if row is not None else None
    finally:
        engine.dispose()


@pytest.mark.parametrize("flags, runs_scheduler", [((), True), (("--no-scheduler",), False)])
def test_serve_runs_the_scheduler_unless_told_not_to(sqlite_url: str, standin: SlackStandIn, tmp_path: Path,
                                                     flags: tuple[str, ...], runs_scheduler: bool) -> None:
    port = free_port()
    env = bot_env(sqlite_url, SLACK_BOT_TOKEN="xoxb-test-token", SLACK_SIGNING_SECRET=SIGNING_SECRET,
                  SLACK_API_URL=standin.api_url, ALLIANCE_ENCRYPTION_KEY=generate_key())
    process = subprocess.Popen([str(BIN), "serve", "--port", str(port), "--host", "127.0.0.1", *flags],
                               env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        def healthy() -> bool:
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    return response.status == 200
            except OSError:
                return False

        wait_until(healthy, timeout=30)
        if runs_scheduler:
            wait_until(lambda: lease_holder(sqlite_url) is not None)
        else:
            time.sleep(0.5)
            assert lease_holder(sqlite_url) is None
    finally:
        process.terminate()
        process.wait(timeout=10)
