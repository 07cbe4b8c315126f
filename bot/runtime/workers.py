"""`alliance-bot serve --workers N`: N server processes forked from one, sharing
one listening socket (the kernel hands each new connection to one of them), so
that requests use more than the one core a Python process can.

Worker 0 also runs the outbox deliverer and the scheduler; the other workers'
commits that queue a message wake it through a pipe (without it, it would find
them at its next poll, up to a second later). A worker that dies is started
again. On SIGTERM or Ctrl-C the parent passes SIGTERM on; every worker stops as a
single `serve` does (no new requests, the ones in flight finished, within the
grace period), and whichever has not exited a moment after that is killed.

Only the parent binds the socket; the workers open their own database engines
after the fork (nothing of a connection pool crosses it)."""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass
from typing import Callable

logger = logging.getLogger("alliance")

MAX_WORKERS = 16
QUICK_DEATH_SECONDS = 5.0  # a worker that dies this soon after starting is not started again
KILL_MARGIN_SECONDS = 2.0  # after the grace period, how long the parent waits before SIGKILL
BACKLOG = 1024


def listening_socket(host: str, port: int) -> socket.socket:
    """The socket every worker accepts on (bound and listening before any fork)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.setblocking(False)
    return sock


class WakePipe:
    """Outbox wake-ups from any worker to the one deliverer (in worker 0)."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)

    def notify(self) -> None:
        """Called after a commit that queued a message (bot.store.outbox.add_waker)."""
        try:
            os.write(self._write, b"\0")
        except BlockingIOError:  # the pipe is full: a wake-up is pending anyway
            pass
        except OSError as error:
            logger.debug("outbox wake-up not passed on: %s", error)

    def listen(self, wake: Callable[[], None]) -> threading.Thread:
        """In the deliverer's process: call `wake` whenever another worker notifies."""

        def run() -> None:
            while True:
                try:
                    if not os.read(self._read, 4096):
                        return
                except OSError as error:
                    if error.errno == errno.EINTR:
                        continue
                    return
                wake()

        thread = threading.Thread(target=run, name="outbox-wake-pipe", daemon=True)
        thread.start()
        return thread


@dataclass(frozen=True)
class Worker:
    """What a forked worker is given: its number, the shared socket, the wake pipe."""

    index: int
    sock: socket.socket
    wakes: WakePipe

    @property
    def delivers(self) -> bool:
        """Worker 0 runs the deliverer and the scheduler."""
        return self.index == 0


def run_workers(count: int, serve: Callable[[int], int], grace: float, listening: socket.socket,
                stop: threading.Event | None = None) -> int:
    """Fork `count` workers, each running `serve(index)` (its return value is the
    worker's exit status); start again one that dies; on SIGTERM or SIGINT close
    this process's copy of the `listening` socket (no new connections once the
    workers close theirs) and stop them all within `grace` seconds (and a margin,
    then SIGKILL). 0 when every worker stopped cleanly."""
    stop = stop or threading.Event()
    children: dict[int, tuple[int, float]] = {}  # pid -> (worker index, started at)
    parent = os.getpid()

    def start(index: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # its own bounded stop installs its handlers
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            follow_parent(parent)
            status = 1
            try:
                status = serve(index)
            except BaseException:  # noqa: BLE001 - logged, then the worker ends
                logger.exception("worker %d failed", index)
            finally:
                for handler in logging.getLogger().handlers:
                    handler.flush()
                os._exit(status)
        children[pid] = (index, time.monotonic())
        logger.info("worker %d started (pid %d)", index, pid)

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    failed = False
    try:
        for index in range(count):
            start(index)
        while not stop.is_set():
            for pid, status in _reap(children):
                index, started = children.pop(pid)
                if stop.is_set():
                    break
                logger.error("worker %d (pid %d) exited with %s", index, pid, _describe(status))
                if time.monotonic() - started < QUICK_DEATH_SECONDS:
                    logger.error("worker %d died at once; stopping every worker", index)
                    failed = True
                    stop.set()
                    break
                start(index)
            stop.wait(0.2)
        listening.close()
        return _stop_all(children, grace) or (1 if failed else 0)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def follow_parent(parent: int, every: float = 1.0) -> threading.Thread:
    """In a worker: when the parent is gone (killed outright, say), stop as at
    SIGTERM rather than serve on unsupervised."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        logger.error("the parent process is gone; this worker stops")
        os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=watch, name="parent-watch", daemon=True)
    thread.start()
    return thread


def _reap(children: dict[int, tuple[int, float]]) -> list[tuple[int, int]]:
    gone = []
    for pid in list(children):
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done, status = pid, 0
        if done:
            gone.append((pid, status))
    return gone


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"status {os.waitstatus_to_exitcode(status)}"


def _stop_all(children: dict[int, tuple[int, float]], grace: float) -> int:
    """SIGTERM to every worker; wait for them; SIGKILL what is left after the grace
    period and a margin. 0 when all exited with 0."""
    logger.info("stopping %d workers (at most %.0f s)", len(children), grace)
    for pid in children:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace + KILL_MARGIN_SECONDS
    worst = 0
    while children and time.monotonic() < deadline:
        for pid, status in _reap(children):
            index, _ = children.pop(pid)
            if os.WIFSIGNALED(status):
                # SIGTERM's default action ends a worker still starting (its bounded stop
                # not yet installed): it served nothing, so nothing was cut short
                code = 0 if os.WTERMSIG(status) == signal.SIGTERM else 1
            else:
                code = os.waitstatus_to_exitcode(status)
            if code:
                logger.error("worker %d exited with %s", index, _describe(status))
            worst = max(worst, code)
        time.sleep(0.05)
    for pid, (index, _) in list(children.items()):
        logger.error("worker %d (pid %d) still running after the grace period: killed", index, pid)
        _signal(pid, signal.SIGKILL)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        worst = max(worst, 1)
    children.clear()
    return worst


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
