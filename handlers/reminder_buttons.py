"""The weekly reminder's buttons: Log now, Snooze, Pause case."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject

from bot.domain.schedule import describe_local, next_working_day_at, zone_named
from bot.slack.services import Services
from bot.slack.blocks import ephemeral
from bot.slack.checkin_form import open_checkin_modal
from bot.slack.ids import Action, Block
from bot.usecases import cases as case_uc
from bot.usecases import reminders as reminder_uc
from handlers.errors import reported


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
        respond(**ephemeral(note), replace_original=False)


def on_log_now(services: Services, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
    ack()
    code = body["actions"][0]["value"]
    open_checkin_modal(services, client, body["trigger_id"], body["user"]["id"], code, respond)


def on_snooze(services: Services, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
    ack()
    user_id = body["user"]["id"]
    now = services.now()
    with services.session_factory.begin() as session:
        therapist = services.roles.refresh_profile(session, user_id, now)
        zone = zone_named(therapist.tz, services.settings.timezone)
        until = next_working_day_at(now, zone)
        reminder_uc.snooze_reminder(session, user_id, until, now)
    note = f":zzz: Snoozed: I will remind you again {describe_local(until, zone)}, if a case still has no check-in."
    update_reminder(client, body, respond, Block.REMINDER_ACTIONS, note)


def on_pause_case(services: Services, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
    ack()
    user_id = body["user"]["id"]
    code = body["actions"][0]["value"]
    now = services.now()
    with services.session_factory.begin() as session:
        actor = services.roles.actor(session, user_id, now)
        case_uc.change_status(session, actor, code, "pause", now)
    update_reminder(client, body, respond, f"{Block.REMINDER_ACTIONS}:{code}",
                    f"{code} is paused: no reminders for it until you log a check-in or `/alliance reopen {code}`.")


def register(app: App, services: Services) -> None:
    @app.action(Action.LOG_NOW.value)
    @reported
    def log_now(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        on_log_now(services, ack, body, client, respond)

    @app.action(Action.SNOOZE.value)
    @reported
    def snooze(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        on_snooze(services, ack, body, client, respond)

    @app.action(Action.PAUSE_CASE.value)
    @reported
    def pause_case(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        on_pause_case(services, ack, body, client, respond)
