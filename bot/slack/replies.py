"""Replies after the acknowledgement, when a request's own answer has gone."""

from __future__ import annotations

import logging
from typing import Any, Callable

logger = logging.getLogger(__name__)


def respond_or_dm(respond: Callable[..., Any] | None, client: Any, user_id: str | None, **message: Any) -> None:
    """Through `respond` (the request's response_url); where there is none, or it is
    refused or unreachable (it expires after 30 minutes; Slack may be down), the same
    text and blocks by DM to `user_id`, so a reply is never lost with the URL. Bolt's
    `respond` answers with the HTTP status instead of raising."""
    if respond is not None:
        try:
            answer = respond(**message)
            if getattr(answer, "status_code", 200) == 200:
                return
            logger.warning("a reply through response_url was refused (HTTP %s); sending it by DM",
                           getattr(answer, "status_code", "?"))
        except Exception as error:  # noqa: BLE001 - the DM below is the fallback
            logger.warning("a reply through response_url failed (%s); sending it by DM", type(error).__name__)
    if user_id and client is not None:
        client.chat_postMessage(channel=user_id, **{k: message[k] for k in ("text", "blocks") if k in message})
