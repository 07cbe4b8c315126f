"""Work that follows an acknowledgement, on a few threads of its own.

Slack needs the acknowledgement within 3 seconds; the reply, the stall rules and
the warnings may take longer. Running that work here, rather than on the threads
that acknowledge, keeps acknowledgements from queueing behind it when many
therapists log at once (BENCHMARKS.md): the work waits its turn instead.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, Callable

logger = logging.getLogger(__name__)

DEFAULT_WORKERS = 1


class AfterAck:
    def __init__(self, workers: int = DEFAULT_WORKERS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="after-ack")
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()

    def submit(self, work: Callable[[], Any], on_error: Callable[[Exception], None]) -> Future[None]:
        """Run `work` soon; whatever it raises goes to `on_error`, never lost."""

        def run() -> None:
            try:
                work()
            except Exception as error:  # noqa: BLE001 - handed to on_error
                try:
                    on_error(error)
                except Exception:  # noqa: BLE001 - the error path must not raise
                    logger.exception("could not report a failure after an acknowledgement")

        future = self._pool.submit(run)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait for everything submitted so far (and what it submits) to finish."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                pending = set(self._pending)
            if not pending:
                return True
            wait(pending, timeout=max(0.0, deadline - time.monotonic()))
        return False

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait)
