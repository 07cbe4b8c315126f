"""`/alliance`: parse, do the whole change in one transaction, then acknowledge
with the reply (Slack's 3 seconds; the messages a change causes wait in the outbox).

Two listeners: the modal form (`/alliance`, `/alliance CASE`) acknowledges at once
and opens the check-in modal after the acknowledgement; every other command is
answered in its acknowledgement and has no part after it.

The subcommands live beside this module, one per area (case_commands, admin_commands,
config_commands, reminder_commands); `table.py` maps each parsed command to its function."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.domain import grammar
from bot.domain.errors import UserError
from bot.slack.services import Services
from bot.slack.blocks import Reply, ephemeral
from bot.slack.checkin_form import open_checkin_modal
from bot.slack.templating import render
from handlers.commands import admin_commands, log_again
from handlers.commands.table import SUBCOMMANDS
from handlers.errors import Step, acknowledged, hand_over, reported

logger = logging.getLogger(__name__)

PARSED = "alliance_command"  # context key: the command as the modal listener's matcher parsed it


def opens_checkin(body: dict[str, Any], context: BoltContext) -> bool:
    """The modal listener's matcher. It keeps what it parsed in the context, so that
    a command is parsed once whichever listener answers it."""
    try:
        command = grammar.parse_command(body.get("text") or "")
    except UserError:
        return False
    context[PARSED] = command
    return isinstance(command, grammar.OpenCheckin)


def handle_alliance(services: Services, ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    command = context.get(PARSED)
    if command is None:
        try:
            command = grammar.parse_command(body.get("text") or "")
        except UserError as error:
            ack(**ephemeral(error.message))
            return
    if isinstance(command, grammar.Help):
        ack(**ephemeral(render("messages/help.j2")))
        return
    if isinstance(command, grammar.OpenCheckin):
        ack()  # the modal needs the trigger, which expires in 3 s: answer first, open it after
        hand_over(context, command.code)
        return
    ack(**run_command(services, body["user_id"], command))  # stored (and its messages queued) before the answer


def run_command(services: Services, user_id: str, command: grammar.Command) -> Reply:
    """The subcommand's whole change, committed; returns the reply to acknowledge with."""
    return SUBCOMMANDS[type(command)](services, user_id, command).reply


def open_checkin(services: Services) -> Step:
    """After the acknowledgement of the modal form: open the check-in modal."""

    def open_checkin_form(body: dict[str, Any], code: str | None, client: WebClient, respond: Any) -> None:
        open_checkin_modal(services, client, body["trigger_id"], body["user_id"], code, respond)

    return open_checkin_form


def register(app: App, services: Services) -> None:
    def alliance(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        handle_alliance(services, ack, body, context)

    # The modal form first: only it starts a part after the acknowledgement.
    app.command("/alliance", matchers=[opens_checkin])(**acknowledged(alliance, open_checkin(services)))
    app.command("/alliance")(reported(alliance))

    admin_commands.register(app, services)  # the buttons of `/alliance forget`
    log_again.register(app, services)  # the buttons of a second same-day `log`
