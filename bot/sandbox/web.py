"""The page: a WSGI app serving the workspace as JSON for the page's script
(polled every second), the person's actions, the clock control, the shared
files, and the page itself from bot/sandbox/static (nothing from a CDN)."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from importlib import resources
from typing import TYPE_CHECKING, Any, Callable, Iterable
from zoneinfo import ZoneInfo

from bot.sandbox.clock import parse_when
from bot.sandbox.people import PEOPLE, SUPERVISION_CHANNEL, SUPERVISION_NAME, person
from bot.sandbox.workspace import BOT_USER, dm_channel

if TYPE_CHECKING:
    from bot.sandbox.runner import Sandbox

logger = logging.getLogger(__name__)
StartResponse = Callable[..., Any]
STATIC = {"/": ("index.html", "text/html; charset=utf-8"),
          "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
          "/static/blocks.js": ("blocks.js", "text/javascript; charset=utf-8"),
          "/static/style.css": ("style.css", "text/css; charset=utf-8")}
MAX_BODY = 200_000
REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
           415: "Unsupported Media Type"}


class Problem(Exception):
    """One line for the person on the page."""


def _local(moment: datetime, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime("%a %d %b %Y, %H:%M")


class SandboxPage:
    def __init__(self, sandbox: "Sandbox", allowed_hosts: set[str]) -> None:
        self.sandbox = sandbox
        self.allowed_hosts = allowed_hosts

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", "/"), environ.get("REQUEST_METHOD", "GET")
        if environ.get("HTTP_HOST") not in self.allowed_hosts:  # another site's name pointed at 127.0.0.1
            return self._send(start_response, 403, b"forbidden host\n", "text/plain")
        try:
            if method == "GET" and path in STATIC:
                name, kind = STATIC[path]
                return self._send(start_response, 200, resources.files("bot.sandbox").joinpath("static", name).read_bytes(), kind)
            if method == "GET" and path == "/api/state":
                query = dict(part.split("=", 1) for part in environ.get("QUERY_STRING", "").split("&") if "=" in part)
                return self._json(start_response, 200, self.state(query.get("user", PEOPLE[0].id)))
            if method == "GET" and path.startswith("/files/"):
                found = self.sandbox.standin.workspace.file_bytes(path.removeprefix("/files/"))
                if found is None:
                    return self._json(start_response, 404, {"ok": False, "error": "file_not_found"})
                return self._send(start_response, 200, found[0], found[1])
            if method == "POST" and path.startswith("/api/"):
                if "application/json" not in environ.get("CONTENT_TYPE", ""):
                    return self._json(start_response, 415, {"ok": False, "error": "send JSON"})
                length = int(environ.get("CONTENT_LENGTH") or 0)
                if length > MAX_BODY:
                    return self._json(start_response, 400, {"ok": False, "error": "too large"})
                body = json.loads(environ["wsgi.input"].read(length) or b"{}")
                return self._json(start_response, 200, self.act(path.removeprefix("/api/"), body))
        except Problem as problem:
            return self._json(start_response, 200, {"ok": False, "error": str(problem)})
        except (ValueError, KeyError, TypeError) as error:
            logger.warning("sandbox page: bad request to %s: %r", path, error)
            return self._json(start_response, 400, {"ok": False, "error": "That request was not understood."})
        return self._json(start_response, 404 if method in ("GET", "POST") else 405, {"ok": False, "error": "not_found"})

    # -- reading -----------------------------------------------------------------
    def state(self, user: str) -> dict[str, Any]:
        me = person(user)
        workspace = self.sandbox.standin.workspace
        now = self.sandbox.clock()
        modal, home = workspace.top_modal(user), workspace.home(user)
        dm = dm_channel(user)
        return {
            "version": workspace.version,
            "me": me.id,
            "people": [{"id": p.id, "label": p.label, "role": p.role, "tz": p.tz} for p in PEOPLE],
            "names": {p.id: p.label for p in PEOPLE} | {BOT_USER: "Alliance"},
            "channels": [{"id": SUPERVISION_CHANNEL, "name": f"# {SUPERVISION_NAME}"}, {"id": dm, "name": "Alliance", "dm": True}],
            "messages": {SUPERVISION_CHANNEL: workspace.visible(SUPERVISION_CHANNEL, user), dm: workspace.visible(dm, user)},
            "modal": None if modal is None else {"id": modal.id, "hash": modal.hash, "view": modal.view, "errors": modal.errors},
            "home": None if home is None else {"id": home.id, "hash": home.hash, "view": home.view},
            "clock": {"local": _local(now, me.tz), "tz": me.tz, "iso": now.isoformat(),
                      "shifted": self.sandbox.clock.offset.total_seconds() > 60},
        }

    # -- acting ------------------------------------------------------------------
    def act(self, what: str, body: dict[str, Any]) -> dict[str, Any]:
        user = str(body["user"])
        person(user)  # only the workspace's people act
        side = self.sandbox.side
        problem: str | None
        if what == "command":
            text, channel = str(body["text"]).strip(), str(body["channel"])
            if not text.startswith("/"):
                if channel != SUPERVISION_CHANNEL:
                    raise Problem("Sending messages to this app has been turned off; use /alliance here.")
                problem = side.message(user, channel, text)
            elif text.split()[0] != "/alliance":
                raise Problem(f"{text.split()[0]} is not a valid command. In this workspace only /alliance works.")
            else:
                problem = side.command(user, channel, text.removeprefix("/alliance").strip())
        elif what == "reply":
            problem = side.message(user, str(body["channel"]), str(body["text"]), thread_ts=str(body["thread_ts"]))
        elif what == "action":
            container = body["container"]
            if container.get("view_id"):
                problem = side.view_action(user, str(container["view_id"]), dict(body["action"]), dict(body.get("values") or {}))
            else:
                problem = side.message_action(user, str(container["channel"]), str(container["ts"]), dict(body["action"]))
        elif what == "submit":
            problem = side.submit(user, str(body["view_id"]), dict(body.get("values") or {}))
        elif what == "close":
            problem = side.close(user, str(body["view_id"]))
        elif what == "home":
            problem = side.home_opened(user)
        elif what == "clock":
            return self.move_clock(user, str(body["to"]))
        else:
            raise KeyError(what)
        if problem:
            raise Problem(problem)
        return {"ok": True}

    def move_clock(self, user: str, to: str) -> dict[str, Any]:
        me = person(user)
        try:
            target = parse_when(to, self.sandbox.clock(), ZoneInfo(me.tz))
            self.sandbox.clock.move_to(target)
        except ValueError as error:
            raise Problem(str(error)) from None
        self.sandbox.settle()
        lines = self.sandbox.run_jobs()
        return {"ok": True, "now": _local(target, me.tz), "jobs": lines}

    # -- plumbing ----------------------------------------------------------------
    @staticmethod
    def _send(start_response: StartResponse, status: int, body: bytes, kind: str) -> Iterable[bytes]:
        start_response(f"{status} {REASONS.get(status, 'OK')}", [
            ("Content-Type", kind), ("Content-Length", str(len(body))), ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
            ("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'")])
        return [body]

    def _json(self, start_response: StartResponse, status: int, payload: Any) -> Iterable[bytes]:
        return self._send(start_response, status, json.dumps(payload).encode(), "application/json")
