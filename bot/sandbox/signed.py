"""Requests shaped and signed exactly as Slack sends them (the sandbox sends
these to Alliance; the tests do too, through tests/support/slack_requests.py)."""

from __future__ import annotations

import hashlib
import itertools
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

TEAM_ID = "T0TEAM01"


_TRIGGERS = itertools.count(1)


def new_trigger_id() -> str:
    """Slack gives every interaction its own trigger_id, so no two are the same request."""
    return f"1.{next(_TRIGGERS)}.interaction"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(body: bytes, content_type: str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature(secret, stamp, body),
    }


@dataclass
class Answer:
    status: int
    body: str
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = 10.0) -> Answer:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, response.read().decode(), time.monotonic() - started)
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read().decode(), time.monotonic() - started)


def command_body(text: str, user_id: str, trigger_id: str, response_url: str, channel_id: str = "C0WORK001",
                 channel_name: str = "clinic-team", user_name: str = "therapist") -> bytes:
    return urlencode({
        "token": "legacy-verification-token", "team_id": TEAM_ID, "team_domain": "clinic",
        "channel_id": channel_id, "channel_name": channel_name, "user_id": user_id, "user_name": user_name,
        "command": "/alliance", "text": text, "api_app_id": "A0ALLIANCE", "is_enterprise_install": "false",
        "response_url": response_url, "trigger_id": trigger_id,
    }).encode()


def interaction_body(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def view_submission(user_id: str, view: dict[str, Any], values: dict[str, Any], view_id: str = "V0MODAL01", view_hash: str = "h1") -> dict[str, Any]:
    submitted = dict(view)
    submitted.update({"id": view_id, "hash": view_hash, "state": {"values": values}, "team_id": TEAM_ID,
                      "app_id": "A0ALLIANCE", "bot_id": "BBOT0001"})
    return {"type": "view_submission", "team": {"id": TEAM_ID, "domain": "clinic"},
            "user": {"id": user_id, "username": "therapist", "team_id": TEAM_ID}, "api_app_id": "A0ALLIANCE",
            "token": "legacy-verification-token", "trigger_id": new_trigger_id(), "view": submitted,
            "response_urls": [], "is_enterprise_install": False}


def block_actions(user_id: str, actions: list[dict[str, Any]], *, message: dict[str, Any] | None = None,
                  channel_id: str | None = None, view: dict[str, Any] | None = None,
                  response_url: str | None = None, trigger_id: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"type": "block_actions", "team": {"id": TEAM_ID, "domain": "clinic"},
                               "user": {"id": user_id, "username": "someone", "team_id": TEAM_ID},
                               "api_app_id": "A0ALLIANCE", "token": "legacy-verification-token",
                               "trigger_id": trigger_id or new_trigger_id(), "actions": actions,
                               "is_enterprise_install": False}
    if message is not None:
        payload["message"] = message
        payload["container"] = {"type": "message", "message_ts": message.get("ts"), "channel_id": channel_id}
        payload["channel"] = {"id": channel_id, "name": "supervision"}
    if view is not None:
        payload["view"] = view
        payload["container"] = {"type": "view", "view_id": view.get("id")}
    if response_url is not None:
        payload["response_url"] = response_url
    return payload


def event_body(event: dict[str, Any], event_id: str, event_time: int | None = None) -> bytes:
    return json.dumps({
        "token": "legacy-verification-token", "team_id": TEAM_ID, "api_app_id": "A0ALLIANCE", "event": event,
        "type": "event_callback", "event_id": event_id, "event_time": event_time or int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": "UBOT0001", "is_bot": True}],
    }).encode()
