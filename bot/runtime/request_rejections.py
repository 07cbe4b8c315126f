"""Refused requests to `/slack/events`, logged as one line each: the reason and
the client's address, never the body or the headers' values. Rate-limited, so
a flood of bad requests (or a clock that has drifted, which makes every genuine
request fail) costs a few lines a minute, not a copy of every body."""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from enum import StrEnum
from typing import Callable

logger = logging.getLogger("alliance.requests")

MAX_CLOCK_SKEW_SECONDS = 300  # Slack's own rule: refuse requests older than five minutes


class Rejection(StrEnum):
    UNSIGNED = "no usable signature headers"
    STALE = "timestamp more than 5 minutes from this server's clock (replayed request, or a clock out of sync)"
    BAD_SIGNATURE = "signature does not match (wrong signing secret, or a proxy changed the body)"
    TOO_LARGE = "body larger than the limit"
    BAD_LENGTH = "missing or malformed Content-Length"


def check_signature(secret: str, timestamp: str, signature: str, body: bytes,
                    now: float | None = None) -> Rejection | None:
    """None when Slack signed this request with `secret` in the last five minutes."""
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12
            and signature.isascii() and signature):
        return Rejection.UNSIGNED
    if not secret:  # no request is signed with an empty secret, whatever its signature says
        return Rejection.BAD_SIGNATURE
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        return Rejection.STALE
    expected = "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body,
                                hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(expected, signature) else Rejection.BAD_SIGNATURE


class RejectionLog:
    """At most `lines_per_window` lines per window; the rest are counted and the
    count is logged with the first line of the next window."""

    def __init__(self, lines_per_window: int = 5, window_seconds: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = lines_per_window
        self._window = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._window_start = clock()
        self._logged = 0
        self._suppressed = 0

    def rejected(self, reason: Rejection, client: str) -> None:
        with self._lock:
            now = self._clock()
            if now - self._window_start >= self._window:
                if self._suppressed:
                    logger.warning("%d more refused requests were not logged in the last %.0f s",
                                   self._suppressed, now - self._window_start)
                self._window_start, self._logged, self._suppressed = now, 0, 0
            if self._logged >= self._limit:
                self._suppressed += 1
                return
            self._logged += 1
        logger.warning("refused a request to /slack/events from %s: %s", _address(client), reason.value)


def _address(client: str) -> str:
    """The peer address as waitress reports it, cut to something address-shaped."""
    kept = "".join(ch for ch in client[:64] if ch.isalnum() or ch in ".:[]-")
    return kept or "an unknown address"
