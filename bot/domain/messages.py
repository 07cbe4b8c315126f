"""Where a Slack message is: the one name for a (channel, ts) pair."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MessageRef:
    channel_id: str
    message_ts: str
