"""The scheduler lease and the outbox's dedupe keys, on SQLite and PostgreSQL:
one holder at a time, and no scheduled message ever queued twice."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest
from sqlalchemy import Connection, func, select

from bot.store.db import SessionFactory, database_now, make_engine, make_session_factory
from bot.store.models import OutboxMessage, SchedulerLease
from bot.store import outbox
from bot.jobs.lease import Lease
from bot.slack.pacing import ChannelPacer
from tests.support.concurrency import race

T0 = datetime(2026, 11, 20, 20, 0, tzinfo=timezone.utc)
TTL = timedelta(minutes=2)


@pytest.fixture
def sessions(database_url: str) -> Iterator[SessionFactory]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


class DatabaseClock:
    """Stands in for the database's clock (what leases are timed by), settable."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self, _connection: Connection) -> datetime:
        return self.now


def test_of_two_contenders_one_holds_the_lease_until_it_expires(sessions: SessionFactory) -> None:
    db = DatabaseClock(T0)
    first, second = Lease(sessions, "host-a:1", ttl=TTL, clock=db), Lease(sessions, "host-b:2", ttl=TTL, clock=db)
    assert first.acquire()
    db.now = T0 + timedelta(seconds=1)
    assert not second.acquire()
    db.now = T0 + timedelta(minutes=1)
    assert first.acquire()  # renewed: now until T0 + 3 minutes
    db.now = T0 + timedelta(minutes=2, seconds=30)
    assert not second.acquire()
    assert first.current_holder() == "host-a:1"
    db.now = T0 + timedelta(minutes=3, seconds=1)
    assert second.acquire()  # expired: handed over
    db.now = T0 + timedelta(minutes=3, seconds=2)
    assert not first.acquire()
    db.now = T0 + timedelta(minutes=4)
    second.release()
    assert first.acquire()  # released: free at once


def test_simultaneous_contenders_on_a_fresh_lease_one_wins(sessions: SessionFactory) -> None:
    leases = [Lease(sessions, f"host-{i}", ttl=TTL) for i in range(6)]
    answers = race(len(leases), lambda i: leases[i].acquire())
    assert answers.count(True) == 1
    winner = answers.index(True)
    assert leases[0].current_holder() == f"host-{winner}"


def test_simultaneous_contenders_for_an_expired_lease_one_wins(sessions: SessionFactory) -> None:
    db = DatabaseClock(T0)
    assert Lease(sessions, "gone", ttl=TTL, clock=db).acquire()
    db.now = T0 + TTL + timedelta(seconds=1)
    leases = [Lease(sessions, f"host-{i}", ttl=TTL, clock=db) for i in range(6)]
    assert race(len(leases), lambda i: leases[i].acquire()).count(True) == 1


def test_the_lease_runs_on_the_database_clock(sessions: SessionFactory) -> None:
    """Its expiry is the database's now + ttl, whatever the holder's own clock says."""
    with sessions.begin() as session:
        before = database_now(session.connection())
    assert Lease(sessions, "host-a:1", ttl=TTL).acquire()
    with sessions.begin() as session:
        after = database_now(session.connection())
        row = session.get(SchedulerLease, "scheduler")
        assert row is not None
    assert before + TTL - timedelta(seconds=1) <= row.expires_at <= after + TTL + timedelta(seconds=1)
    assert abs(after - datetime.now(timezone.utc)) < timedelta(minutes=1)  # the database's clock, in UTC


def queue(sessions: SessionFactory, key: str) -> bool:
    """Queue a reminder under `key` in a transaction of its own; whether this call queued it."""
    with sessions.begin() as session:
        return outbox.enqueue(session, "dm", "U0THERA01", {"text": "Your week"}, dedupe_key=key) is not None


def test_a_key_is_queued_once_and_a_rerun_finds_it(sessions: SessionFactory) -> None:
    key = outbox.dedupe_key("reminder", "U0THERA01", "2026-W47")
    assert queue(sessions, key)
    assert not queue(sessions, key)
    with sessions.begin() as session:
        assert outbox.queued_keys(session, [key, key + "x"]) == {key}
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_concurrent_sweeps_queue_a_key_once(sessions: SessionFactory) -> None:
    key = outbox.dedupe_key("digest", "C0SUPERV1", "2026-W48")
    assert race(6, lambda index: queue(sessions, key)).count(True) == 1
    with sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_keys_are_bounded() -> None:
    with pytest.raises(ValueError):
        outbox.dedupe_key("reminder", "U" * 200, "2026-W47")


def test_the_pacer_spaces_one_channel_and_not_others() -> None:
    clock = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    pacer = ChannelPacer(1.0, monotonic=lambda: clock[0], sleep=sleep)
    assert pacer.wait_turn("C0SUPERV1") == 0
    assert pacer.wait_turn("D0THERA01") == 0  # another channel: no wait
    clock[0] += 0.25
    assert pacer.wait_turn("C0SUPERV1") == pytest.approx(0.75)
    assert pacer.wait_turn("C0SUPERV1") == pytest.approx(1.0)
    clock[0] += 5
    assert pacer.wait_turn("C0SUPERV1") == 0
    assert waits == [pytest.approx(0.75), pytest.approx(1.0)]


def test_overlapping_batches_queue_every_key_once(sessions: SessionFactory) -> None:
    """Three sweeps queue overlapping sets of 20 reminders, each as one batch in one
    transaction, each listing them from a different one: every key is queued by
    exactly one of them. (`enqueue_many` inserts in key order, so overlapping batches
    wait for each other rather than deadlock on PostgreSQL's unique index, as
    row-by-row inserts in different orders did.)"""
    keys = [outbox.dedupe_key("reminder", f"U0THERA{n:02d}", "2026-W47") for n in range(20)]
    queued: list[set[str]] = [set(), set(), set()]

    def contender(index: int) -> bool:
        mine = keys[index * 3:index * 3 + 14]
        mine = mine[index * 5:] + mine[:index * 5]  # each starts elsewhere
        with sessions.begin() as session:
            queued[index] = set(outbox.enqueue_many(session, "dm", [
                outbox.Keyed(key.split(":")[1], {"text": "Your week"}, key) for key in mine]))
        return True

    race(3, contender)
    assert sum(len(q) for q in queued) == len(keys)
    assert set().union(*queued) == set(keys)
    with sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == len(keys)
