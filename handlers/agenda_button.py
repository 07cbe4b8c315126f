"""The agenda's "Post to the supervision channel" button (issue 14, item 5)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.domain.errors import UserError
from bot.slack.blocks import ephemeral
from bot.slack.ids import Action
from bot.slack.services import Services
from bot.slack.team_view import agenda_for, queue_agenda
from handlers.errors import acknowledged, hand_over, replace_prompt


def post_pressed(services: Services, ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
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
    hand_over(context, ephemeral(f"Posted this week's agenda to <#{channel}>."))  # replaces the ephemeral agenda


def register(app: App, services: Services) -> None:
    def agenda_post(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        post_pressed(services, ack, body, context)

    app.action(Action.POST_AGENDA)(**acknowledged(agenda_post, replace_prompt))
