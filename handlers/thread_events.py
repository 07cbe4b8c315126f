"""Message events in a flag's thread: counted (author and time only), once.

The reply is stored before Slack is told 200 (the app processes before it
responds). A failure (a lock wait that ran out, the database down) rolls back the
event's claim with the rest and answers 500, so Slack delivers the event again and
that delivery is counted; a delivery of one already counted changes nothing."""

from __future__ import annotations

from typing import Any, Callable

from slack_bolt import App
from sqlalchemy.orm import Session

from bot.slack.services import Services
from bot.usecases.threads import ReplyOutcome, record_thread_reply

COUNTED_SUBTYPES = {None, "thread_broadcast", "file_share"}


def is_human_thread_reply(event: dict[str, Any]) -> bool:
    return (
        event.get("subtype") in COUNTED_SUBTYPES
        and not event.get("bot_id")
        and bool(event.get("user"))
        and bool(event.get("thread_ts"))
        and event.get("thread_ts") != event.get("ts")
    )


def on_message(services: Services, body: dict[str, Any], event: dict[str, Any],
               after: Callable[[Session, ReplyOutcome], None] | None = None) -> ReplyOutcome | None:
    """Count a human reply in a warning's thread; `after` queues the root's edit in
    the same transaction when the warning became *discussing*. Nothing here calls
    Slack: it all runs before the acknowledgement."""
    if not is_human_thread_reply(event):
        return None
    with services.session_factory.begin() as session:
        outcome = record_thread_reply(
            session, event_id=str(body.get("event_id") or ""), channel_id=event.get("channel", ""),
            thread_ts=event["thread_ts"], message_ts=event["ts"], user_id=event["user"], now=services.now())
        if outcome is not None and outcome.became_discussing and after is not None:
            after(session, outcome)
    return outcome


def register(app: App, services: Services, after: Callable[[Session, ReplyOutcome], None] | None = None) -> None:
    @app.event("message")
    def message(body: dict[str, Any], event: dict[str, Any]) -> None:
        on_message(services, body, event, after)
