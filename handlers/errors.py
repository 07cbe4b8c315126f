"""The one place where exceptions become what the user sees."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any, Callable

from slack_bolt import App, BoltResponse
from sqlalchemy.exc import DBAPIError, OperationalError, TimeoutError as PoolTimeout

from bot.domain.errors import UserError
from bot.services import Services

logger = logging.getLogger(__name__)

DATABASE_DOWN = "Not saved: the database did not answer. Nothing was stored; please try again in a minute."


def user_message(error: Exception) -> str:
    if isinstance(error, UserError):
        return error.message
    if isinstance(error, (OperationalError, PoolTimeout)) or (isinstance(error, DBAPIError) and error.connection_invalidated):
        return DATABASE_DOWN
    reference = uuid.uuid4().hex[:8]
    logger.error("unexpected error (ref %s): %s", reference, type(error).__name__, exc_info=error)
    return f"Something went wrong on our side (ref {reference}). Nothing was saved; please try again."


def handle_error(error: Exception, body: dict[str, Any], response: BoltResponse | None,
                 respond: Callable[..., Any] | None, client: Any) -> BoltResponse | None:
    message = user_message(error)
    if response is not None:  # not acknowledged yet: the message is the acknowledgement
        payload: dict[str, Any] = {"response_type": "ephemeral", "text": message}
        if body.get("type") == "view_submission":
            payload = {"response_action": "errors", "errors": {"error": message}}
        return BoltResponse(status=200, body=json.dumps(payload), headers={"content-type": "application/json"})
    user_id = (body.get("user") or {}).get("id") or body.get("user_id")
    try:
        if respond is not None and body.get("response_url"):
            respond(text=message, response_type="ephemeral", replace_original=False)
        elif user_id:
            client.chat_postMessage(channel=user_id, text=message)
    except Exception:  # noqa: BLE001 - the error path must not raise
        logger.exception("could not tell the user about an error")
    return None


def register(app: App, services: Services) -> None:
    @app.error
    def on_error(error: Exception, body: dict[str, Any], response: BoltResponse | None,
                 respond: Callable[..., Any] | None, client: Any) -> BoltResponse | None:
        return handle_error(error, body, response, respond, client)
