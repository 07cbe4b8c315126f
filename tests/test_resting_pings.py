"""PostgreSQL connections are pinged before use only after resting in the pool
(bot/store/resting_pings.py): no round trip for a connection used a moment ago, and a
rested connection the server dropped is replaced before the transaction starts."""

from __future__ import annotations

import time
from typing import Iterator

import pytest
from sqlalchemy import Engine, text

from bot.store import resting_pings
from bot.store.db import REQUEST_WAITS, make_engine

REST = 0.2  # seconds, for the test: the product waits resting_pings.REST_SECONDS


@pytest.fixture
def engine(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setattr(resting_pings, "REST_SECONDS", REST)
    engine = make_engine(postgres_url, REQUEST_WAITS, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def counted_pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    pings: list[float] = []
    real = engine.dialect.do_ping

    def ping(dbapi_connection: object) -> bool:
        pings.append(time.monotonic())
        return real(dbapi_connection)  # type: ignore[arg-type]

    monkeypatch.setattr(engine.dialect, "do_ping", ping)
    return pings


def backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_used_a_moment_ago_is_not_pinged(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    pings = counted_pings(engine, monkeypatch)
    first = backend_pid(engine)  # a new connection: not pinged either
    for _ in range(5):
        assert backend_pid(engine) == first
    assert pings == []


def test_a_rested_connection_is_pinged_once_before_use(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    pings = counted_pings(engine, monkeypatch)
    first = backend_pid(engine)
    time.sleep(REST + 0.1)
    assert backend_pid(engine) == first  # alive: kept
    assert len(pings) == 1
    assert backend_pid(engine) == first and len(pings) == 1  # and used a moment ago again


def test_a_rested_connection_the_server_dropped_is_replaced_before_the_transaction(
        engine: Engine, postgres_url: str) -> None:
    first = backend_pid(engine)
    killer = make_engine(postgres_url, REQUEST_WAITS)
    try:
        with killer.connect() as connection:
            assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first}).scalar_one()
    finally:
        killer.dispose()
    time.sleep(REST + 0.1)
    second = backend_pid(engine)  # no error: the ping found it gone, the pool connected again
    assert second != first
