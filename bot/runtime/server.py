"""HTTP mode: one WSGI app for `POST /slack/events`, `GET /healthz` and the
clients' rating pages under `/r/`, served by waitress (a production WSGI server)."""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
import time
from typing import Any, Callable, Iterable

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.store import outbox
from bot.runtime.capacity import HTTP_THREADS
from bot.runtime.replays import ReplayGuard
from bot.store.db import database_answers
from bot.runtime.request_rejections import Rejection, RejectionLog, check_signature

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY_BYTES = 1_000_000
LOOP_TIMEOUT = 0.2  # how soon the serving loop notices a stop

StartResponse = Callable[..., Any]


RATING_PREFIX = "/r/"  # the clients' rating pages (issue 16), when ALLIANCE_PUBLIC_URL is set

WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class AllianceWsgi:
    def __init__(self, app: App, engine: Engine, signing_secret: str | None = None,
                 rejections: RejectionLog | None = None, public: WsgiApp | None = None,
                 replays: ReplayGuard | None = None) -> None:
        """`replays`: answer a signed request seen before from its first answer
        (`alliance-bot serve` always passes one)."""
        self._slack = SlackRequestHandler(app, path=EVENTS_PATH)
        self._engine = engine
        # checked here as well as in Bolt, so that a refusal is one line of ours
        # (Bolt would log the whole body); Bolt keeps the app's secret as _signing_secret
        self._signing_secret = signing_secret if signing_secret is not None else str(
            getattr(app, "_signing_secret", "") or "")
        self._rejections = rejections or RejectionLog()
        self._public = public  # the clients' rating pages under /r/ (issue 16)
        self._replays = replays

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if self._public is not None and path.startswith(RATING_PREFIX):
            return self._public(environ, start_response)
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            return self._json(start_response, *health(self._engine))
        if path == EVENTS_PATH and method == "POST":
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = -1
            client = str(environ.get("REMOTE_ADDR") or "")
            if length < 0 or length > MAX_BODY_BYTES:
                self._rejections.rejected(Rejection.TOO_LARGE if length > 0 else Rejection.BAD_LENGTH, client)
                return self._json(start_response, 413 if length > 0 else 400, {"ok": False, "error": "bad_request_body"})
            if not _looks_signed(environ):
                # Bolt's signature check raises on a non-numeric timestamp or a non-ASCII
                # signature; such a request is unsigned, so refuse it here
                self._rejections.rejected(Rejection.UNSIGNED, client)
                return self._json(start_response, 401, {"ok": False, "error": "invalid_request"})
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            refused = check_signature(self._signing_secret, environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or "",
                                      environ.get("HTTP_X_SLACK_SIGNATURE") or "", body)
            if refused is not None:
                self._rejections.rejected(refused, client)
                return self._json(start_response, 401, {"ok": False, "error": "invalid_request"})
            try:
                if self._replays is not None:
                    return self._replays(environ, start_response, self._slack)
                return self._slack(environ, start_response)
            except Exception:  # noqa: BLE001 - never a traceback to a caller
                logger.exception("request failed before reaching a listener")
                return self._json(start_response, 400, {"ok": False, "error": "bad_request"})
        if path == EVENTS_PATH:
            return self._json(start_response, 405, {"ok": False, "error": "method_not_allowed"})
        return self._json(start_response, 404, {"ok": False, "error": "not_found"})

    @staticmethod
    def _json(start_response: StartResponse, status: int, payload: dict[str, Any]) -> Iterable[bytes]:
        reasons = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
                   413: "Payload Too Large", 503: "Service Unavailable"}
        body = json.dumps(payload).encode()
        start_response(f"{status} {reasons[status]}", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def health(engine: Engine) -> tuple[int, dict[str, Any]]:
    """200 while the database answers, however far behind the outbox is (its depth
    is reported, per status, for whoever watches); 503 when the database does not."""
    if not database_answers(engine):
        return 503, {"ok": False, "database": "down"}
    try:
        depth: dict[str, int] | None = outbox.depth(engine)
    except SQLAlchemyError:  # not migrated yet: the database itself answers
        depth = None
    return 200, {"ok": True, "database": "up", "outbox": depth}


def _looks_signed(environ: dict[str, Any]) -> bool:
    stamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or ""
    signature = environ.get("HTTP_X_SLACK_SIGNATURE") or ""
    return stamp.isascii() and stamp.isdigit() and len(stamp) <= 12 and signature.isascii() and bool(signature)


def serve_http(wsgi: AllianceWsgi, host: str, port: int, threads: int = HTTP_THREADS,
               stop: threading.Event | None = None, grace: float = 20.0, sock: socket.socket | None = None) -> bool:
    """Serve until `stop` is set; then close the listening socket (no new requests),
    let the requests in flight finish and their answers go out, for at most `grace`
    seconds. True when every one finished. `sock`: a socket already listening (the
    one `serve --workers` shares), instead of binding host:port."""
    from waitress import wasyncore

    from bot.runtime.slow_clients import create_http_server

    server: Any = create_http_server(wsgi, host=host, port=port, threads=threads, max_body_bytes=MAX_BODY_BYTES,
                                     sock=sock)
    if sock is None:
        logger.info("Alliance listening on http://%s:%d%s", host, port, EVENTS_PATH)
    stop = stop or threading.Event()
    while not stop.is_set():
        wasyncore.loop(timeout=LOOP_TIMEOUT, map=server._map, count=1)
    deadline = time.monotonic() + grace
    wasyncore.dispatcher.close(server)  # the listening socket only; answers still go out on the open ones
    while _in_flight(server) and time.monotonic() < deadline:
        wasyncore.loop(timeout=0.05, map=server._map, count=1)
    finished = not _in_flight(server)
    if not finished:
        logger.error("stopping with requests still in flight after %.0f s", grace)
    server.task_dispatcher.shutdown(cancel_pending=True, timeout=max(0.0, deadline - time.monotonic()))
    wasyncore.close_all(server._map)
    return finished


def _in_flight(server: Any) -> bool:
    """A request queued or running, or an answer not yet written to its socket."""
    dispatcher = server.task_dispatcher
    if dispatcher.active_count or dispatcher.queue:
        return True
    return any(channel.requests or channel.total_outbufs_len for channel in list(server.active_channels.values()))
