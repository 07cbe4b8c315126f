"""Issue 12: the daily scan forgets Events API deliveries older than a day, and
the SQLite database, its WAL and its shared-memory file are owner-only (0600)."""

from __future__ import annotations

import os
import stat
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, text

from bot.runtime.bootstrap import Runtime
from bot.store.db import make_engine, upgrade
from bot.store.models import ProcessedEvent
from tests.conftest import Clock
from tests.support.driver import SlackDriver
from tests.test_home_and_threads import make_cases, open_flag, reply_event
from tests.support.outbox import run_and_deliver


def event_ids(runtime: Runtime) -> set[str]:
    with runtime.services.session_factory() as session:
        return set(session.scalars(select(ProcessedEvent.event_id)))


def test_the_daily_scan_forgets_deliveries_older_than_a_day(slack: SlackDriver, runtime: Runtime, clock: Clock) -> None:
    open_flag(runtime, make_cases(runtime, 1)[0])  # replies in its warning's thread are remembered
    start = clock.now
    assert slack.event(reply_event("1700000001.000200"), "Ev0OLD0001").status == 200
    clock.now = start + timedelta(hours=20)
    assert slack.event(reply_event("1700000002.000300"), "Ev0NEW0001").status == 200
    deadline = time.monotonic() + 5
    while not {"Ev0OLD0001", "Ev0NEW0001"} <= event_ids(runtime):
        assert time.monotonic() < deadline, event_ids(runtime)
        time.sleep(0.02)

    run_and_deliver(runtime, "scan", start + timedelta(hours=23))
    assert {"Ev0OLD0001", "Ev0NEW0001"} <= event_ids(runtime), "nothing is a day old yet"
    result = run_and_deliver(runtime, "scan", start + timedelta(hours=25))
    assert "Ev0OLD0001" not in event_ids(runtime) and "Ev0NEW0001" in event_ids(runtime)
    assert "processed events forgotten 1" in result.notes


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_sqlite_file_and_its_wal_are_created_owner_only(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)  # the usual umask: files would be 0644
    try:
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
        upgrade(url)
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
            connection.execute(text("INSERT INTO t VALUES (1)"))
            files = [tmp_path / name for name in ("fresh.db", "fresh.db-wal", "fresh.db-shm")]
            assert all(p.exists() for p in files), sorted(os.listdir(tmp_path))
            assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
        engine.dispose()
    finally:
        os.umask(old_umask)


def test_a_world_readable_database_is_tightened_at_start_up(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    path.chmod(0o644)
    engine = make_engine(url)
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    engine.dispose()
    assert mode(path) == 0o600
