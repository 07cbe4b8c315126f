"""Small builders for messages: mrkdwn text in, valid blocks out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SECTION_LIMIT = 3000
MESSAGE_BLOCK_LIMIT = 50
FALLBACK_TEXT_LIMIT = 3000

Reply = dict[str, Any]  # what `respond`/`ack` take: text, blocks, response_type


def _chunks(text: str, limit: int) -> list[str]:
    """Split on line breaks so no section passes Slack's 3,000 characters."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        chunks.append(current)
    return chunks


def text_blocks(text: str) -> list[dict[str, Any]]:
    chunks = _chunks(text, SECTION_LIMIT)[:MESSAGE_BLOCK_LIMIT]
    # Plain dicts, as SectionBlock(text=MarkdownTextObject(...)).to_dict() gives them, without its validators.
    return [{"type": "section", "text": {"type": "mrkdwn", "text": chunk}} for chunk in chunks]


def fallback(text: str) -> str:
    return text if len(text) <= FALLBACK_TEXT_LIMIT else text[: FALLBACK_TEXT_LIMIT - 1] + "…"


def ephemeral(text: str) -> Reply:
    """A reply only the person who typed sees."""
    return {"response_type": "ephemeral", "text": fallback(text), "blocks": text_blocks(text)}


@dataclass(frozen=True)
class CommandResult:
    """What a subcommand returns: the reply it is acknowledged with. Anything else
    it sends (a DM, a chart, warnings) is in the outbox, queued in its transaction."""

    reply: Reply
