"""Slack's refusals, by its own error codes: what the strict Web API (the
sandbox's) answers instead of only recording a problem (the tests')."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.sandbox.checks import MESSAGE_TEXT_LIMIT
from bot.sandbox.workspace import BOT_ID

if TYPE_CHECKING:
    from bot.sandbox.slack_api import Call, SlackStandIn

MESSAGE_METHODS = {"chat.postMessage", "chat.update", "chat.postEphemeral", "chat.scheduleMessage"}
VIEW_METHODS = {"views.open", "views.update", "views.publish", "views.push"}
TRIGGER_SECONDS = 3.0
KNOWN_METHODS = MESSAGE_METHODS | VIEW_METHODS | {
    "auth.test", "apps.connections.open", "conversations.open", "users.info", "usergroups.users.list",
    "chat.getPermalink", "chat.delete", "files.getUploadURLExternal", "files.completeUploadExternal", "files.info"}


class ChannelLimit:
    """Slack's limit on chat.postMessage: about one message a second per channel,
    short bursts allowed; past it, HTTP 429 with Retry-After."""

    def __init__(self, per_second: float = 1.0, burst: int = 10) -> None:
        self.per_second, self.burst = per_second, burst
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, at)

    def allow(self, channel: str, now: float) -> bool:
        tokens, at = self._buckets.get(channel, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.per_second)
        allowed = tokens >= 1.0
        self._buckets[channel] = (tokens - 1.0 if allowed else tokens, now)
        return allowed


class Refused(Exception):
    """Slack answers `{"ok": false, "error": code}`."""

    def __init__(self, code: str, messages: list[str] | None = None) -> None:
        super().__init__(code)
        self.code, self.messages = code, messages or []


def refuse(standin: "SlackStandIn", call: "Call", found: list[str]) -> None:
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
