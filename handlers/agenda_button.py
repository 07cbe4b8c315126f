"""The agenda's "Post to the supervision channel" button (issue 14, item 5)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain.errors import UserError
from bot.slack.blocks import ephemeral
from bot.slack.ids import Action
from bot.slack.services import Services
from bot.slack.team_view import agenda_for, post_agenda
from handlers.errors import reported, tell_user


def post_pressed(services: Services, ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
    """The agenda is built again as the presser sees it now (permission checked
    again), posted once to the channel, and the ephemeral one says where it went."""
    ack()
    user_id = body["user"]["id"]

    def post() -> None:
        text, channel = agenda_for(services, user_id)
        if not channel:
            raise UserError("No supervision channel is set: `/alliance config supervision #channel`.")
        post_agenda(services.client, channel, text)
        respond(replace_original=True, **ephemeral(f"Posted this week's agenda to <#{channel}>."))

    services.after_ack.submit(post, on_error=lambda error: tell_user(error, body, respond, client))


def register(app: App, services: Services) -> None:
    @app.action(Action.POST_AGENDA)
    @reported
    def agenda_post(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        post_pressed(services, ack, body, respond, client)
