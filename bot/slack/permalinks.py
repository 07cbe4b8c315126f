"""Links to Slack messages: one `chat.getPermalink` call, its refusal logged by code."""

from __future__ import annotations

import logging
import re

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.domain.messages import MessageRef

logger = logging.getLogger(__name__)


def permalink(client: WebClient, ref: MessageRef, what: str = "a warning thread") -> str | None:
    """Slack's https link to `ref`, or None when Slack will not give one (logged
    with its error code only, never a message's text)."""
    try:
        url = client.chat_getPermalink(channel=ref.channel_id, message_ts=ref.message_ts).get("permalink")
    except SlackApiError as error:
        logger.warning("no permalink for %s: %s", what, error_code(str(error.response.get("error"))))
        return None
    except (SlackClientError, OSError) as error:  # no answer in time
        logger.warning("no permalink for %s: %s", what, type(error).__name__)
        return None
    return url if isinstance(url, str) and url.startswith("https://") else None


def error_code(raw: str) -> str:
    """Slack's error code as a code: its first word, snake_case only (never text)."""
    word = (raw.split() or ["unknown"])[0]
    return re.sub(r"[^a-z0-9_]", "", word.lower())[:40] or "unknown"
