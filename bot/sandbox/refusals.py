"""Slack's refusals, by its own error codes: what the strict Web API (the
sandbox's) answers instead of only recording a problem (the tests')."""

from __future__ import annotations

MESSAGE_METHODS = {"chat.postMessage", "chat.update", "chat.postEphemeral", "chat.scheduleMessage"}
VIEW_METHODS = {"views.open", "views.update", "views.publish", "views.push"}
TRIGGER_SECONDS = 3.0
KNOWN_METHODS = MESSAGE_METHODS | VIEW_METHODS | {
    "auth.test", "apps.connections.open", "conversations.open", "conversations.history", "conversations.replies",
    "users.info", "usergroups.users.list",
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
