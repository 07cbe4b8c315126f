"""Waiting for an `alliance-bot serve` subprocess to answer."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from typing import Any


def came_up(base: str, process: subprocess.Popen[Any], timeout: float = 30.0) -> bool:
    """Whether `base`/healthz answered 200 within `timeout` seconds; False as soon as
    `process` has exited."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.1)
