"""The WSGI app around Bolt: health, routing and body limits."""

from __future__ import annotations

import io
import json
from typing import Any

from slack_bolt import App

from bot.store.db import make_engine
from bot.runtime.server import MAX_BODY_BYTES, AllianceWsgi


def call(wsgi: AllianceWsgi, method: str, path: str, body: bytes = b"", length: str | None = None) -> tuple[str, dict[str, Any]]:
    seen: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"] = status

    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "wsgi.input": io.BytesIO(body), "QUERY_STRING": "",
               "CONTENT_LENGTH": length if length is not None else str(len(body)), "SERVER_PROTOCOL": "HTTP/1.1",
               "wsgi.url_scheme": "http", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "3000"}
    payload = b"".join(wsgi(environ, start_response))
    return seen["status"], json.loads(payload)


def bare_app() -> App:
    return App(signing_secret="secret-for-routing-tests", token="xoxb-unused", token_verification_enabled=False)


def test_health_is_503_when_the_database_does_not_answer() -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:1/nowhere", connect_args={"connect_timeout": 1})
    status, payload = call(AllianceWsgi(bare_app(), engine), "GET", "/healthz")
    assert status.startswith("503") and payload == {"ok": False, "database": "down"}


def test_health_is_200_when_it_does(sqlite_url: str) -> None:
    status, payload = call(AllianceWsgi(bare_app(), make_engine(sqlite_url)), "GET", "/healthz")
    assert status.startswith("200") and payload["database"] == "up"


def test_unknown_paths_wrong_methods_and_oversized_bodies(sqlite_url: str) -> None:
    wsgi = AllianceWsgi(bare_app(), make_engine(sqlite_url))
    assert call(wsgi, "GET", "/nothing")[0].startswith("404")
    assert call(wsgi, "GET", "/slack/events")[0].startswith("405")
    assert call(wsgi, "POST", "/slack/events", length=str(MAX_BODY_BYTES + 1))[0].startswith("413")
    assert call(wsgi, "POST", "/slack/events", length="nonsense")[0].startswith("400")
    assert call(wsgi, "POST", "/slack/events", b"token=x")[0].startswith("401")  # unsigned
