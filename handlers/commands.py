"""`/alliance`: parse, acknowledge within Slack's 3 seconds, then do the work."""

from __future__ import annotations

import logging
from typing import Any, Callable

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain import grammar
from bot.domain.errors import UserError
from bot.services import Services
from bot.slack.blocks import ephemeral
from bot.templating import render
from handlers import admin_commands, case_commands, config_commands
from handlers import rating_links, reminder_commands
from handlers.errors import reported, tell_user

logger = logging.getLogger(__name__)

Reply = dict[str, Any]


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
        from handlers.checkin_modal import open_checkin_modal

        open_checkin_modal(services, client, body["trigger_id"], user_id, command.code, respond)
        return
    services.after_ack.submit(lambda: run_command(services, user_id, command, respond),
                              on_error=lambda error: tell_user(error, body, respond, client))


def run_command(services: Services, user_id: str, command: Any, respond: Respond) -> None:
    result = COMMANDS[type(command)](services, user_id, command)
    reply, then = result if isinstance(result, tuple) else (result, None)
    respond(**reply)
    if then is not None:  # stall evaluation and warnings, after the reply and never in its way
        services.follow_ups.submit(then, on_error=lambda error: logger.error(
            "a follow-up failed after the reply: %s", type(error).__name__, exc_info=error))


COMMANDS: dict[type, Callable[[Services, str, Any], Any]] = {
    grammar.NewCase: case_commands.new_case,
    grammar.LogCheckin: case_commands.log_checkin,
    grammar.ListCases: case_commands.list_cases,
    grammar.ShowHistory: case_commands.history_with_chart,
    grammar.ChangeStatus: case_commands.change_status,
    grammar.ShareCase: case_commands.share_case,
    grammar.ForgetCase: admin_commands.ask_to_forget,
    grammar.RateLinks: rating_links.rate,
    grammar.Export: admin_commands.export,
    grammar.Config: config_commands.config,
    grammar.SetReminder: reminder_commands.set_reminder,
    grammar.SetAway: reminder_commands.set_away,
}


def register(app: App, services: Services) -> None:
    @app.command("/alliance")
    @reported
    def alliance(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        handle_alliance(services, ack, body, respond, client)
