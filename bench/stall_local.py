"""Part 2: storing a check-in and evaluating its case stays local. The same
`log` path the handler runs (`store_log`: actor, the use case's store, then the
stall evaluation queueing its warnings, all in one transaction), in process,
against the Web API stand-in, on the same cases in a database of 1 thousand and
of 1 million check-ins. The evaluation is timed where the handler calls it
(`queue_after_checkin`); "store" is the rest of the transaction, commit included."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select

from bot.runtime.bootstrap import build_runtime
from bot.store.crypto import NoteCipher
from bot.domain import grammar
from bot.store.models import Checkin
from bench.datagen import MEASURED_CASES, NOW, Scale, case_code, therapist_id
from bench.run_job import bench_settings
from handlers.commands import log_again
from handlers.commands.log_again import store_log

SUPERVISION_RATINGS = "8 8 3 8"  # unit 3: *Weak couple alliance*, a warning for the supervision channel


@dataclass(frozen=True)
class StallTiming:
    runs: int
    median_ms: float
    p90_ms: float
    store_median_ms: float
    evaluate_median_ms: float


class SteppingClock:
    """Moves a minute on at every reading's request, so each check-in is the newest."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def step(self) -> None:
        self.now += timedelta(minutes=1)


def newest_checkin(engine: Engine) -> datetime:
    """After this every check-in logged here is its case's newest, so each one is
    evaluated (an older one is skipped by design)."""
    with engine.connect() as connection:
        newest = connection.execute(select(func.max(Checkin.created_at))).scalar()
    return max(newest or NOW, NOW)


class EvaluationTimer:
    """Wraps the handler's `queue_after_checkin` for the benchmark's lifetime,
    adding up the seconds spent in it (the stall evaluation and what it queues)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._original: Callable[..., None] = log_again.queue_after_checkin

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        started = time.perf_counter()
        try:
            self._original(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started

    def __enter__(self) -> "EvaluationTimer":
        log_again.queue_after_checkin = self  # type: ignore[assignment]
        return self

    def __exit__(self, *_: object) -> None:
        log_again.queue_after_checkin = self._original  # type: ignore[assignment]


def timed_log(services: Any, user_id: str, command: grammar.LogCheckin) -> tuple[float, float]:
    """(whole transaction, of which the evaluation) in seconds, for one `log`."""
    with EvaluationTimer() as timer:
        started = time.perf_counter()
        outcome = store_log(services, user_id, command)
        total = time.perf_counter() - started
    assert not getattr(outcome, "duplicate", True), outcome  # stored anew, so it was evaluated
    return total, timer.seconds


class CheckinRunner:
    """Logs check-ins on the measured cases of one database, timing each whole
    transaction (store, evaluation, warnings queued to the outbox, commit)."""

    def __init__(self, url: str, api_url: str, scale: Scale, ratings: str = "8 7 8 8") -> None:
        settings = bench_settings(url, api_url)
        self.runtime = build_runtime(settings, cipher=NoteCipher.from_text(settings.encryption_key or ""))
        self.clock = SteppingClock(newest_checkin(self.runtime.engine) + timedelta(hours=1))
        self.runtime.services.clock = self.clock
        self.scale, self.ratings = scale, ratings
        self.totals: list[float] = []
        self.stores: list[float] = []
        self.evaluations: list[float] = []

    def log(self, index: int, measured: bool) -> None:
        case = index % MEASURED_CASES
        command = grammar.parse_command(f"log {case_code(case, 'couple')} {self.ratings}")
        assert isinstance(command, grammar.LogCheckin)
        self.clock.step()
        total, evaluation = timed_log(self.runtime.services, therapist_id(case % self.scale.therapists), command)
        if measured:
            self.totals.append(total)
            self.stores.append(total - evaluation)
            self.evaluations.append(evaluation)

    def timing(self) -> StallTiming:
        ordered = sorted(self.totals)
        return StallTiming(runs=len(ordered), median_ms=statistics.median(ordered) * 1000,
                           p90_ms=ordered[max(int(len(ordered) * 0.9) - 1, 0)] * 1000,
                           store_median_ms=statistics.median(self.stores) * 1000,
                           evaluate_median_ms=statistics.median(self.evaluations) * 1000)

    def close(self) -> None:
        self.runtime.engine.dispose()


def time_checkins(urls: dict[str, tuple[str, Scale]], api_url: str, runs: int, warmup: int) -> dict[str, StallTiming]:
    """The same `runs` check-ins on each database, alternating between them run
    by run so that drift on the machine falls on all of them alike."""
    runners = {name: CheckinRunner(url, api_url, scale) for name, (url, scale) in urls.items()}
    try:
        for index in range(warmup + runs):
            for runner in runners.values():
                runner.log(index, measured=index >= warmup)
        return {name: runner.timing() for name, runner in runners.items()}
    finally:
        for runner in runners.values():
            runner.close()


def warnings_burst(url: str, api_url: str, scale: Scale, count: int) -> float:
    """`count` check-ins on distinct cases, each raising a warning for the
    supervision channel, one after another; returns the seconds taken."""
    settings = bench_settings(url, api_url)
    runtime = build_runtime(settings, cipher=NoteCipher.from_text(settings.encryption_key or ""))
    clock = SteppingClock(newest_checkin(runtime.engine) + timedelta(hours=1))
    runtime.services.clock = clock
    started = time.perf_counter()
    try:
        for case in range(count):
            command = grammar.parse_command(f"log {case_code(case, 'couple')} {SUPERVISION_RATINGS}")
            assert isinstance(command, grammar.LogCheckin)
            clock.step()
            timed_log(runtime.services, therapist_id(case % scale.therapists), command)
    finally:
        runtime.engine.dispose()
    return time.perf_counter() - started

