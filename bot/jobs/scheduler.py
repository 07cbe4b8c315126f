"""APScheduler 3.x running the sweeps, inside `alliance-bot serve` or alone as
`alliance-bot scheduler`. Any number of processes may run one: each run first
takes (or renews) the lease in the database, and only its holder acts.

Catch-up needs no job store: every sweep runs once at start-up and then every
few minutes, and each one asks "what fell due within the grace window and has
no sent key yet?" — so a reminder or digest missed while nothing was running
goes out once, late, and never twice.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.domain.schedule import zone_named
from bot.jobs.sweeps import JOBS, JobResult
from bot.jobs.lease import Lease
from bot.slack.services import Services
from bot.slack.pacing import DEFAULT_PACER, ChannelPacer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Cadence:
    heartbeat: timedelta = timedelta(seconds=30)  # renews the lease (whose ttl is longer)
    reminders: timedelta = timedelta(minutes=5)  # who is due at their local time
    digest: timedelta = timedelta(minutes=5)  # is the Monday digest due
    scan_at: time = time(6, 0)  # the daily scan, workspace time (and once at start-up)


class AllianceScheduler:
    def __init__(self, services: Services, lease: Lease | None = None, cadence: Cadence = Cadence(),
                 pacer: ChannelPacer = DEFAULT_PACER) -> None:
        self.services = services
        self.lease = lease or Lease(services.session_factory)
        self.cadence = cadence
        self.pacer = pacer
        self._lock = threading.Lock()
        self._scheduler: BackgroundScheduler | None = None
        self.last_runs: dict[str, JobResult | None] = {}  # per job: its result, None when not the lease holder

    def run(self, job: str) -> JobResult | None:
        """Run one sweep if this process holds the lease; None when another does."""
        now = self.services.now()
        try:
            if not self.lease.acquire():
                logger.debug("%s: another scheduler holds the lease", job)
                result = None
            else:
                result = JOBS[job](self.services, now, self.pacer)
                logger.log(logging.INFO if result.due or result.failed else logging.DEBUG, "%s", result.summary())
        except Exception:  # noqa: BLE001 - a failed sweep is logged; the next one retries
            logger.exception("scheduled job %s failed", job)
            result = None
        self.last_runs[job] = result
        return result

    def heartbeat(self) -> bool:
        try:
            return self.lease.acquire()
        except Exception:  # noqa: BLE001 - the database may be briefly away
            logger.warning("could not renew the scheduler lease", exc_info=True)
            return False

    def start(self) -> None:
        with self._lock:
            if self._scheduler is not None:
                return
            scheduler = BackgroundScheduler(
                timezone=timezone.utc,
                job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
            )
            self.heartbeat()  # take the lease (or learn who has it) before any sweep
            started = datetime.now(timezone.utc)
            cadence = self.cadence
            scheduler.add_job(self.heartbeat, "interval", seconds=cadence.heartbeat.total_seconds(),
                              id="lease", next_run_time=started)
            for job, every in (("reminders", cadence.reminders), ("digest", cadence.digest)):
                scheduler.add_job(self.run, "interval", args=[job], id=job, seconds=every.total_seconds(),
                                  next_run_time=started)
            zone = zone_named(self.services.settings.timezone, "UTC")
            scheduler.add_job(self.run, CronTrigger(hour=cadence.scan_at.hour, minute=cadence.scan_at.minute,
                                                    timezone=zone),
                              args=["scan"], id="scan", misfire_grace_time=3600,
                              next_run_time=started)  # once at start, then daily (no one-off job to race the stop)
            scheduler.start()
            self._scheduler = scheduler
            logger.info("scheduler started as %s", self.lease.holder)

    def shutdown(self, wait: bool = True) -> None:
        """Stop scheduling (waiting for running sweeps unless `wait` is False) and
        hand the lease back so another scheduler can take over at once."""
        with self._lock:
            scheduler, self._scheduler = self._scheduler, None
        if scheduler is None:
            return
        scheduler.shutdown(wait=wait)
        try:
            self.lease.release()
        except Exception:  # noqa: BLE001 - shutting down anyway; the lease expires on its own
            logger.warning("could not release the scheduler lease", exc_info=True)
