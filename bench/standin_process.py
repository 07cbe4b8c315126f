"""The Web API stand-in (tests/support/slack_standin.py) in a process of its own,
so its work never shares a core or the GIL with the process being measured.

Optionally it allows one message a second per channel, as Slack does: a second
message to a channel within the interval gets HTTP 429 with `Retry-After: 1`.

    python -m bench.standin_process [--per-channel SECONDS]

prints `{"base": URL}` on its first line, then answers `stats`, `clear` and
`quit` on standard input with one JSON line each.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tests.support.slack_standin import SlackStandIn

PACED_METHODS = {"chat.postMessage", "files.completeUploadExternal"}
REPO = Path(__file__).resolve().parent.parent
CLOCK_SLACK = 0.05  # arrivals measured here jitter by a few ms against the sender's clock


class _Limited(Exception):
    """The request was answered with 429; stop handling it."""


class PacedStandIn(SlackStandIn):
    """A stand-in that allows one message per `interval` seconds per channel."""

    def __init__(self, interval: float = 0.0) -> None:
        super().__init__()
        self.interval = interval
        self._last_accepted: dict[str, float] = {}
        self.accepted: defaultdict[str, list[float]] = defaultdict(list)
        self.limited: Counter[str] = Counter()
        self._pace_lock = threading.Lock()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        try:
            super()._handle(handler)
        except _Limited:
            pass

    def _read(self, handler: BaseHTTPRequestHandler) -> dict[str, Any]:
        args = super()._read(handler)
        method = urlparse(handler.path).path.removeprefix("/api/")
        if method not in PACED_METHODS:
            return args
        channel = str(args.get("channel") or args.get("channel_id") or "?")
        now = time.monotonic()
        with self._pace_lock:
            last = self._last_accepted.get(channel)
            too_soon = self.interval > 0 and last is not None and now - last < self.interval - CLOCK_SLACK
            if too_soon:
                self.limited[channel] += 1
                self.rate_limited += 1
            else:
                self._last_accepted[channel] = now
                self.accepted[channel].append(now)
        if too_soon:
            self._reply(handler, 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
            raise _Limited
        return args

    def stats(self) -> dict[str, Any]:
        with self._lock:
            methods = Counter(call.method for call in self.calls)
            responses = [[call.method, call.at] for call in self.responses]
            posts = [[call.args.get("channel"), call.at, (call.args.get("text") or "")[:80]]
                     for call in self.calls if call.method == "chat.postMessage"]
        with self._pace_lock:
            per_channel = {channel: len(times) for channel, times in self.accepted.items()}
            limited = dict(self.limited)
        return {"methods": dict(methods), "responses": responses, "posts": posts, "problems": list(self.problems[:20]),
                "problem_count": len(self.problems), "rate_limited": self.rate_limited,
                "per_channel": per_channel, "limited": limited}

    def reset(self) -> None:
        self.clear()
        with self._pace_lock:
            self._last_accepted.clear()
            self.accepted.clear()
            self.limited.clear()
        self.problems.clear()
        self.rate_limited = 0


class StandinProcess:
    """Starts and talks to `python -m bench.standin_process`."""

    def __init__(self, per_channel: float = 0.0) -> None:
        command = [sys.executable, "-m", "bench.standin_process"]
        if per_channel:
            command += ["--per-channel", str(per_channel)]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
                                         cwd=REPO)
        self.base = str(self._ask(None)["base"])

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def _ask(self, command: str | None) -> dict[str, Any]:
        assert self._process.stdin is not None and self._process.stdout is not None
        if command is not None:
            self._process.stdin.write(command + "\n")
            self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the Web API stand-in process ended")
        return dict(json.loads(line))

    def stats(self) -> dict[str, Any]:
        return self._ask("stats")

    def clear(self) -> None:
        self._ask("clear")

    def stop(self) -> None:
        try:
            self._ask("quit")
        except (RuntimeError, BrokenPipeError, OSError):
            pass
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()

    def __enter__(self) -> "StandinProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-channel", type=float, default=0.0, help="seconds between messages to one channel")
    args = parser.parse_args()
    standin = PacedStandIn(interval=args.per_channel).start()
    print(json.dumps({"base": standin.base}), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "stats":
            print(json.dumps(standin.stats()), flush=True)
        elif command == "clear":
            standin.reset()
            print(json.dumps({"ok": True}), flush=True)
        elif command == "quit":
            print(json.dumps({"ok": True}), flush=True)
            break
    standin.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
