"""A Web API client whose calls are counted and answered at once, in process:
Slack sends are counted but not waited on, so a sweep's time is our own work
(queries, message building, the outbox), not HTTP round trips."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from typing import Any

from slack_sdk import WebClient
from slack_sdk.web import SlackResponse


class CountingClient(WebClient):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.counts: Counter[str] = Counter()
        self.per_channel: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._ts = itertools.count(1)

    def api_call(self, api_method: str, *, http_verb: str = "POST", files: dict[str, Any] | None = None,
                 data: dict[str, Any] | None = None, params: dict[str, Any] | None = None,
                 json: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
                 auth: dict[str, Any] | None = None) -> SlackResponse:
        args = dict(json or data or params or {})
        with self._lock:
            self.counts[api_method] += 1
            if api_method == "chat.postMessage":
                self.per_channel[str(args.get("channel"))] += 1
            ts = f"{1800000000 + next(self._ts)}.000100"
        return SlackResponse(client=self, http_verb=http_verb, api_url=f"{self.base_url}{api_method}",
                             req_args={}, data=self._answer(api_method, args, ts), headers={},
                             status_code=200).validate()

    def files_upload_v2(self, **kwargs: Any) -> SlackResponse:  # type: ignore[override]
        with self._lock:
            self.counts["files.upload_v2"] += 1
            self.per_channel[str(kwargs.get("channel"))] += 1
        return SlackResponse(client=self, http_verb="POST", api_url=f"{self.base_url}files.completeUploadExternal",
                             req_args={}, data={"ok": True, "files": [{"id": "F0BENCH01"}]}, headers={},
                             status_code=200)

    @staticmethod
    def _answer(method: str, args: dict[str, Any], ts: str) -> dict[str, Any]:
        if method == "chat.postMessage":
            channel = str(args.get("channel", ""))
            return {"ok": True, "channel": "D" + channel[1:] if channel[:1] == "U" else channel, "ts": ts}
        if method == "users.info":  # no `tz`: the stored zone stays as generated
            return {"ok": True, "user": {"id": args.get("user"), "is_admin": False, "is_owner": False}}
        if method == "chat.getPermalink":
            return {"ok": True, "permalink": f"https://clinic.example/archives/{args.get('channel')}/p{ts}"}
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT0001", "bot_id": "BBOT0001", "team_id": "T0TEAM01"}
        return {"ok": True}
