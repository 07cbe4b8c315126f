"""What a Slack workspace holds, as far as Alliance can see it: the messages in
each channel and thread (and the ephemeral ones, each for one person), the
modal stack and App Home of each person, and the files shared. The Web API
(bot/sandbox/slack_api.py) writes it; the page (bot/sandbox/web.py) reads it."""

from __future__ import annotations

import base64
import copy
import itertools
import json
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

BOT_USER = "UBOT0001"
BOT_ID = "BBOT0001"
MODAL_STACK_LIMIT = 3  # Slack: views.push fails with push_limit_reached past three

Message = dict[str, Any]


def dm_channel(user_id: str) -> str:
    """The bot's DM with a person (what conversations.open answers)."""
    return "D" + user_id[1:] if user_id[:1] in ("U", "W") else user_id


@dataclass
class Responder:
    """Where a response_url posts: whose it is, in which channel, from which message."""

    user: str
    channel: str
    original_ts: str | None = None
    thread_ts: str | None = None


@dataclass
class OpenView:
    id: str
    user: str
    view: dict[str, Any]
    hash: str
    kind: str  # "modal" or "home"
    errors: dict[str, str] = field(default_factory=dict)


class ViewError(Exception):
    """A views.* call Slack would refuse; the message is Slack's error code."""


class Workspace:
    def __init__(self, epoch: Callable[[], float] | None = None) -> None:
        self._lock = threading.RLock()
        self._epoch = epoch
        self._last = 0.0
        self._next_id = 1
        self._ephemeral = itertools.count(1)
        self.messages: dict[str, list[Message]] = {}
        self.views: dict[str, OpenView] = {}
        self.stacks: dict[str, list[str]] = {}
        self.homes: dict[str, str] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.responders: dict[str, Responder] = {}
        self.version = 0

    # -- time stamps ----------------------------------------------------------
    def next_ts(self) -> str | None:
        """A message ts from the workspace clock, always later than the last one;
        None when the workspace has no clock (the caller numbers them)."""
        if self._epoch is None:
            return None
        with self._lock:
            moment = max(self._epoch(), self._last + 0.000001)
            self._last = moment
            return f"{moment:.6f}"

    def new_id(self, prefix: str) -> str:
        with self._lock:
            self._next_id += 1
            return f"{prefix}{self._next_id - 1:08d}"

    def _changed(self) -> None:
        self.version += 1

    # -- messages ---------------------------------------------------------------
    def post(self, channel: str, message: Message) -> Message:
        stored = dict(message, channel=channel, type="message")
        with self._lock:
            self.messages.setdefault(channel, []).append(stored)
            self._changed()
        return stored

    def find(self, channel: str, ts: str) -> Message | None:
        with self._lock:
            return next((m for m in self.messages.get(channel, []) if m.get("ts") == ts), None)

    def update(self, channel: str, ts: str, changes: dict[str, Any]) -> Message | None:
        with self._lock:
            found = self.find(channel, ts)
            if found is not None:
                found.update({k: v for k, v in changes.items() if v is not None})
                if "blocks" in changes and changes["blocks"] is None:
                    found.pop("blocks", None)
                self._changed()
            return found

    def delete(self, channel: str, ts: str) -> bool:
        with self._lock:
            kept = [m for m in self.messages.get(channel, []) if m.get("ts") != ts]
            gone = len(kept) != len(self.messages.get(channel, []))
            self.messages[channel] = kept
            self._changed()
            return gone

    def post_ephemeral(self, channel: str, user: str, message: Message) -> Message:
        """Only `user` sees it, and only until they leave (here: it stays, marked)."""
        ts = message.get("ts") or self.next_ts() or f"{next(self._ephemeral)}.000000"
        return self.post(channel, dict(message, ts=ts, ephemeral_for=user, user=BOT_USER, bot_id=BOT_ID))

    def visible(self, channel: str, user: str) -> list[Message]:
        """The channel as `user` sees it: top-level messages with their reply counts,
        and each thread's replies."""
        with self._lock:
            mine = [copy.deepcopy(m) for m in self.messages.get(channel, [])
                    if m.get("ephemeral_for") in (None, user)]
        roots = [m for m in mine if not m.get("thread_ts") or m.get("thread_ts") == m.get("ts")]
        for root in roots:
            replies = [m for m in mine if m.get("thread_ts") == root["ts"] and m is not root and m.get("ts") != root["ts"]]
            root["replies"] = replies
            root["reply_count"] = len(replies)
        return roots

    # -- views --------------------------------------------------------------------
    def open_modal(self, user: str, view: dict[str, Any], push: bool = False) -> OpenView:
        with self._lock:
            stack = self.stacks.setdefault(user, [])
            if push and len(stack) >= MODAL_STACK_LIMIT:
                raise ViewError("push_limit_reached")
            if not push:
                stack.clear()
            opened = OpenView(id=self.new_id("V"), user=user, view=view, hash=self.new_id("h"), kind="modal")
            self.views[opened.id] = opened
            stack.append(opened.id)
            self._changed()
            return opened

    def update_view(self, view_id: str, view: dict[str, Any], hash_: str | None) -> OpenView:
        with self._lock:
            found = self.views.get(view_id)
            if found is None:
                raise ViewError("not_found")
            if hash_ and hash_ != found.hash:
                raise ViewError("hash_conflict")
            found.view, found.hash, found.errors = view, self.new_id("h"), {}
            self._changed()
            return found

    def publish_home(self, user: str, view: dict[str, Any]) -> OpenView:
        with self._lock:
            home_id = self.homes.get(user)
            if home_id is None:
                home = OpenView(id=self.new_id("V"), user=user, view=view, hash=self.new_id("h"), kind="home")
                self.views[home.id] = home
                self.homes[user] = home.id
            else:
                home = self.views[home_id]
                home.view, home.hash = view, self.new_id("h")
            self._changed()
            return home

    def top_modal(self, user: str) -> OpenView | None:
        with self._lock:
            stack = self.stacks.get(user) or []
            return self.views[stack[-1]] if stack else None

    def home(self, user: str) -> OpenView | None:
        with self._lock:
            home_id = self.homes.get(user)
            return self.views[home_id] if home_id else None

    def close_modal(self, user: str, view_id: str, everything: bool = False) -> None:
        with self._lock:
            stack = self.stacks.get(user, [])
            if everything:
                stack.clear()
            elif view_id in stack:
                stack.remove(view_id)
            self._changed()

    def set_errors(self, view_id: str, errors: dict[str, str]) -> None:
        with self._lock:
            if view_id in self.views:
                self.views[view_id].errors = dict(errors)
                self._changed()

    # -- files ---------------------------------------------------------------------
    def add_file(self, file_id: str, name: str, size: int) -> None:
        with self._lock:
            self.files[file_id] = {"id": file_id, "name": name, "size": size, "data": b"", "title": name,
                                   "mimetype": _mimetype(name)}

    def store_bytes(self, file_id: str, data: bytes) -> bool:
        with self._lock:
            if file_id not in self.files:
                return False
            self.files[file_id]["data"] = data
            return True

    def file_info(self, file_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self.files.get(file_id)
            if found is None:
                return None
            return {k: v for k, v in found.items() if k != "data"} | {"url_private": f"/files/{file_id}"}

    def file_bytes(self, file_id: str) -> tuple[bytes, str] | None:
        with self._lock:
            found = self.files.get(file_id)
            return (found["data"], found["mimetype"]) if found else None

    def share_files(self, file_ids: list[tuple[str, str | None]], channel: str, thread_ts: str | None,
                    comment: str | None, ts: str) -> Message:
        with self._lock:
            shared = []
            for file_id, title in file_ids:
                if title:
                    self.files[file_id]["title"] = title
                shared.append(self.file_info(file_id))
        message: Message = {"ts": ts, "user": BOT_USER, "bot_id": BOT_ID, "text": comment or "", "files": shared,
                            "subtype": "file_share"}
        if thread_ts:
            message["thread_ts"] = thread_ts
        return self.post(channel, message)


    # -- kept across restarts --------------------------------------------------------
    def save(self, path: str, extra: dict[str, Any]) -> None:
        """Messages, App Homes and files (not open modals, triggers or response URLs,
        which Slack expires within minutes anyway), written whole, readable by the owner only."""
        with self._lock:
            state = {
                "messages": self.messages, "last": self._last, "next_id": self._next_id,
                "homes": {user: {"id": v.id, "view": v.view, "hash": v.hash}
                          for user, v in ((u, self.views[i]) for u, i in self.homes.items())},
                "files": {i: dict(f, data=base64.b64encode(f["data"]).decode()) for i, f in self.files.items()},
                "extra": extra,
            }
            text = json.dumps(state)
        # One temporary file per writer: the saving thread and a stop may save at once.
        temporary = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
            out.write(text)
        os.replace(temporary, path)

    def load(self, path: str) -> dict[str, Any]:
        with open(path) as source:
            state = json.load(source)
        with self._lock:
            self.messages = state["messages"]
            self._last, self._next_id = float(state["last"]), int(state["next_id"])
            for user, home in state["homes"].items():
                self.views[home["id"]] = OpenView(id=home["id"], user=user, view=home["view"], hash=home["hash"], kind="home")
                self.homes[user] = home["id"]
            self.files = {i: dict(f, data=base64.b64decode(f["data"])) for i, f in state["files"].items()}
            self._changed()
        return dict(state.get("extra") or {})


def _mimetype(name: str) -> str:
    lowered = name.lower()
    for suffix, kind in ((".png", "image/png"), (".jpg", "image/jpeg"), (".jpeg", "image/jpeg"),
                         (".gif", "image/gif"), (".csv", "text/csv")):
        if lowered.endswith(suffix):
            return kind
    return "application/octet-stream"
