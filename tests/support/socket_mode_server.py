"""A local stand-in for Slack's Socket Mode endpoint: a WebSocket server that
greets the app with `hello`, lets a test push envelopes, and records the acks."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

APP_ID = "A0ALLIANCE"


def hello_message() -> dict[str, Any]:
    return {"type": "hello", "num_connections": 1,
            "debug_info": {"host": "applink-standin", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": APP_ID}}


@dataclass
class Ack:
    """One message the app sent back, and how long after its envelope it came."""
    message: dict[str, Any]
    at: float

    @property
    def envelope_id(self) -> str | None:
        return self.message.get("envelope_id")

    @property
    def payload(self) -> dict[str, Any] | None:
        return self.message.get("payload")


class SocketModeStandIn:
    """Serves ws://127.0.0.1:PORT/link/ on a thread; one app connection at a time."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._ids = itertools.count(1)
        self._connection: ServerConnection | None = None
        self._server: Server | None = None
        self.connections = 0
        self.pushed: dict[str, float] = {}  # envelope_id -> when it was sent
        self.received: list[Ack] = []  # every message from the app, in order
        self.problems: list[str] = []

    # -- life cycle ---------------------------------------------------------
    def start(self) -> "SocketModeStandIn":
        self._server = serve(self._serve_connection, "127.0.0.1", 0, compression=None)
        threading.Thread(target=self._server.serve_forever, name="socket-mode-standin", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket=standin-ticket&app_id={APP_ID}"

    # -- the WebSocket side -------------------------------------------------
    def _serve_connection(self, connection: ServerConnection) -> None:
        connection.send(json.dumps(hello_message()))
        with self._changed:
            self._connection = connection
            self.connections += 1
            self._changed.notify_all()
        try:
            for raw in connection:
                self._record(raw)
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                if self._connection is connection:
                    self._connection = None
                self._changed.notify_all()

    def _record(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            self.problems.append(f"the app sent something that is not JSON: {raw!r:.200}")
            return
        if not isinstance(message, dict) or "envelope_id" not in message:
            self.problems.append(f"the app sent a message without an envelope_id: {raw!r:.200}")
        with self._changed:
            self.received.append(Ack(message=message if isinstance(message, dict) else {}, at=time.monotonic()))
            self._changed.notify_all()

    # -- what a test does ---------------------------------------------------
    def wait_for_connection(self, timeout: float = 10.0) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: self._connection is not None, timeout=timeout):
                raise AssertionError(f"the app did not connect within {timeout:.0f}s")

    def push(self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool = False,
             retry_attempt: int = 0, retry_reason: str = "", envelope_id: str | None = None) -> str:
        """Send one envelope (`slash_commands`, `interactive`, `events_api`) and
        return its envelope_id (pass one to send an envelope again)."""
        envelope_id = envelope_id or f"env-{next(self._ids):04d}-standin"
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": accepts_response_payload}
        if kind == "events_api":
            envelope.update({"retry_attempt": retry_attempt, "retry_reason": retry_reason})
        with self._changed:
            connection = self._connection
            if connection is None:
                raise AssertionError("no app is connected")
            self.pushed[envelope_id] = time.monotonic()
        connection.send(json.dumps(envelope))
        return envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> tuple[Ack, float]:
        """The app's ack for `envelope_id` and the seconds between push and ack."""
        def found() -> Ack | None:
            return next((ack for ack in self.received if ack.envelope_id == envelope_id), None)

        with self._changed:
            if not self._changed.wait_for(lambda: found() is not None, timeout=timeout):
                seen = len(self.received)
                raise AssertionError(f"no ack for {envelope_id} within {timeout}s; received {seen} message(s)")
            ack = found()
            assert ack is not None
            return ack, ack.at - self.pushed[envelope_id]
