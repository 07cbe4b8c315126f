"""A lock granted in the order it was asked for.

`threading.Lock` lets whichever thread asks at the right moment take a free lock,
ahead of threads already asleep on it: a thread that has just been woken must still
get the GIL before it can take the lock, and meanwhile a newcomer holding the GIL
takes it. Under a burst of writers on one SQLite database (bot/store/sqlite_turns.py)
that left some requests waiting behind a dozen later ones. Here a release hands the
lock to the longest waiter directly, so no one asks past it."""

from __future__ import annotations

import threading
from collections import deque


class FairLock:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Lock] = deque()

    def acquire(self, timeout: float) -> bool:
        """Whether the lock was had within `timeout` seconds (0: only if free now)."""
        with self._guard:
            if not self._held:
                self._held = True
                return True
            if timeout <= 0:
                return False
            waiter = threading.Lock()
            waiter.acquire()
            self._waiters.append(waiter)
        if waiter.acquire(timeout=timeout):
            return True  # handed over by `release`
        with self._guard:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
                return False
        return True  # handed over just as the wait ran out: held all the same

    def release(self) -> None:
        with self._guard:
            if not self._held:
                raise RuntimeError("release of a FairLock that is not held")
            if self._waiters:
                self._waiters.popleft().release()  # still held: now by the longest waiter
            else:
                self._held = False

    def waiting(self) -> int:
        """How many threads are waiting for the lock."""
        with self._guard:
            return len(self._waiters)
