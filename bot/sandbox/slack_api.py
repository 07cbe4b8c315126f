"""The part of Slack's Web API that Alliance calls, served on 127.0.0.1: the
same methods, arguments and JSON answers (errors and limits included), with
every block checked against slack_sdk's models and Slack's limits.

It keeps what a workspace would hold (bot/sandbox/workspace.py) and records
every call. The tests run Alliance against it (`strict=False`: what Slack would
reject is recorded in `problems` and the test fails on it); the sandbox runs
Alliance against it with `strict=True`: the call is refused as Slack would."""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from bot.sandbox.checks import MESSAGE_BLOCK_LIMIT, MESSAGE_TEXT_LIMIT, check_blocks, check_view
from bot.sandbox.refusals import KNOWN_METHODS, MESSAGE_METHODS, TRIGGER_SECONDS, VIEW_METHODS, ChannelLimit, Refused
from bot.sandbox.workspace import BOT_ID, BOT_USER, Responder, ViewError, Workspace, dm_channel

logger = logging.getLogger(__name__)
TEAM_ID = "T0TEAM01"


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
    name: str = ""
    display_name: str = ""
    real_name: str = ""
    is_bot: bool = False
    deleted: bool = False
    team_id: str = ""  # another workspace's (a Slack Connect guest); "" for this one


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
    delay_responses: float = 0.0  # seconds before answering a response_url post (taken and acted on at once)
    fail_responses: int = 0  # how many of the next response_url posts get HTTP 500 (recorded, not acted on)
    http_errors: dict[str, int] = field(default_factory=dict)  # method -> how many calls get HTTP 500 first
    # method -> delays for its next calls, one each: the call is taken (and acted on) at
    # once and answered only after the delay, like Slack answering after a client gave up
    delay_calls: dict[str, list[float]] = field(default_factory=dict)
    fail_channels: dict[str, str] = field(default_factory=dict)  # chat.postMessage to this channel -> error code
    socket_url: str | None = None  # what apps.connections.open hands out (Socket Mode)
    strict: bool = False  # refuse what Slack refuses (the sandbox) instead of only recording it (the tests)
    bot_token: str | None = None  # strict: the only token accepted
    channels: set[str] = field(default_factory=set)  # strict: the public/private channels that exist
    permalink_base: str = "https://clinic.example/archives"
    workspace: Workspace = field(default_factory=Workspace)
    port: int = 0
    channel_limit: ChannelLimit = field(default_factory=ChannelLimit)  # strict only

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._ts = itertools.count(1)
        self._api_calls = 0
        self.rate_limited = 0
        self.triggers: dict[str, float] = {}
        self.trigger_users: dict[str, str] = {}
        self._server: ThreadingHTTPServer | None = None

    # -- life cycle ---------------------------------------------------------
    def start(self) -> "SlackStandIn":
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                standin._handle(self)

            def do_GET(self) -> None:  # noqa: N802 - the read methods (conversations.history…) may use GET
                standin._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
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

    def response_url(self, name: str = "r", responder: Responder | None = None) -> str:
        path = f"/respond/{name}-{next(self._counter)}"
        if responder is not None:
            self.workspace.responders[path] = responder
        return f"{self.base}{path}"

    def new_trigger(self, user: str | None = None) -> str:
        trigger = f"{next(self._counter)}.{int(time.time())}.trigger"
        self.triggers[trigger] = time.monotonic()
        if user is not None:
            self.trigger_users[trigger] = user
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
    @property
    def messages(self) -> dict[str, list[dict[str, Any]]]:
        """What Slack holds, per channel, in the order posted (refused calls left nothing)."""
        return self.workspace.messages

    def _read(self, handler: BaseHTTPRequestHandler) -> dict[str, Any]:
        if handler.command == "GET":
            return {k: v[0] for k, v in parse_qs(urlparse(handler.path).query).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        kind = handler.headers.get("Content-Type", "")
        if "json" in kind:
            return dict(json.loads(raw or b"{}"))
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
            known = self.workspace.store_bytes(path.removeprefix("/upload/"), raw)
            if self.strict and not known:
                self._reply(handler, 404, {"ok": False, "error": "file_not_found"})
                return
            self._reply(handler, 200, {"ok": True})
            return
        args = self._read(handler)
        if path.startswith("/respond/"):
            with self._lock:
                self.responses.append(Call(method=path, args=args, at=time.monotonic()))
                refused = self.fail_responses > 0
                self.fail_responses -= 1 if refused else 0
            if refused:
                self._reply(handler, 500, {"ok": False, "error": "internal_error"})
                return
            if "blocks" in args:
                self.problems += check_blocks(args["blocks"], MESSAGE_BLOCK_LIMIT, f"response {path}")
            self._respond(path, args)
            if self.delay_responses:
                time.sleep(self.delay_responses)
            self._reply(handler, 200, {"ok": True})
            return
        method = path.removeprefix("/api/")
        token = (handler.headers.get("Authorization") or "").removeprefix("Bearer ") or None
        with self._lock:
            self._api_calls += 1
            limited = bool(self.rate_limit_every) and self._api_calls % self.rate_limit_every == 0
            if self.strict and method == "chat.postMessage":
                limited = limited or not self.channel_limit.allow(dm_channel(str(args.get("channel"))), time.monotonic())
            if limited:
                self.rate_limited += 1
            broken = self.http_errors.get(method, 0) > 0
            if broken:
                self.http_errors[method] -= 1
        if limited:
            self._reply(handler, 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(self.retry_after)})
            return
        if broken:  # Slack had trouble: nothing was done
            self._reply(handler, 500, {"ok": False, "error": "internal_error"})
            return
        call = Call(method=method, args=args, at=time.monotonic(), token=token)
        with self._lock:
            self.calls.append(call)
        found = self._validate(call)
        if method in self.delay_methods:
            time.sleep(self.delay_methods[method])
        if method in self.fail_methods:
            self._reply(handler, 200, {"ok": False, "error": self.fail_methods[method]})
            return
        if method == "chat.postMessage" and args.get("channel") in self.fail_channels:
            self._reply(handler, 200, {"ok": False, "error": self.fail_channels[str(args["channel"])]})
            return
        try:
            if self.strict:
                refuse(self, call, found)
            answer = self._answer(call)
        except Refused as refused:
            logger.warning("Slack would refuse %s: %s %s", method, refused.code, "; ".join(refused.messages))
            answer = {"ok": False, "error": refused.code}
            if refused.messages:
                answer["response_metadata"] = {"messages": refused.messages}
        with self._lock:
            delays = self.delay_calls.get(method) or []
            delay = delays.pop(0) if delays else 0.0
        if delay:
            time.sleep(delay)
        try:
            self._reply(handler, 200, answer)
        except OSError:  # the client gave up waiting: what was done stays done
            pass

    def _validate(self, call: Call) -> list[str]:
        where = call.method
        found: list[str] = []
        if call.method in MESSAGE_METHODS:
            if "blocks" in call.args:
                found += check_blocks(call.args["blocks"], MESSAGE_BLOCK_LIMIT, where)
            if not call.args.get("text") and not call.args.get("blocks"):
                found.append(f"{where}: neither text nor blocks")
        if call.method in VIEW_METHODS:
            found += check_view(call.args.get("view"), where)
            if call.method == "views.publish" and (call.args.get("view") or {}).get("type") != "home":
                found.append("views.publish: not a home view")
        if call.method == "apps.connections.open" and not (call.token or "").startswith("xapp-"):
            found.append("apps.connections.open: not called with an app-level token (xapp-…)")
        if call.method in ("views.open", "views.push"):
            issued = self.triggers.get(call.args.get("trigger_id", ""))
            if issued is None:
                found.append(f"{call.method}: unknown trigger_id")
            elif call.at - issued > TRIGGER_SECONDS:
                found.append(f"{call.method}: trigger used after {call.at - issued:.1f}s (expired)")
        self.problems += found
        return found

    def _next_ts(self) -> str:
        return self.workspace.next_ts() or f"{1700000000 + next(self._ts)}.000100"

    def _answer(self, call: Call) -> dict[str, Any]:
        args, method = call.args, call.method
        ts = self._next_ts()
        if method == "apps.connections.open" and self.socket_url is not None:
            return {"ok": True, "url": self.socket_url}
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "bot_id": BOT_ID, "team_id": TEAM_ID, "user": "alliance"}
        if method in ("chat.postMessage", "chat.update"):
            return self._message(method, args, ts)
        if method == "chat.postEphemeral":
            self.workspace.post_ephemeral(str(args.get("channel")), str(args.get("user")),
                                          {"ts": ts, "text": args.get("text"), "blocks": args.get("blocks")})
            return {"ok": True, "message_ts": ts}
        if method == "chat.delete":
            self.workspace.delete(str(args.get("channel")), str(args.get("ts")))
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        if method in ("conversations.history", "conversations.replies"):
            return self._history(args, method == "conversations.replies")
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": dm_channel(str(args.get("users", "X")))}}
        if method == "users.info":
            user_id = args.get("user", "")
            user = self.users.get(user_id, User())
            real_name = user.real_name or user.name
            return {"ok": True, "user": {"id": user_id, "team_id": user.team_id or TEAM_ID,
                                         "name": user.name or user_id.lower(),
                                         "real_name": real_name, "tz": user.tz, "is_admin": user.is_admin,
                                         "is_owner": user.is_owner, "is_bot": user.is_bot or user_id == BOT_USER,
                                         "deleted": user.deleted,
                                         "profile": {"display_name": user.display_name or user.name,
                                                     "real_name": real_name}}}
        if method == "usergroups.users.list":
            return {"ok": True, "users": self.usergroups.get(args.get("usergroup", ""), [])}
        if method in VIEW_METHODS:
            return self._view(method, args, call)
        if method == "chat.getPermalink":
            return {"ok": True, "channel": args.get("channel"),
                    "permalink": f"{self.permalink_base}/{args.get('channel')}/p{str(args.get('message_ts', '')).replace('.', '')}"}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._counter):08d}"
            self.workspace.add_file(file_id, str(args.get("filename") or "file"), int(str(args.get("length") or 0) or 0))
            return {"ok": True, "upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = args.get("files") or []
            channel = args.get("channel_id") or args.get("channels")
            if channel:
                self.workspace.share_files([(str(f.get("id")), f.get("title")) for f in files], dm_channel(str(channel)),
                                           args.get("thread_ts"), args.get("initial_comment"), ts)
            return {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title")} for f in files]}
        if method == "files.info":
            info = self.workspace.file_info(str(args.get("file")))
            return {"ok": True, "file": info or {"id": args.get("file")}}
        return {"ok": True}

    def _message(self, method: str, args: dict[str, Any], ts: str) -> dict[str, Any]:
        channel = dm_channel(str(args.get("channel", "")))
        if method == "chat.update":
            self.workspace.update(channel, str(args.get("ts")), {"text": args.get("text"), "blocks": args.get("blocks"),
                                                                  "edited": {"user": BOT_USER, "ts": ts}})
            return {"ok": True, "channel": channel, "ts": args.get("ts"), "text": args.get("text"),
                    "message": {"text": args.get("text"), "blocks": args.get("blocks")}}
        message = {"ts": ts, "user": BOT_USER, "bot_id": BOT_ID, "text": args.get("text") or "",
                   "blocks": args.get("blocks")}
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        if args.get("metadata"):  # Slack message metadata (the outbox marks each post with its row)
            message["metadata"] = args["metadata"]
        self.workspace.post(channel, message)
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": args.get("text"), "ts": ts,
                                                                       "blocks": args.get("blocks")}}

    def _history(self, args: dict[str, Any], replies: bool) -> dict[str, Any]:
        """conversations.history (top-level messages) or .replies (a thread), newest
        first as Slack answers; message metadata only with include_all_metadata."""
        channel, limit = str(args.get("channel")), int(args.get("limit") or 100)
        with self._lock:
            posted = list(self.workspace.messages.get(channel, []))
        if replies:
            posted = [m for m in posted if m.get("thread_ts") == args.get("ts") or m.get("ts") == args.get("ts")]
        else:
            posted = [m for m in posted if not m.get("thread_ts") or m.get("thread_ts") == m.get("ts")]
        with_metadata = str(args.get("include_all_metadata")).lower() in ("1", "true")
        shown = [m if with_metadata else {k: v for k, v in m.items() if k != "metadata"} for m in reversed(posted)]
        return {"ok": True, "messages": shown[:limit], "has_more": len(shown) > limit}

    def _view(self, method: str, args: dict[str, Any], call: Call) -> dict[str, Any]:
        view = dict(args.get("view") or {})
        try:
            if method == "views.publish":
                opened = self.workspace.publish_home(str(args.get("user_id")), view)
            elif method in ("views.open", "views.push"):
                user = self.trigger_users.get(str(args.get("trigger_id")), "")
                opened = self.workspace.open_modal(user, view, push=method == "views.push")
            else:
                opened = self.workspace.update_view(str(args.get("view_id") or ""), view, args.get("hash"))
        except ViewError as refused:
            if self.strict:
                raise Refused(str(refused)) from None
            view.update({"id": args.get("view_id") or f"V{next(self._counter):08d}", "hash": f"h{next(self._counter)}"})
            return {"ok": True, "view": view}
        if not self.strict:  # the tests' ids, as before the workspace kept views
            view.update({"id": args.get("view_id") or f"V{next(self._counter):08d}", "hash": f"h{next(self._counter)}"})
            return {"ok": True, "view": view}
        return {"ok": True, "view": dict(view, id=opened.id, hash=opened.hash, team_id=TEAM_ID,
                                         state={"values": {}}, app_id="A0ALLIANCE", bot_id=BOT_ID)}

    # -- response_url posts ---------------------------------------------------
    def _respond(self, path: str, args: dict[str, Any]) -> None:
        """What Slack does with a response_url post: replace or delete the message the
        action came from, post in the channel, or show it only to the person."""
        responder = self.workspace.responders.get(path)
        if responder is None:
            return
        original = responder.original_ts
        if args.get("delete_original") and original:
            self.workspace.delete(responder.channel, original)
            return
        if args.get("replace_original") and original:
            self.workspace.update(responder.channel, original, {"text": args.get("text"), "blocks": args.get("blocks")})
            return
        message = {"text": args.get("text") or "", "blocks": args.get("blocks")}
        if responder.thread_ts:
            message["thread_ts"] = responder.thread_ts
        if args.get("response_type") == "in_channel":
            self.workspace.post(responder.channel, dict(message, ts=self._next_ts(), user=BOT_USER, bot_id=BOT_ID))
        else:
            self.workspace.post_ephemeral(responder.channel, responder.user, dict(message, ts=self._next_ts()))


def refuse(standin: SlackStandIn, call: Call, found: list[str]) -> None:
    """Slack's own error codes for what it would not accept."""
    method, args = call.method, call.args
    if method not in KNOWN_METHODS:
        raise Refused("unknown_method")
    if method != "apps.connections.open" and call.token != standin.bot_token:
        raise Refused("not_authed" if not call.token else "invalid_auth")
    if method in ("views.open", "views.push"):
        issued = standin.triggers.get(args.get("trigger_id", ""))
        if issued is None:
            raise Refused("invalid_trigger_id")
        if call.at - issued > TRIGGER_SECONDS:
            raise Refused("expired_trigger_id")
    if found:
        code = "invalid_blocks" if method in MESSAGE_METHODS and "blocks" in args else "invalid_arguments"
        if any("neither text nor blocks" in f for f in found):
            code = "no_text"
        raise Refused(code, found)
    if method in MESSAGE_METHODS and len(str(args.get("text") or "")) > MESSAGE_TEXT_LIMIT:
        raise Refused("msg_too_long")
    if method in ("chat.postMessage", "chat.postEphemeral", "chat.update", "chat.getPermalink", "chat.delete"):
        channel = str(args.get("channel") or "")
        if not channel:
            raise Refused("channel_not_found")
        if channel[:1] in ("C", "G") and channel not in standin.channels:
            raise Refused("channel_not_found")
        if channel[:1] in ("U", "W", "D") and standin.users and "U" + channel[1:] not in standin.users:
            raise Refused("channel_not_found")
    if method in ("chat.update", "chat.getPermalink", "chat.delete"):
        ts = str(args.get("ts") or args.get("message_ts") or "")
        message = standin.workspace.find(str(args.get("channel")), ts)
        if message is None:
            raise Refused("message_not_found")
        if method != "chat.getPermalink" and message.get("bot_id") != BOT_ID:
            raise Refused("cant_update_message" if method == "chat.update" else "cant_delete_message")
    if method == "users.info" and args.get("user") not in standin.users:
        raise Refused("user_not_found")
    if method == "conversations.open" and not args.get("users") and not args.get("channel"):
        raise Refused("users_list_not_supplied")
    if method == "usergroups.users.list" and args.get("usergroup") not in standin.usergroups:
        raise Refused("no_such_subteam")
    if method == "files.getUploadURLExternal" and (not args.get("filename") or not str(args.get("length", "")).isdigit()):
        raise Refused("invalid_arguments")
    if method == "files.completeUploadExternal":
        for item in args.get("files") or []:
            if standin.workspace.file_info(str(item.get("id"))) is None:
                raise Refused("file_not_found")
    if method == "files.info" and standin.workspace.file_info(str(args.get("file"))) is None:
        raise Refused("file_not_found")
