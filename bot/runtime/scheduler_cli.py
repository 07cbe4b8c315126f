"""The scheduling parts of `alliance-bot`: `run-job`, `scheduler`, and the
scheduler that `serve` starts unless told `--no-scheduler`."""

from __future__ import annotations

import argparse
import atexit
import logging
import signal
import threading
from datetime import datetime
from typing import Any

from bot.slack.services import Services
from bot.settings import Settings, SettingsError

logger = logging.getLogger("alliance")
JOB_NAMES = ("reminders", "scan", "digest")


def parse_now(text: str, settings: Settings) -> datetime:
    """An ISO-8601 date-time; without an offset it is read in ALLIANCE_TIMEZONE."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise SettingsError(f"--now takes an ISO-8601 date-time such as 2026-11-20T15:05-05:00, not {text!r}") from None
    return moment.replace(tzinfo=settings.zone) if moment.tzinfo is None else moment


def _runtime(settings: Settings) -> Any:
    if not settings.slack_bot_token:
        raise SettingsError("Set SLACK_BOT_TOKEN (in the environment or .env) so jobs can send to Slack; "
                            "see README.md.")
    from bot.runtime.bootstrap import build_runtime, load_cipher
    from bot.store.db import JOB_WAITS, upgrade

    cipher = load_cipher(settings, dev=False)
    upgrade(settings.database_url)
    return build_runtime(settings, cipher=cipher, waits=JOB_WAITS)


def deliver_queued(runtime: Any, ids: tuple[int, ...], seconds: float) -> tuple[str, bool]:
    """Send what the outbox holds that is due (this run's rows and any others), for up
    to `seconds`; how this run's rows fared, and whether all of them were sent."""
    from collections import Counter

    from bot.runtime.bootstrap import make_deliverer
    from bot.store import outbox

    deliverer = make_deliverer(runtime)
    try:
        deliverer.drain(timeout=seconds)
    finally:
        deliverer.stop()
    statuses = Counter(row.status for row in outbox.rows_for(runtime.engine, ids))
    waiting = len(ids) - statuses[outbox.SENT] - statuses[outbox.FAILED]
    line = f"delivered {statuses[outbox.SENT]}, failed {statuses[outbox.FAILED]}, waiting {waiting}"
    return line, statuses[outbox.SENT] == len(ids)


def cmd_run_job(args: argparse.Namespace, settings: Settings) -> int:
    """Run one sweep now, or as if at `--now`, and deliver what it queued; print a
    one-line summary. Exits 1 when something it queued was not sent."""
    from bot.jobs.sweeps import JOBS

    now = parse_now(args.now, settings) if args.now else None
    runtime = _runtime(settings)
    if now is not None:
        runtime.services.clock = lambda: now
    try:
        result = JOBS[args.job](runtime.services, runtime.services.now())
        delivered, complete = deliver_queued(runtime, result.outbox_ids, args.deliver_seconds)
    finally:
        runtime.engine.dispose()
    print(f"{result.summary()}; {delivered}")
    return 0 if complete else 1


def start_scheduler(services: Services) -> Any:
    """Start the scheduler in the background of this process (for `serve`), on an
    engine of its own whose statements may wait longer than a request's."""
    from dataclasses import replace

    from bot.jobs.scheduler import AllianceScheduler
    from bot.store.db import JOB_WAITS, make_engine, make_session_factory

    engine = make_engine(services.settings.database_url, waits=JOB_WAITS)
    scheduler = AllianceScheduler(replace(services, session_factory=make_session_factory(engine)))
    scheduler.start()
    atexit.register(scheduler.shutdown, wait=False)
    return scheduler


def cmd_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    """Run only the scheduler, until SIGTERM or Ctrl-C."""
    from bot.jobs.scheduler import AllianceScheduler

    from bot.runtime.bootstrap import make_deliverer

    runtime = _runtime(settings)
    scheduler = AllianceScheduler(runtime.services)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    deliverer = make_deliverer(runtime).start()  # what the sweeps queue (beside any `serve`'s deliverers)
    scheduler.start()
    try:
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.shutdown()
        deliverer.stop()
        runtime.engine.dispose()
    return 0


def add_scheduling_commands(commands: Any, serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--no-scheduler", action="store_true",
                       help="do not run scheduled jobs in this process (run `alliance-bot scheduler` once elsewhere)")
    run_job = commands.add_parser("run-job", help="run one scheduled job now (reminders, scan or digest)")
    run_job.add_argument("job", choices=JOB_NAMES)
    run_job.add_argument("--now", help="run as if at this ISO-8601 date-time (no offset: ALLIANCE_TIMEZONE)")
    run_job.add_argument("--deliver-seconds", type=float, default=60.0,
                         help="send what it queued for up to this long before exiting (default 60)")
    run_job.set_defaults(run=cmd_run_job)
    scheduler = commands.add_parser("scheduler", help="run only the scheduler (reminders, daily scan, digest)")
    scheduler.set_defaults(run=cmd_scheduler)
