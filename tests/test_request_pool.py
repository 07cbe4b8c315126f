"""A serving process's request engine has a connection for every thread that may
use it at once (bot/runtime/capacity.py): the 16 threads serving requests and the
outbox deliverer and answer recorder beside them all get one at once. With
SQLAlchemy's default pool (5 kept, 10 more) the 16th waited for one, for up to the
pool's timeout (1.2 s of a request's 3 s), and at 32 senders PostgreSQL with two
workers stored 355 and 302 requests a second against 403 and 460 with a pool this size."""

from __future__ import annotations

import threading
import time

from sqlalchemy import text

from bot.runtime.bootstrap import Runtime
from bot.runtime.capacity import BACKGROUND_THREADS, HTTP_THREADS


def test_every_thread_of_a_serving_process_gets_a_connection_at_once(runtime: Runtime) -> None:
    threads = HTTP_THREADS + BACKGROUND_THREADS
    all_connected = threading.Barrier(threads + 1)
    release = threading.Event()
    waited: list[float] = []
    errors: list[BaseException] = []

    def hold_a_transaction() -> None:
        try:
            with runtime.services.session_factory.begin() as session:
                started = time.monotonic()
                session.execute(text("SELECT 1"))  # takes a connection from the pool
                waited.append(time.monotonic() - started)
                all_connected.wait(timeout=10)
                release.wait(timeout=10)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
            all_connected.abort()

    workers = [threading.Thread(target=hold_a_transaction) for _ in range(threads)]
    for worker in workers:
        worker.start()
    try:
        all_connected.wait(timeout=10)
    finally:
        release.set()
        for worker in workers:
            worker.join(timeout=10)
    assert not errors, errors[0]
    assert len(waited) == threads and max(waited) < 0.5, f"longest wait for a connection {max(waited):.2f} s"
