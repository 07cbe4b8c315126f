"""The agenda's "Post to the supervision channel" button (issue 14, item 5)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.domain.errors import UserError
from bot.slack.blocks import ephemeral
from bot.slack.ids import Action
from bot.slack.services import Services
from bot.slack.team_view import agenda_for, queue_agenda
from handlers.errors import reported


def post_pressed(services: Services, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
    """The agenda is built again as the presser sees it now (permission checked
    again), queued once for the channel in the outbox, and the ephemeral one says
    where it goes."""
    user_id = body["user"]["id"]
    text, channel = agenda_for(services, user_id)
    if not channel:
        raise UserError("No supervision channel is set: `/alliance config supervision #channel`.")
    with services.session_factory.begin() as session:
        queue_agenda(session, channel, text)
    ack()
    respond(replace_original=True, **ephemeral(f"Posted this week's agenda to <#{channel}>."))


def register(app: App, services: Services) -> None:
    @app.action(Action.POST_AGENDA)
    @reported
    def agenda_post(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        post_pressed(services, ack, body, respond)
