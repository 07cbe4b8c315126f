"""Slow clients cannot starve the server.

Waitress reads every request (headers and body) on its one I/O thread and only
hands a *complete* request to a worker thread, so a slow client never holds a
worker. What it does hold is a connection slot: at `connection_limit` open
connections waitress stops accepting, and its `channel_timeout` closes only
connections that have been *silent* that long, so a client sending one byte
every few seconds keeps its slot for ever. 100 of them (the default limit)
stopped `/healthz` and every signed request.

Two limits together fix that:
- a connection budget well above what Slack needs (`CONNECTION_LIMIT`), so a
  few hundred slow connections do not stop new ones being accepted; and
- a request deadline (`REQUEST_DEADLINE_SECONDS`): a request must arrive whole
  — headers and body — within that time of its connection opening (or of its
  first byte, on a kept-alive connection), or the connection is closed. Slack
  sends a whole request in milliseconds and gives up after 3 s anyway.

In production, run behind a buffering reverse proxy as well (README, HTTP mode).
"""

from __future__ import annotations

import socket
import time
from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server

from bot.runtime.capacity import HTTP_THREADS

CONNECTION_LIMIT = 400
REQUEST_DEADLINE_SECONDS = 10.0
IDLE_TIMEOUT_SECONDS = 30
CLEANUP_INTERVAL_SECONDS = 5


class DeadlineChannel(HTTPChannel):
    """A waitress channel that closes itself when a request takes longer than
    `request_deadline` seconds to arrive (checked on every pass of the I/O loop),
    and that does not keep the I/O loop busy while its task is running."""

    request_deadline = REQUEST_DEADLINE_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_started: float | None = self.creation_time  # the first request is due from now

    def received(self, data: bytes) -> bool:
        if data and self.request is None and self.request_started is None:
            self.request_started = time.time()
        handled = bool(super().received(data))
        if self.request is None:  # nothing half-read: the deadline starts again with the next byte
            self.request_started = None
        return handled

    def writable(self) -> bool:
        if self._overdue():
            self.will_close = True
            return True
        if self.requests and self.total_outbufs_len < self.adj.outbuf_high_watermark \
                and not (self.will_close or self.close_when_flushed):
            # A task is running. It sends what it writes itself (waitress's `write_soon`);
            # the I/O thread could only try to send beside it, and while the task held the
            # buffer's lock (or waited for the GIL to finish sending) "writable" made every
            # select() return at once: the I/O thread spun on the GIL the tasks needed. At
            # 32 senders it used 6 ms of CPU per request and throughput fell by half
            # (tests/test_io_loop.py). What is left unsent when the task ends is sent then
            # (its end pulls the trigger); past the high watermark the task waits for this
            # thread to send, so from there on it is writable as before.
            return False
        return bool(super().writable())

    def _overdue(self) -> bool:
        started = self.request_started
        return (started is not None and not self.requests and not self.will_close
                and time.time() - started > self.request_deadline)


def create_http_server(wsgi: Any, host: str, port: int, threads: int = HTTP_THREADS,
                       request_deadline: float = REQUEST_DEADLINE_SECONDS, max_body_bytes: int = 1_000_000,
                       sock: socket.socket | None = None, **adjustments: Any) -> BaseWSGIServer:
    """A waitress server for `wsgi` on host:port (or on `sock`, already listening)
    with the connection budget and the request deadline above (`server.run()`
    serves; `server.close()` stops)."""
    where: dict[str, Any] = dict(sockets=[sock]) if sock is not None else dict(host=host, port=port)
    settings: dict[str, Any] = dict(
        **where, threads=threads, ident="alliance", connection_limit=CONNECTION_LIMIT,
        channel_timeout=IDLE_TIMEOUT_SECONDS, cleanup_interval=CLEANUP_INTERVAL_SECONDS,
        max_request_body_size=max_body_bytes)
    settings.update(adjustments)
    server = create_server(wsgi, **settings)
    if not isinstance(server, BaseWSGIServer):  # one host and one port make one listening server
        raise ValueError("create_http_server serves one host and one port")
    server.channel_class = type("AllianceChannel", (DeadlineChannel,), {"request_deadline": request_deadline})
    return server
