"""Issue 12: 100 clients trickling a request one byte every few seconds leave
`/healthz` and signed requests answered within 3 s, and a request that does not
arrive whole within the deadline has its connection closed. Real sockets on
127.0.0.1 against the app served the way `alliance-bot serve` serves it."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

import pytest

from bot.runtime.bootstrap import Runtime
from bot.runtime.slow_clients import REQUEST_DEADLINE_SECONDS, create_http_server
from tests.support.driver import SlackDriver
from tests.support.slack_standin import SlackStandIn
from tests.test_checkins_e2e import THERAPIST

SLOW_CLIENTS = 100
TRICKLE_EVERY = 2.0


def serve(runtime: Runtime, standin: SlackStandIn, request_deadline: float) -> Iterator[SlackDriver]:
    from bot.runtime.app import create_app
    from bot.runtime.server import MAX_BODY_BYTES, AllianceWsgi

    executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="listener")
    app = create_app(runtime.services, listener_executor=executor)
    server = create_http_server(AllianceWsgi(app, runtime.engine), host="127.0.0.1", port=0, threads=8,
                                request_deadline=request_deadline, max_body_bytes=MAX_BODY_BYTES)

    def run() -> None:
        try:
            server.run()
        except (OSError, ValueError):
            pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield SlackDriver(f"http://127.0.0.1:{server.socket.getsockname()[1]}", standin)
    server.close()
    thread.join(timeout=5)
    executor.shutdown(wait=True)


@pytest.fixture
def served(runtime: Runtime, standin: SlackStandIn) -> Iterator[SlackDriver]:
    yield from serve(runtime, standin, REQUEST_DEADLINE_SECONDS)


@pytest.fixture
def served_short_deadline(runtime: Runtime, standin: SlackStandIn) -> Iterator[SlackDriver]:
    yield from serve(runtime, standin, 2.0)


class Trickle:
    """Slow clients: each sends headers promising a body, then one byte every
    `every` seconds until stopped (or closed by the server)."""

    def __init__(self, base_url: str, count: int, every: float) -> None:
        port = int(base_url.rsplit(":", 1)[1])
        self.sockets: list[socket.socket] = []
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=2)
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\n")
            self.sockets.append(sock)
        self.closed_by_server = 0
        self._stop = threading.Event()
        self._every = every
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            for sock in list(self.sockets):
                try:
                    sock.sendall(b"x")
                except OSError:
                    self.closed_by_server += 1
                    self.sockets.remove(sock)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for sock in self.sockets:
            sock.close()


def timed_health(base_url: str) -> float:
    started = time.monotonic()
    with urllib.request.urlopen(f"{base_url}/healthz", timeout=4) as response:
        assert response.status == 200
    return time.monotonic() - started


def closed_by_peer(sock: socket.socket) -> bool:
    sock.settimeout(0.5)
    try:
        sock.recv(1024)  # EOF (or an error answer before it): the server let go
        return True
    except socket.timeout:
        return False
    except OSError:
        return True


def test_a_hundred_slow_clients_leave_health_and_commands_answered(served: SlackDriver) -> None:
    trickle = Trickle(served.base_url, SLOW_CLIENTS, TRICKLE_EVERY)
    try:
        time.sleep(TRICKLE_EVERY + 0.5)  # every slow client has started its body
        health = [timed_health(served.base_url) for _ in range(3)]
        commands = [served.command(THERAPIST, "help").answer.seconds for _ in range(3)]
        time.sleep(TRICKLE_EVERY)
        health.append(timed_health(served.base_url))
        assert len(trickle.sockets) == SLOW_CLIENTS, "the slow clients were still connected while measured"
    finally:
        trickle.stop()
    print(f"\n{SLOW_CLIENTS} slow clients: /healthz answered in {max(health):.3f} s at most, "
          f"signed commands acknowledged in {max(commands):.3f} s at most")
    assert max(health) < 3.0 and max(commands) < 3.0


def test_a_request_that_does_not_arrive_in_time_is_cut_off(served_short_deadline: SlackDriver) -> None:
    trickle = Trickle(served_short_deadline.base_url, 20, 0.5)
    try:
        deadline = time.monotonic() + 8
        while trickle.sockets and time.monotonic() < deadline:
            time.sleep(0.25)
        assert trickle.closed_by_server == 20, "every trickling connection was closed after the 2 s deadline"
    finally:
        trickle.stop()
    idle = socket.create_connection(("127.0.0.1", int(served_short_deadline.base_url.rsplit(":", 1)[1])))
    try:
        time.sleep(3.5)
        assert closed_by_peer(idle), "a connection that never sends a request is closed too"
    finally:
        idle.close()
    assert timed_health(served_short_deadline.base_url) < 3.0
