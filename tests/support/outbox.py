"""Driving the outbox in tests: a deliverer with a fast retry schedule."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.jobs.sweeps import JOBS, JobResult
from bot.runtime.bootstrap import Runtime, make_deliverer
from bot.slack.outbox_delivery import Deliverer
from bot.slack.warning_outbox import evaluate_checkin
from bot.usecases.checkins import RecordedCheckin

FAST_RETRIES = (0.05, 0.1, 0.2, 0.4)


def test_deliverer(runtime: Runtime, **options: Any) -> Deliverer:
    options.setdefault("retry_delays", FAST_RETRIES)
    options.setdefault("recheck_seconds", 0.2)
    return make_deliverer(runtime, **options)


test_deliverer.__test__ = False  # type: ignore[attr-defined]  # not a test for pytest to collect


def drain_outbox(runtime: Runtime, timeout: float = 10.0, **options: Any) -> None:
    """Send everything due (retries included, held rows not); fails if it never settles."""
    deliverer = test_deliverer(runtime, **options)
    try:
        assert deliverer.drain(timeout), "the outbox did not settle"
    finally:
        deliverer.stop()


def follow_up(runtime: Runtime, recorded: RecordedCheckin, drain: bool = True) -> None:
    """What a check-in's transaction does after storing it (the stall rules, its
    warnings queued), in a transaction of its own; then deliver them."""
    services = runtime.services
    with services.session_factory.begin() as session:
        evaluate_checkin(session, services.settings, recorded.case_id, recorded.checkin_id, services.now())
    if drain:
        drain_outbox(runtime)


def run_and_deliver(runtime: Runtime, job: str, now: datetime) -> JobResult:
    """Run one sweep at `now` (it queues what is due) and deliver what it queued."""
    result = JOBS[job](runtime.services, now)
    drain_outbox(runtime)
    return result
