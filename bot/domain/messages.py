"""Where a Slack message is: the one name for a (channel, ts) pair."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MessageRef:
    channel_id: str
    message_ts: str


PENDING_PREFIX = "outbox:"


def pending_ref(channel_id: str, outbox_id: int) -> MessageRef:
    """A message still waiting in the outbox: its row stands in for the ts."""
    return MessageRef(channel_id, f"{PENDING_PREFIX}{outbox_id}")


def pending_outbox_id(message: MessageRef) -> int | None:
    """The outbox row of a message not yet delivered; None for a delivered one."""
    if message.message_ts.startswith(PENDING_PREFIX):
        return int(message.message_ts.removeprefix(PENDING_PREFIX))
    return None
