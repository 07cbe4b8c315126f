"""The one place where exceptions become what the user sees."""

from __future__ import annotations

import functools
import json
import logging
import uuid
from typing import Any, Callable, Mapping

from slack_bolt import App, BoltResponse
from sqlalchemy.exc import DBAPIError, OperationalError, TimeoutError as PoolTimeout

from bot.domain.errors import UserError
from bot.slack.services import Services

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


def modal_error(view: Mapping[str, Any], message: str, field: str | None = None,
                fields: Mapping[str, str] | None = None, fallback: str | None = None) -> dict[str, Any]:
    """The one way a modal submission shows an error: `message` on the input block of
    `field` (through `fields`, field name -> block id) when the view has that block,
    else on `fallback`, else on the first input block; `{}` (just close) without one."""
    inputs = [b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"]
    own = (fields or {}).get(field or "")
    block = own if own is not None and own in inputs else fallback or (inputs[0] if inputs else None)
    return {"response_action": "errors", "errors": {block: message}} if block else {}


def acknowledgement_for(error: Exception, body: dict[str, Any]) -> dict[str, Any]:
    """What to acknowledge with when a listener failed before acknowledging."""
    message = user_message(error)
    if body.get("type") == "view_submission":
        return modal_error(body.get("view") or {}, message)
    if body.get("command"):
        return {"response_type": "ephemeral", "text": message}
    return {}


def tell_user(error: Exception, body: dict[str, Any], respond: Callable[..., Any] | None, client: Any) -> None:
    """After the acknowledgement: the reply URL if there is one, else a DM."""
    message = user_message(error)
    user_id = (body.get("user") or {}).get("id") or body.get("user_id")
    try:
        if respond is not None and body.get("response_url"):
            respond(text=message, response_type="ephemeral", replace_original=False)
        elif user_id and client is not None:
            client.chat_postMessage(channel=user_id, text=message)
    except Exception:  # noqa: BLE001 - the error path must not raise
        logger.exception("could not tell the user about an error")


def reported(listener: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a listener so that whatever it raises reaches the user as one line.
    (Bolt loses an acknowledgement when a listener raises right after acking,
    so listeners do not let exceptions escape.)"""

    @functools.wraps(listener)
    def wrapper(**kwargs: Any) -> Any:
        try:
            return listener(**kwargs)
        except Exception as error:  # noqa: BLE001 - mapped to a message below
            body = kwargs.get("body") or {}
            ack = kwargs.get("ack")
            if ack is not None and ack.response is None:
                ack(**acknowledgement_for(error, body))
                if body.get("type") == "block_actions":  # a button's ack carries no text: say it ephemerally
                    tell_user(error, body, kwargs.get("respond"), kwargs.get("client"))
            else:
                tell_user(error, body, kwargs.get("respond"), kwargs.get("client"))
            return None

    return wrapper


def handle_error(error: Exception, body: dict[str, Any], response: BoltResponse | None,
                 respond: Callable[..., Any] | None, client: Any) -> BoltResponse | None:
    """Failures outside a listener (middleware, authorization)."""
    if response is not None:
        payload = acknowledgement_for(error, body)
        return BoltResponse(status=200, body=json.dumps(payload) if payload else "", headers={"content-type": "application/json"})
    tell_user(error, body, respond, client)
    return None


def register(app: App, services: Services) -> None:
    @app.error
    def on_error(error: Exception, body: dict[str, Any], response: BoltResponse | None,
                 respond: Callable[..., Any] | None, client: Any) -> BoltResponse | None:
        return handle_error(error, body, response, respond, client)
