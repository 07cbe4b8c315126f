"""FairLock (bot/store/fair_lock.py) is granted in the order it was asked for: a
release hands it to the longest waiter, so a thread asking at that moment cannot
take it first; a wait that runs out leaves the queue."""

from __future__ import annotations

import threading
import time

import pytest

from bot.store.fair_lock import FairLock


def wait_for(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_a_release_hands_the_lock_to_the_waiter_not_to_whoever_asks_next() -> None:
    lock = FairLock()
    assert lock.acquire(timeout=0)
    had: list[str] = []

    def waiter() -> None:
        assert lock.acquire(timeout=5)
        had.append("waiter")
        lock.release()

    thread = threading.Thread(target=waiter)
    thread.start()
    wait_for(lambda: lock.waiting() == 1)
    lock.release()
    # A threading.Lock is free here until the woken waiter runs, and this would take it.
    taken_at_once = lock.acquire(timeout=0)
    thread.join(5)
    assert not taken_at_once
    assert had == ["waiter"]
    assert lock.acquire(timeout=0)  # free again once the waiter gave it back
    lock.release()


def test_waiters_have_the_lock_in_the_order_they_came() -> None:
    lock = FairLock()
    assert lock.acquire(timeout=0)
    order: list[int] = []

    def waiter(number: int) -> None:
        assert lock.acquire(timeout=5)
        order.append(number)
        lock.release()

    threads = []
    for number in range(5):
        thread = threading.Thread(target=waiter, args=(number,))
        thread.start()
        wait_for(lambda n=number: lock.waiting() == n + 1)  # type: ignore[misc]
        threads.append(thread)
    lock.release()
    for thread in threads:
        thread.join(5)
    assert order == [0, 1, 2, 3, 4]


def test_a_wait_that_runs_out_leaves_the_queue_and_the_next_waiter_is_served() -> None:
    lock = FairLock()
    assert lock.acquire(timeout=0)
    started = time.monotonic()
    assert not lock.acquire(timeout=0.05)
    assert time.monotonic() - started >= 0.05
    assert lock.waiting() == 0
    lock.release()
    assert lock.acquire(timeout=0)  # nobody left waiting: free
    lock.release()


def test_releasing_a_lock_not_held_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        FairLock().release()
