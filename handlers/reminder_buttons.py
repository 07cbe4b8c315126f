"""The weekly reminder's buttons: Log now, Snooze, Pause case."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject

from bot.domain.schedule import describe_local, next_working_day_at, zone_named
from bot.slack.services import Services
from bot.slack.blocks import ephemeral
from bot.slack.checkin_form import open_checkin_modal
from bot.slack.ids import Action, Block
from bot.slack.replies import respond_or_dm
from bot.usecases import cases as case_uc
from bot.usecases import reminders as reminder_uc
from handlers.errors import Step, acknowledged, hand_over, user_of


def _note(text: str) -> dict[str, Any]:
    return ContextBlock(elements=[MarkdownTextObject(text=text)]).to_dict()


def replace_block(blocks: list[dict[str, Any]], block_id: str, note: str) -> list[dict[str, Any]]:
    """The message's blocks with the one whose id is `block_id` turned into a note."""
    return [_note(note) if block.get("block_id") == block_id else block for block in blocks]


def update_reminder(client: WebClient, body: dict[str, Any], respond: Respond, block_id: str, note: str) -> None:
    """Show what was done in place of the buttons that did it; if the message
    cannot be edited, tell the person in a reply instead."""
    message = body.get("message") or {}
    channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get("id")
    if channel and message.get("ts") and message.get("blocks"):
        client.chat_update(channel=channel, ts=message["ts"], text=message.get("text") or note,
                           blocks=replace_block(message["blocks"], block_id, note))
    else:
        respond_or_dm(respond, client, user_of(body), **ephemeral(note), replace_original=False)


def on_log_now(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    ack()  # the modal needs the trigger: answer first, open it after
    hand_over(context, body["actions"][0]["value"])


def open_checkin(services: Services) -> Step:
    def open_checkin_form(body: dict[str, Any], code: str, client: WebClient, respond: Any) -> None:
        open_checkin_modal(services, client, body["trigger_id"], body["user"]["id"], code, respond)

    return open_checkin_form


def on_snooze(services: Services, ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    user_id = body["user"]["id"]
    now = services.now()
    with services.session_factory.begin() as session:
        therapist = services.roles.refresh_profile(session, user_id, now)
        zone = zone_named(therapist.tz, services.settings.timezone)
        until = next_working_day_at(now, zone)
        reminder_uc.snooze_reminder(session, user_id, until, now)
    ack()  # snoozed; the reminder shows it after the acknowledgement
    hand_over(context, (Block.REMINDER_ACTIONS.value,
                        f":zzz: Snoozed: I will remind you again {describe_local(until, zone)}, "
                        "if a case still has no check-in."))


def on_pause_case(services: Services, ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    user_id = body["user"]["id"]
    code = body["actions"][0]["value"]
    now = services.now()
    with services.session_factory.begin() as session:
        actor = services.roles.actor(session, user_id, now)
        case_uc.change_status(session, actor, code, "pause", now)
    ack()  # paused; the reminder shows it after the acknowledgement
    hand_over(context, (f"{Block.REMINDER_ACTIONS}:{code}",
                        f"{code} is paused: no reminders for it until you log a check-in or `/alliance reopen {code}`."))


def show_on_reminder(body: dict[str, Any], handed: tuple[str, str], client: WebClient, respond: Any) -> None:
    block_id, note = handed
    update_reminder(client, body, respond, block_id, note)


def register(app: App, services: Services) -> None:
    def snooze(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        on_snooze(services, ack, body, context)

    def pause_case(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        on_pause_case(services, ack, body, context)

    app.action(Action.LOG_NOW.value)(**acknowledged(on_log_now, open_checkin(services)))
    app.action(Action.SNOOZE.value)(**acknowledged(snooze, show_on_reminder))
    app.action(Action.PAUSE_CASE.value)(**acknowledged(pause_case, show_on_reminder))
