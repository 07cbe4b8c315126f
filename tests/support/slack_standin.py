"""A local stand-in for the Slack Web API: records every call, answers like
Slack, and checks every block with slack_sdk's models and Slack's limits."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
MESSAGE_METHODS = {"chat.postMessage", "chat.update", "chat.postEphemeral", "chat.scheduleMessage"}
VIEW_METHODS = {"views.open", "views.update", "views.publish", "views.push"}


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float
    token: str | None = None


@dataclass
class User:
    tz: str = "America/New_York"
    is_admin: bool = False
    is_owner: bool = False
    display_name: str = ""
    real_name: str = ""


def check_blocks(blocks: Any, limit: int, where: str) -> list[str]:
    problems: list[str] = []
    if not isinstance(blocks, list):
        return [f"{where}: blocks is not a list"]
    if len(blocks) > limit:
        problems.append(f"{where}: {len(blocks)} blocks, over Slack's {limit}")
    for index, raw in enumerate(blocks):
        try:
            parsed = Block.parse(raw)
            if parsed is None:
                problems.append(f"{where}: block {index} of unknown type {raw.get('type')!r}")
                continue
            parsed.to_dict()
        except Exception as error:  # noqa: BLE001 - report every rejection
            problems.append(f"{where}: block {index} rejected: {error}")
        if raw.get("type") == "section":
            text = (raw.get("text") or {}).get("text", "")
            if len(text) > 3000:
                problems.append(f"{where}: section {index} has {len(text)} characters, over 3,000")
    return problems


def check_view(view: Any, where: str) -> list[str]:
    if not isinstance(view, dict):
        return [f"{where}: view is not an object"]
    problems = check_blocks(view.get("blocks", []), VIEW_BLOCK_LIMIT, where)
    try:
        View(**view).to_dict()
    except Exception as error:  # noqa: BLE001
        problems.append(f"{where}: view rejected: {error}")
    title = (view.get("title") or {}).get("text", "")
    if len(title) > 24:
        problems.append(f"{where}: title of {len(title)} characters, over 24")
    return problems


@dataclass
class SlackStandIn:
    users: dict[str, User] = field(default_factory=dict)
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    responses: list[Call] = field(default_factory=list)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    rate_limit_every: int = 0  # answer every Nth API call with HTTP 429
    retry_after: int = 1
    fail_methods: dict[str, str] = field(default_factory=dict)  # method -> Slack error code
    delay_methods: dict[str, float] = field(default_factory=dict)  # method -> seconds before answering
    http_errors: dict[str, int] = field(default_factory=dict)  # method -> how many calls get HTTP 500 first
    # method -> delays for its next calls, one each: the call is taken (and acted on)
    # at once and answered only after the delay, like Slack answering after a client gave up
    delay_calls: dict[str, list[float]] = field(default_factory=dict)
    fail_channels: dict[str, str] = field(default_factory=dict)  # chat.postMessage to this channel -> error code
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # channel -> what was posted, in order
    socket_url: str | None = None  # what apps.connections.open hands out (Socket Mode)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._ts = itertools.count(1)
        self._api_calls = 0
        self.rate_limited = 0
        self.triggers: dict[str, float] = {}
        self._server: ThreadingHTTPServer | None = None

    # -- life cycle ---------------------------------------------------------
    def start(self) -> "SlackStandIn":
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                standin._handle(self)

            def do_GET(self) -> None:  # noqa: N802 - the read methods (conversations.history…) use GET
                standin._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, name: str = "r") -> str:
        return f"{self.base}/respond/{name}-{next(self._counter)}"

    def new_trigger(self) -> str:
        trigger = f"{next(self._counter)}.{int(time.time())}.trigger"
        self.triggers[trigger] = time.monotonic()
        return trigger

    # -- reading what the bot did --------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.calls_to(method)
            if len(found) >= count:
                return found
            time.sleep(0.01)
        raise AssertionError(f"expected {count} call(s) to {method}, saw {len(self.calls_to(method))}: {self.methods()}")

    def wait_for_response(self, count: int = 1, timeout: float = 5.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.responses) >= count:
                    return list(self.responses)
            time.sleep(0.01)
        raise AssertionError(f"expected {count} response_url post(s), saw {len(self.responses)}")

    def methods(self) -> list[str]:
        with self._lock:
            return [c.method for c in self.calls]

    def discard(self, calls: list[Call]) -> None:
        """Drop setup noise from the record (e.g. the DM that comes with a new case)."""
        with self._lock:
            self.calls = [c for c in self.calls if all(c is not d for d in calls)]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()
            self.responses.clear()

    # -- the HTTP side ------------------------------------------------------
    def _read(self, handler: BaseHTTPRequestHandler) -> dict[str, Any]:
        if handler.command == "GET":
            return {k: v[0] for k, v in parse_qs(urlparse(handler.path).query).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        kind = handler.headers.get("Content-Type", "")
        if "json" in kind:
            return json.loads(raw or b"{}")
        if "x-www-form-urlencoded" in kind:
            args: dict[str, Any] = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            for key in ("blocks", "view", "attachments", "files"):
                if isinstance(args.get(key), str):
                    try:
                        args[key] = json.loads(args[key])
                    except ValueError:
                        self.problems.append(f"{key} is not JSON")
            return args
        return {"_bytes": len(raw), "_content_type": kind}

    def _reply(self, handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(body)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        path = urlparse(handler.path).path
        if path.startswith("/upload/"):  # raw file bytes, whatever Content-Type urllib put on them
            raw = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
            with self._lock:
                self.uploads.append({"path": path, "_bytes": len(raw), "data": raw,
                                     "_content_type": handler.headers.get("Content-Type", "")})
            self._reply(handler, 200, {"ok": True})
            return
        args = self._read(handler)
        if path.startswith("/respond/"):
            with self._lock:
                self.responses.append(Call(method=path, args=args, at=time.monotonic()))
            if "blocks" in args:
                self.problems += check_blocks(args["blocks"], MESSAGE_BLOCK_LIMIT, f"response {path}")
            self._reply(handler, 200, {"ok": True})
            return
        method = path.removeprefix("/api/")
        token = (handler.headers.get("Authorization") or "").removeprefix("Bearer ") or None
        with self._lock:
            self._api_calls += 1
            limited = bool(self.rate_limit_every) and self._api_calls % self.rate_limit_every == 0
            if limited:
                self.rate_limited += 1
        if limited:
            self._reply(handler, 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(self.retry_after)})
            return
        with self._lock:
            broken = self.http_errors.get(method, 0) > 0
            if broken:
                self.http_errors[method] -= 1
        if broken:  # Slack had trouble: nothing was posted
            self._reply(handler, 500, {"ok": False, "error": "internal_error"})
            return
        call = Call(method=method, args=args, at=time.monotonic(), token=token)
        with self._lock:
            self.calls.append(call)
        self._validate(call)
        if method in self.delay_methods:
            time.sleep(self.delay_methods[method])
        if method in self.fail_methods:
            self._reply(handler, 200, {"ok": False, "error": self.fail_methods[method]})
            return
        if method == "chat.postMessage" and args.get("channel") in self.fail_channels:
            self._reply(handler, 200, {"ok": False, "error": self.fail_channels[args["channel"]]})
            return
        answer = self._answer(call)
        with self._lock:
            delays = self.delay_calls.get(method) or []
            delay = delays.pop(0) if delays else 0.0
        if delay:
            time.sleep(delay)
        try:
            self._reply(handler, 200, answer)
        except OSError:  # the client gave up waiting: what was done stays done
            pass

    def _validate(self, call: Call) -> None:
        where = call.method
        if call.method in MESSAGE_METHODS:
            if "blocks" in call.args:
                self.problems += check_blocks(call.args["blocks"], MESSAGE_BLOCK_LIMIT, where)
            if not call.args.get("text") and not call.args.get("blocks"):
                self.problems.append(f"{where}: neither text nor blocks")
        if call.method in VIEW_METHODS:
            self.problems += check_view(call.args.get("view"), where)
            if call.method == "views.publish" and (call.args.get("view") or {}).get("type") != "home":
                self.problems.append("views.publish: not a home view")
        if call.method == "apps.connections.open" and not (call.token or "").startswith("xapp-"):
            self.problems.append("apps.connections.open: not called with an app-level token (xapp-…)")
        if call.method == "views.open":
            issued = self.triggers.get(call.args.get("trigger_id", ""))
            if issued is None:
                self.problems.append("views.open: unknown trigger_id")
            elif call.at - issued > 3.0:
                self.problems.append(f"views.open: trigger used after {call.at - issued:.1f}s (expired)")

    def _history(self, args: dict[str, Any], replies: bool) -> dict[str, Any]:
        """Newest first, like Slack; metadata only with include_all_metadata."""
        with self._lock:
            posted = list(self.messages.get(str(args.get("channel")), []))
        if replies:
            posted = [m for m in posted if m.get("thread_ts") == args.get("ts") or m["ts"] == args.get("ts")]
        else:
            posted = [m for m in posted if not m.get("thread_ts")]
        limit = int(args.get("limit") or 100)
        with_metadata = str(args.get("include_all_metadata")).lower() in ("1", "true")
        shown = [m if with_metadata else {k: v for k, v in m.items() if k != "metadata"} for m in reversed(posted)]
        return {"ok": True, "messages": shown[:limit], "has_more": len(shown) > limit}

    def _answer(self, call: Call) -> dict[str, Any]:
        args, method = call.args, call.method
        ts = f"{1700000000 + next(self._ts)}.000100"
        if method == "apps.connections.open" and self.socket_url is not None:
            return {"ok": True, "url": self.socket_url}
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT0001", "bot_id": "BBOT0001", "team_id": "T0TEAM01", "user": "alliance"}
        if method in ("chat.postMessage", "chat.update"):
            channel = args.get("channel", "")
            channel = "D" + channel[1:] if channel[:1] in ("U", "W") else channel
            if method == "chat.postMessage":
                message = {"type": "message", "ts": ts, "text": args.get("text"), "user": "UBOT0001"}
                if args.get("thread_ts"):
                    message["thread_ts"] = args["thread_ts"]
                if args.get("metadata"):
                    message["metadata"] = args["metadata"]
                with self._lock:
                    self.messages.setdefault(channel, []).append(message)
            return {"ok": True, "channel": channel, "ts": args.get("ts") or ts, "message": {"text": args.get("text")}}
        if method in ("conversations.history", "conversations.replies"):
            return self._history(args, method == "conversations.replies")
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(args.get("users", "X"))[1:]}}
        if method == "users.info":
            user_id = args.get("user", "")
            user = self.users.get(user_id, User())
            return {"ok": True, "user": {"id": user_id, "tz": user.tz, "is_admin": user.is_admin, "is_owner": user.is_owner,
                                         "real_name": user.real_name,
                                         "profile": {"display_name": user.display_name, "real_name": user.real_name}}}
        if method == "usergroups.users.list":
            return {"ok": True, "users": self.usergroups.get(args.get("usergroup", ""), [])}
        if method in VIEW_METHODS:
            view = dict(args.get("view") or {})
            view.update({"id": args.get("view_id") or f"V{next(self._counter):08d}", "hash": f"h{next(self._counter)}"})
            return {"ok": True, "view": view}
        if method == "chat.getPermalink":
            return {"ok": True, "permalink": f"https://clinic.example/archives/{args.get('channel')}/p{str(args.get('message_ts', '')).replace('.', '')}"}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._counter):08d}"
            return {"ok": True, "upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = args.get("files") or []
            return {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title")} for f in files]}
        return {"ok": True}
