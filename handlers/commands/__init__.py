"""`/alliance`: parse, do the whole change in one transaction, then acknowledge
with the reply (Slack's 3 seconds; the messages a change causes wait in the outbox).

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
from bot.slack.blocks import Reply, ephemeral
from bot.slack.checkin_form import open_checkin_modal
from bot.slack.templating import render
from handlers.commands import admin_commands, log_again
from handlers.commands.table import SUBCOMMANDS
from handlers.errors import reported

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
    user_id = body["user_id"]
    if isinstance(command, grammar.OpenCheckin):
        ack()  # the modal needs the trigger, which expires in 3 s: answer first, then open it
        open_checkin_modal(services, client, body["trigger_id"], user_id, command.code, respond)
        return
    ack(**run_command(services, user_id, command))  # stored (and its messages queued) before the answer


def run_command(services: Services, user_id: str, command: grammar.Command) -> Reply:
    """The subcommand's whole change, committed; returns the reply to acknowledge with."""
    return SUBCOMMANDS[type(command)](services, user_id, command).reply


def register(app: App, services: Services) -> None:
    @app.command("/alliance")
    @reported
    def alliance(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        handle_alliance(services, ack, body, respond, client)

    admin_commands.register(app, services)  # the buttons of `/alliance forget`
    log_again.register(app, services)  # the buttons of a second same-day `log`
