"""The one place where exceptions become what the user sees, and where a listener's
work is split around its acknowledgement.

The app runs with `process_before_response=True`: Bolt answers Slack's HTTP request
when a listener's function returns, so that function does the whole change and
acknowledges last (`reported` wraps it). Whatever must wait for the acknowledgement
(opening or updating a view, replacing a prompt, telling about a failure) is the
listener's *later* part, a Bolt lazy listener started on the listener executor with
a copy of the request: `acknowledged(ack_part, step)` registers both. The ack part
hands the later part what it needs with `hand_over(context, value)`; the later part
runs `step` only when something was handed over, and tells the user instead when
the ack part failed."""

from __future__ import annotations

import functools
import inspect
import json
import logging
import uuid
from typing import Any, Callable, Mapping

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError, OperationalError, TimeoutError as PoolTimeout

from bot.domain.errors import UserError
from bot.slack.replies import respond_or_dm
from bot.slack.services import Services

logger = logging.getLogger(__name__)

DATABASE_DOWN = "Not saved: the database did not answer. Nothing was stored; please try again in a minute."
HANDED_OVER = "alliance_handed_over"  # context key: what the ack part leaves for the later part
PROBLEM = "alliance_problem"  # context key: a failure the later part tells the user about

# A later step: (the request's body, what the ack part handed over, client, respond).
Step = Callable[[dict[str, Any], Any, WebClient, Callable[..., Any]], None]


def passing(error: Exception) -> bool:
    """A failure that trying again may mend: the database did not answer in time."""
    return isinstance(error, (OperationalError, PoolTimeout)) or (
        isinstance(error, DBAPIError) and error.connection_invalidated)


def user_message(error: Exception) -> str:
    if isinstance(error, UserError):
        return error.message
    if passing(error):
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


def acknowledgement_for(message: str, body: dict[str, Any]) -> dict[str, Any]:
    """What to acknowledge with when a listener failed before acknowledging."""
    if body.get("type") == "view_submission":
        return modal_error(body.get("view") or {}, message)
    if body.get("command"):
        return {"response_type": "ephemeral", "text": message}
    return {}


def tell_user(message: str, body: dict[str, Any], respond: Callable[..., Any] | None, client: Any) -> None:
    """After the acknowledgement: the reply URL if there is one, else (or where it fails) a DM."""
    try:
        respond_or_dm(respond if body.get("response_url") else None, client, user_of(body),
                      text=message, response_type="ephemeral", replace_original=False)
    except Exception:  # noqa: BLE001 - the error path must not raise
        logger.exception("could not tell the user about an error")


def user_of(body: dict[str, Any]) -> str | None:
    """Who sent a request: a command's `user_id`, an interaction's `user.id`."""
    return (body.get("user") or {}).get("id") or body.get("user_id")


def hand_over(context: BoltContext, value: Any) -> None:
    """From the ack part to the later part (deep-copied: plain data only)."""
    context[HANDED_OVER] = value


def reported(listener: Callable[..., Any], told_later: bool = False) -> Callable[..., Any]:
    """Wrap an ack part so that whatever it raises reaches the user as one line: in
    the acknowledgement when it can carry text, else by the later part when there is
    one (`told_later`: the listener takes `context`), else at once."""

    @functools.wraps(listener)
    def wrapper(**kwargs: Any) -> Any:
        try:
            return listener(**kwargs)
        except Exception as error:  # noqa: BLE001 - mapped to a message below
            body = kwargs.get("body") or {}
            ack = kwargs.get("ack")
            message = user_message(error)
            if ack is not None and ack.response is None:
                ack(**acknowledgement_for(message, body))
                if body.get("type") != "block_actions":  # the acknowledgement said it
                    return None
            if told_later:
                context = kwargs["context"]
                context.pop(HANDED_OVER, None)  # nothing of a failed part is carried on
                context[PROBLEM] = message
            else:
                tell_user(message, body, kwargs.get("respond"), kwargs.get("client"))
            return None

    return wrapper


def later(step: Step | None = None) -> Callable[..., None]:
    """The later part of a listener: tells the user about a failure of the ack part,
    else runs `step` with what the ack part handed over (nothing handed over: nothing
    to do); a failure of the step is told the same way."""

    def after(body: dict[str, Any], context: BoltContext, client: WebClient, respond: Any) -> None:
        problem = context.get(PROBLEM)
        if problem is not None:
            tell_user(str(problem), body, respond, client)
            return
        if step is None or HANDED_OVER not in context:
            return
        try:
            step(body, context[HANDED_OVER], client, respond)
        except Exception as error:  # noqa: BLE001 - mapped to a message
            message = user_message(error)  # an unexpected one is logged there, with its ref
            if passing(error):
                logger.warning("%s did not finish: the database did not answer (%s)", after.__name__,
                               type(error).__name__)
            tell_user(message, body, respond, client)

    after.__name__ = after.__qualname__ = f"after_{getattr(step, '__name__', 'acknowledging')}"
    return after


def acknowledged(ack_part: Callable[..., Any], step: Step | None = None) -> dict[str, Any]:
    """What `app.action(...)`, `app.command(...)`, `app.view(...)` or `app.event(...)`
    take to register `ack_part` (wrapped in `reported`) with `later(step)` after it.
    The ack part takes `context`: that is how a failure reaches the later part."""
    if "context" not in inspect.signature(ack_part).parameters:
        raise TypeError(f"{ack_part.__name__} must take `context` to hand its failures over")
    return {"ack": reported(ack_part, told_later=True), "lazy": [later(step)]}


def replace_prompt(body: dict[str, Any], reply: Any, client: WebClient, respond: Callable[..., Any]) -> None:
    """A later step: the reply handed over replaces the ephemeral message whose button
    was pressed (through its response_url; by DM where that fails)."""
    respond_or_dm(respond if body.get("response_url") else None, client, user_of(body), replace_original=True, **reply)


def handle_error(error: Exception, body: dict[str, Any], response: BoltResponse | None,
                 respond: Callable[..., Any] | None, client: Any) -> BoltResponse | None:
    """Failures outside `reported`: middleware, authorization, and event listeners.
    An event whose database did not answer keeps Bolt's 500 so that Slack delivers it
    again (nothing of it was stored: its event_id is claimed in the transaction that
    failed); any other failure of an event (a malformed one, a bug) is answered 200,
    since a delivery again would fail the same way."""
    message = user_message(error)
    if body.get("type") == "event_callback":
        if passing(error) and body.get("event_id") and isinstance(body.get("event"), dict):
            logger.warning("event %s not processed (%s): Slack delivers it again", body.get("event_id"),
                           type(error).__name__)
            return None  # Bolt's 500
        return BoltResponse(status=200, body="")  # no delivery again would fare better (logged above)
    if response is not None:
        payload = acknowledgement_for(message, body)
        return BoltResponse(status=200, body=json.dumps(payload) if payload else "", headers={"content-type": "application/json"})
    tell_user(message, body, respond, client)
    return None


def register(app: App, services: Services) -> None:
    @app.error
    def on_error(error: Exception, body: dict[str, Any], response: BoltResponse | None,
                 respond: Callable[..., Any] | None, client: Any) -> BoltResponse | None:
        return handle_error(error, body, response, respond, client)
