"""Message events in a flag's thread: counted (author and time only), once."""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot.slack.services import Services
from bot.usecases.threads import ReplyOutcome, record_thread_reply

logger = logging.getLogger(__name__)

COUNTED_SUBTYPES = {None, "thread_broadcast", "file_share"}
RETRY_PAUSES = (0.2, 0.5, 1.0)  # seconds before each further try after a lock wait ran out


def is_human_thread_reply(event: dict[str, Any]) -> bool:
    return (
        event.get("subtype") in COUNTED_SUBTYPES
        and not event.get("bot_id")
        and bool(event.get("user"))
        and bool(event.get("thread_ts"))
        and event.get("thread_ts") != event.get("ts")
    )


def on_message(services: Services, body: dict[str, Any], event: dict[str, Any], client: WebClient,
               after: Callable[[Session, ReplyOutcome], None] | None = None) -> ReplyOutcome | None:
    """Count a human reply in a warning's thread; `after` queues the root's edit in
    the same transaction when the warning became *discussing*."""
    if not is_human_thread_reply(event):
        return None
    # Slack was told 200 before this runs, so a lock wait that ran out is tried again
    # here rather than left to a redelivery that will not come.
    for attempt, pause in enumerate(RETRY_PAUSES + (None,)):
        try:
            with services.session_factory.begin() as session:
                outcome = record_thread_reply(
                    session, event_id=str(body.get("event_id") or ""), channel_id=event.get("channel", ""),
                    thread_ts=event["thread_ts"], message_ts=event["ts"], user_id=event["user"], now=services.now())
                if outcome is not None and outcome.became_discussing and after is not None:
                    after(session, outcome)
            return outcome
        except OperationalError as error:
            if pause is None:
                raise
            logger.warning("thread reply not counted yet (%s), try %d", type(error.orig).__name__, attempt + 1)
            time.sleep(pause)
    return None


def register(app: App, services: Services, after: Callable[[Session, ReplyOutcome], None] | None = None) -> None:
    @app.event("message")
    def message(body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        on_message(services, body, event, client, after)
