"""The warning buttons (Acknowledge, Plan repair, Resolve): a placeholder answer
until the threads workflow replaces this module."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.services import Services
from bot.slack.ids import Action
from handlers.errors import reported

COMING_SOON = "Thanks — acknowledging, planning a repair and resolving from here arrive soon. The warning stays open."


def register(app: App, services: Services) -> None:
    for action_id in (Action.ACKNOWLEDGE, Action.PLAN_REPAIR, Action.RESOLVE):
        @app.action(action_id.value)
        @reported
        def flag_button(ack: Ack, respond: Respond, body: dict[str, Any]) -> None:
            ack()
            respond(text=COMING_SOON, response_type="ephemeral", replace_original=False)
