"""A bounded stop for `serve` (issue 11): on SIGTERM (a deploy, `systemctl stop`)
or Ctrl-C, stop taking requests, finish the ones in flight and the work already
acknowledged, and exit within the grace period whatever Slack or the database do.

A watchdog armed at the signal ends the process when the grace period is over, even
if the interpreter's own exit would wait for a thread stuck on a slow call."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from concurrent.futures import Executor
from typing import Callable

logger = logging.getLogger("alliance")

DEFAULT_GRACE = 20.0
GRACE_ENV = "ALLIANCE_STOP_GRACE"


def grace_from_env() -> float:
    text = os.environ.get(GRACE_ENV, "").strip()
    if not text:
        return DEFAULT_GRACE
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 3600:
        raise ValueError(f"{GRACE_ENV} must be a number of seconds between 0 and 3600, not {text!r}")
    return seconds


SAY_SECONDS = 0.5  # how long the watchdog waits for its last log line


class Stopping:
    """Set by the first SIGTERM or SIGINT; knows how much of the grace period is left."""

    def __init__(self, grace: float, exit_now: Callable[[int], None] = os._exit) -> None:
        self.grace = grace
        self.event = threading.Event()
        self._deadline: float | None = None
        self._exit_now = exit_now

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.begin(signal.Signals(signum).name)

    def begin(self, why: str) -> None:
        if self.event.is_set():
            return
        self._deadline = time.monotonic() + self.grace
        logger.info("%s: stopping (at most %.0f s): no new requests, finishing those in flight", why, self.grace)
        threading.Thread(target=self._watchdog, name="stop-watchdog", daemon=True).start()
        self.event.set()

    def remaining(self) -> float:
        """Seconds left for finishing work: the grace period less a margin for
        closing down (the watchdog holds the grace period itself)."""
        margin = min(1.0, self.grace / 10)
        if self._deadline is None:
            return self.grace - margin
        return max(0.0, self._deadline - margin - time.monotonic())

    def _watchdog(self) -> None:
        time.sleep(self.grace)
        said = threading.Event()

        def say() -> None:
            logger.error("still stopping after %.0f s: exiting now with work unfinished (lost unless it was stored)",
                         self.grace)
            for handler in logging.getLogger().handlers:
                try:
                    handler.flush()
                except (OSError, ValueError):  # its stream is already closed: nothing more to flush
                    pass
            said.set()

        # A log handler stuck on a full pipe or a held lock must not keep the process alive.
        threading.Thread(target=say, name="stop-watchdog-log", daemon=True).start()
        said.wait(SAY_SECONDS)
        self._exit_now(1)


def wait_for_executor(executor: Executor, seconds: float) -> bool:
    """Let `executor` finish what it was given, waiting at most `seconds`."""
    waiter = threading.Thread(target=executor.shutdown, kwargs={"wait": True}, name="stop-executor", daemon=True)
    waiter.start()
    waiter.join(timeout=seconds)
    return not waiter.is_alive()
