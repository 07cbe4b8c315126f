"""`/alliance`: parse, acknowledge within Slack's 3 seconds, then do the work.

The subcommands live beside this module, one per area (case_commands, admin_commands,
config_commands, reminder_commands); `table.py` maps each parsed command to its function."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain import grammar
from bot.domain.errors import UserError
from bot.slack.services import Services
from bot.slack.blocks import ephemeral
from bot.slack.checkin_form import open_checkin_modal
from bot.slack.templating import render
from handlers.commands import admin_commands
from handlers.commands.table import SUBCOMMANDS
from handlers.errors import reported, tell_user

logger = logging.getLogger(__name__)


def handle_alliance(services: Services, ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
    try:
        command = grammar.parse_command(body.get("text") or "")
    except UserError as error:
        ack(**ephemeral(error.message))
        return
    if isinstance(command, grammar.Help):
        ack(**ephemeral(render("messages/help.j2")))
        return
    ack()  # everything below may touch the database or Slack: answer first
    user_id = body["user_id"]
    if isinstance(command, grammar.OpenCheckin):
        open_checkin_modal(services, client, body["trigger_id"], user_id, command.code, respond)
        return
    services.after_ack.submit(lambda: run_command(services, user_id, command, respond),
                              on_error=lambda error: tell_user(error, body, respond, client))


def run_command(services: Services, user_id: str, command: grammar.Command, respond: Respond) -> None:
    result = SUBCOMMANDS[type(command)](services, user_id, command)
    respond(**result.reply)
    if result.then is not None:  # stall evaluation and warnings, after the reply and never in its way
        services.follow_ups.submit(result.then, on_error=lambda error: logger.error(
            "a follow-up failed after the reply: %s", type(error).__name__, exc_info=error))


def register(app: App, services: Services) -> None:
    @app.command("/alliance")
    @reported
    def alliance(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        handle_alliance(services, ack, body, respond, client)

    admin_commands.register(app, services)  # the buttons of `/alliance forget`
