"""The HTTP server's I/O thread (waitress's loop, as bot/runtime/slow_clients.py
sets it up) stays idle while tasks run: it did not, and under concurrent requests
it spun on select() for every task that had written its answer and not yet ended,
taking the GIL from the tasks (6 ms of CPU per `/alliance log` at 32 senders, half
the throughput). Answers still arrive whole, small and large (past a socket
buffer, and past waitress's high watermark, where the task waits for that thread)."""

from __future__ import annotations

import http.client
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterable

import pytest

from bot.domain.access import Actor
from bot.domain.cases import CaseKind
from bot.runtime.bootstrap import Runtime
from bot.runtime.slow_clients import create_http_server
from bot.usecases.cases import create_case
from tests.support import slack_requests as sr
from tests.support.proc_cpu import cpu_seconds
from tests.support.slack_standin import SlackStandIn

MEGABYTE = 1_000_000


def chunked_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """An answer of QUERY_STRING bytes, written a megabyte at a time."""
    size = int(environ.get("QUERY_STRING") or 0)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(size))])
    return (b"x" * min(MEGABYTE, size - start) for start in range(0, size, MEGABYTE))


def thread_cpu_seconds(native_id: int) -> float:
    return cpu_seconds(f"/proc/self/task/{native_id}/stat")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads a thread's CPU time from /proc")
def test_the_io_thread_stays_idle_under_a_burst_of_logs(runtime: Runtime, standin: SlackStandIn) -> None:
    """32 therapists logging at once, each waiting for their answer before the next,
    against the app as `serve` serves it (AllianceWsgi, the replay guard, waitress)."""
    from bot.runtime.app import create_app
    from bot.runtime.replays import ReplayGuard
    from bot.runtime.server import AllianceWsgi

    senders, each = 32, 8
    now = runtime.services.clock()
    with runtime.services.session_factory.begin() as session:
        codes = [create_case(session, Actor(user_id=f"U0IOLOOP{i:02d}"), CaseKind.COUPLE, 2, (), now).code
                 for i in range(senders)]
    listeners = ThreadPoolExecutor(max_workers=4, thread_name_prefix="listener")
    guard = ReplayGuard(runtime.services)
    served = create_http_server(AllianceWsgi(create_app(runtime.services, listener_executor=listeners),
                                             runtime.engine, replays=guard), host="127.0.0.1", port=0, threads=16)
    loop = threading.Thread(target=served.run, daemon=True)
    loop.start()
    port, answers, errors = served.socket.getsockname()[1], [], []

    def sender(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for number in range(1, each + 1):
                body = sr.command_body(f"log {codes[index]} 8 7 8 8 session={number}", f"U0IOLOOP{index:02d}",
                                       f"{index}.{number}.trigger", f"{standin.base}/respond/{index}-{number}")
                connection.request("POST", "/slack/events", body,
                                   sr.signed_headers(body, "application/x-www-form-urlencoded"))
                answers.append(connection.getresponse().read())
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender, args=(index,)) for index in range(senders)]
    try:
        before = thread_cpu_seconds(loop.native_id or 0)
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        used = thread_cpu_seconds(loop.native_id or 0) - before
    finally:
        served.close()
        loop.join(timeout=5)
        listeners.shutdown(wait=True)
        guard.answers.flush(5)
    assert not errors, errors[0]
    assert len(answers) == senders * each and all(b"Logged session" in answer for answer in answers)
    per_request_ms = used / (senders * each) * 1000
    # The spinning loop used 1.7 to 7 ms per request here, more than a request's own work.
    assert per_request_ms < 1.0, f"the I/O thread used {per_request_ms:.2f} ms of CPU per request"


def test_answers_of_every_size_arrive_whole() -> None:
    """Small; larger than a socket buffer (what the task could not send is sent after
    it ends); and past waitress's 16 MB high watermark, where the task waits for the
    I/O thread to send (had it been kept from sending while a task runs, this one
    would wait for ever)."""
    served = create_http_server(chunked_app, host="127.0.0.1", port=0, threads=4)
    loop = threading.Thread(target=served.run, daemon=True)
    loop.start()
    connection = http.client.HTTPConnection("127.0.0.1", served.socket.getsockname()[1], timeout=30)
    try:
        for size in (1, 70_000, 3 * MEGABYTE, 50 * MEGABYTE):
            connection.request("GET", f"/?{size}")
            time.sleep(0.5)  # nothing read meanwhile: the answer piles up in the server
            response = connection.getresponse()
            assert response.status == 200
            assert response.read() == b"x" * size
    finally:
        connection.close()
        served.close()
        loop.join(timeout=5)
