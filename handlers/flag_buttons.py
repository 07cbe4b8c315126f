"""The warning buttons: *Acknowledge*, *Plan repair*, *Resolve*, and their modals.

Each press is checked and stored in one transaction, then acknowledged: only the
case's therapists, supervisors and admins may act. A refusal, a forgotten case or
a warning already resolved raises a UserError inside the transaction, so nothing
is written, and `reported` answers the presser with one ephemeral line. What an
action did is replied in the warning's thread and the root is re-rendered, both
through the outbox, queued in the same transaction as the change.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable, Mapping

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.domain.errors import UserError
from bot.slack.services import Services
from bot.slack.checkin_view import FieldErrors
from bot.slack.flag_modals import (
    PLAN_FIELDS,
    RESOLVE_FIELDS,
    build_plan_modal,
    build_resolve_modal,
    decode_ref,
    read_plan_submission,
    read_resolve_submission,
)
from bot.slack.ids import Action, Block, Callback
from bot.slack.warning_outbox import queue_reply, queue_root_refresh
from bot.slack.warnings import acknowledged_text, plan_text, resolved_text
from bot.usecases import flag_actions
from bot.usecases.flag_actions import Handled, WarningRef
from bot.domain.messages import MessageRef
from bot.usecases.threads import ReplyOutcome
from handlers.errors import Step, acknowledged, hand_over, modal_error, reported

DEFAULT_PLAN_DAYS = 7
NOT_A_WARNING = "This button is not tied to a warning any more; nothing changed."


def clicked_warning(body: dict[str, Any]) -> WarningRef:
    """The flag a button carries and the message it was pressed on."""
    try:
        flag_id = int(body["actions"][0]["value"])
    except (KeyError, IndexError, TypeError, ValueError):
        raise UserError(NOT_A_WARNING) from None
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    return WarningRef(flag_id, MessageRef(str(channel), str(ts)) if channel and ts else None)


def queue_after_action(session: Session, handled: Handled, text: str) -> None:
    """Queue, in the action's transaction: what was done, in the warning's thread,
    and the root re-rendered."""
    if handled.message is not None:
        queue_reply(session, handled.message, text)
    queue_root_refresh(session, handled.flag_id)


def refresh_after_reply(session: Session, outcome: ReplyOutcome) -> None:
    """A reply moved a warning to *discussing*: the root shows it (queued with the count)."""
    queue_root_refresh(session, outcome.flag_id)


def on_acknowledge(services: Services, ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    user_id = body["user"]["id"]
    ref = clicked_warning(body)
    now = services.now()
    with services.session_factory.begin() as session:
        actor = services.roles.actor(session, user_id, now)
        handled = flag_actions.acknowledge(session, actor, ref, now)
        queue_after_action(session, handled, acknowledged_text(user_id))
    ack()


def on_modal_button(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """Plan repair / Resolve: acknowledged at once; the modal opens after it."""
    ack()
    hand_over(context, None)


def open_modal(services: Services, kind: Callback) -> Step:
    """Check first, then open the modal with the fresh trigger."""

    def open_flag_modal(body: dict[str, Any], handed: None, client: WebClient, respond: Any) -> None:
        user_id = body["user"]["id"]
        ref = clicked_warning(body)
        now = services.now()
        with services.session_factory.begin() as session:
            actor, therapist = services.roles.actor_and_profile(session, user_id, now)
            handled = flag_actions.may_handle(session, actor, ref)
            tz = therapist.tz
        ref = WarningRef(ref.flag_id, handled.message or ref.message)
        if kind is Callback.PLAN_REPAIR:
            view = build_plan_modal(ref, handled, services.today_for(tz) + timedelta(days=DEFAULT_PLAN_DAYS))
        else:
            view = build_resolve_modal(ref, handled)
        client.views_open(trigger_id=body["trigger_id"], view=view)

    return open_flag_modal


def submit_modal(services: Services, ack: Ack, body: dict[str, Any], client: WebClient,
                 apply: Callable[[Any, Any, WarningRef, Any], tuple[Handled, str]],
                 read: Callable[[dict[str, Any]], Any], fields: Mapping[str, str], fallback_block: str) -> None:
    """A Plan repair or Resolve modal: read every field, apply it as the person who
    submitted (permission checked again), answer errors on their fields, then reply
    in the thread and re-render the root."""
    view = body["view"]
    user_id = body["user"]["id"]
    try:
        ref = decode_ref(view)
        entry = read(view)
        now = services.now()
        with services.session_factory.begin() as session:
            actor = services.roles.actor(session, user_id, now)
            handled, text = apply(session, actor, ref, entry)
            queue_after_action(session, handled, text)
    except FieldErrors as errors:
        ack(response_action="errors", errors=errors.errors)
        return
    except UserError as error:
        ack(**modal_error(view, error.message, error.field, fields, fallback_block))
        return
    ack()  # stored, with its thread reply and the root's edit queued


def submit_plan(services: Services, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    user_id = body["user"]["id"]

    def apply(session: Any, actor: Any, ref: WarningRef, entry: Any) -> tuple[Handled, str]:
        now = services.now()
        today = services.today_for(services.roles.refresh_profile(session, user_id, now).tz)
        handled = flag_actions.plan_repair(session, actor, ref, entry, services.cipher, now, today)
        return handled, plan_text(user_id, entry.action, entry.due_on)

    submit_modal(services, ack, body, client, apply, read_plan_submission, PLAN_FIELDS, Block.PLAN_ACTION)


def submit_resolution(services: Services, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    user_id = body["user"]["id"]

    def apply(session: Any, actor: Any, ref: WarningRef, entry: Any) -> tuple[Handled, str]:
        resolved = flag_actions.resolve(session, actor, ref, entry, services.cipher, services.now())
        return resolved.handled, resolved_text(user_id, resolved)

    submit_modal(services, ack, body, client, apply, read_resolve_submission, RESOLVE_FIELDS, Block.RESOLUTION)


def register(app: App, services: Services) -> None:
    def acknowledge(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        on_acknowledge(services, ack, body, context)

    app.action(Action.ACKNOWLEDGE.value)(**acknowledged(acknowledge))  # its later part only tells a refusal
    app.action(Action.PLAN_REPAIR.value)(**acknowledged(on_modal_button, open_modal(services, Callback.PLAN_REPAIR)))
    app.action(Action.RESOLVE.value)(**acknowledged(on_modal_button, open_modal(services, Callback.RESOLVE)))

    @app.view(Callback.PLAN_REPAIR.value)
    @reported
    def plan_submitted(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        submit_plan(services, ack, body, client)

    @app.view(Callback.RESOLVE.value)
    @reported
    def resolution_submitted(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        submit_resolution(services, ack, body, client)
