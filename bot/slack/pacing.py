"""Keeps messages to any one channel at or under one a second (Slack's posting
limit), while messages to different channels go out without waiting.

HTTP 429s are handled by the client itself (bot/slack/client.py waits out
`Retry-After` and retries), so pacing only has to keep us from asking too fast.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

ONE_PER_SECOND = 1.0


class ChannelPacer:
    def __init__(self, interval: float = ONE_PER_SECOND, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot: dict[str, float] = {}

    def wait_turn(self, channel: str) -> float:
        """Block until `channel` may receive another message; returns the seconds
        waited. Slots are handed out under a lock, so threads queue in order."""
        with self._lock:
            now = self._monotonic()
            slot = max(now, self._next_slot.get(channel, now))
            self._next_slot[channel] = slot + self.interval
        delay = slot - now
        if delay > 0:
            self._sleep(delay)
        return max(delay, 0.0)


DEFAULT_PACER = ChannelPacer()
