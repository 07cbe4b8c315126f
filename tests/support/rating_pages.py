"""Serving the app with the client rating pages, and a small browser-less client
for them (the Playwright tests use a real Chromium)."""

from __future__ import annotations

import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from bot.runtime.bootstrap import Runtime
from tests.support.outbox import drain_outbox, test_deliverer
from tests.support.driver import SlackDriver
from tests.support.slack_standin import SlackStandIn

LINK = re.compile(r"<(https?://[^|>]+/r/([A-Za-z0-9_-]+))\|")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve_with_pages(runtime: Runtime, standin: SlackStandIn, port: int) -> Iterator[SlackDriver]:
    """Like conftest's `slack` fixture, with `/r/` routed to the rating pages."""
    from waitress.server import create_server

    from bot.runtime.app import create_app
    from bot.public.pages import build_rating_pages
    from bot.runtime.server import AllianceWsgi

    executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="listener")
    app = create_app(runtime.services, listener_executor=executor)
    pages = build_rating_pages(runtime.services)
    server = create_server(AllianceWsgi(app, runtime.engine, public=pages), host="127.0.0.1", port=port, threads=8,
                           asyncore_loop_timeout=0.05)

    def run() -> None:
        try:
            server.run()
        except (OSError, ValueError):
            pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deliverer = test_deliverer(runtime).start(poll_seconds=0.05)  # as `serve` runs it, with fast retries
    driver = SlackDriver(f"http://127.0.0.1:{port}", standin, settle=lambda: drain_outbox(runtime))
    driver.pages = pages  # type: ignore[attr-defined]
    try:
        yield driver
    finally:
        server.close()
        thread.join(timeout=5)
        executor.shutdown(wait=True)
        deliverer.stop()


@dataclass
class Page:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)

    def hidden(self, name: str) -> str:
        match = re.search(rf'name="{name}" value="([^"]*)"', self.body)
        assert match, f"no hidden {name} in the page"
        return match.group(1)


def fetch(url: str, data: dict[str, str] | None = None, cookie: str | None = None) -> Page:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, method="POST" if data is not None else "GET")
    if body is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    if cookie:
        request.add_header("Cookie", cookie)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Page(response.status, response.read().decode(), {k.lower(): v for k, v in response.headers.items()})
    except urllib.error.HTTPError as error:
        return Page(error.code, error.read().decode(), {k.lower(): v for k, v in error.headers.items()})


def answer(url: str, items: tuple[int, int, int, int], safety: int | None = None, member: str | None = None) -> Page:
    """Open the form like a browser (GET, keep its cookie), then send the answers."""
    form = fetch(url if member is None else f"{url}?m={member}")
    assert form.status == 200, form.body
    cookie = form.headers["set-cookie"].split(";", 1)[0]
    data = {"csrf": form.hidden("csrf"), **{k: str(v) for k, v in zip(("heard", "goals", "approach", "overall"), items)}}
    if safety is not None:
        data["safety"] = str(safety)
    if member is not None:
        data["member"] = member
    return fetch(url, data, cookie)


def dm_links(standin: SlackStandIn, code: str, session: int, timeout: float = 10.0) -> tuple[dict[str, str], str]:
    """The member links and the kiosk link of the newest rating-links DM for that session."""
    heading = f"Client ratings for session {session} of {code}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dms = [c for c in standin.calls_to("chat.postMessage") if heading in (c.args.get("text") or "")]
        if dms:
            text = dms[-1].args["text"]
            members = {m.group(1): m.group(2) for m in re.finditer(r"Member (\S+): <(https?://[^|>]+)\|", text)}
            kiosk = re.search(r"Clinic tablet, each member in turn: <(https?://[^|>]+)\|", text)
            assert kiosk, text
            return members, kiosk.group(1)
        time.sleep(0.02)
    raise AssertionError(f"no rating links DM for session {session} of {code}: {standin.methods()}")
