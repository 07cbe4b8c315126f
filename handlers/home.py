"""App Home: published on `app_home_opened`, paged with buttons."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.models.blocks import PlainTextObject
from slack_sdk.models.views import View

from bot.domain.access import Permission
from bot.domain.access import allowed
from bot.slack.services import Services
from bot.slack.checkin_form import open_checkin_modal
from bot.slack.history_view import history_reply, load_history
from bot.slack.home_view import build_home
from bot.slack.ids import Action
from bot.usecases import audit
from bot.slack.team_view import permalinks, team_blocks
from bot.usecases import config as config_uc
from bot.usecases.home import team_overview, therapist_cases
from bot.usecases.supervision import team_by_therapist
from handlers.errors import acknowledged, hand_over


def publish_home(services: Services, client: WebClient, user_id: str, page: int = 0) -> None:
    now = services.now()
    with services.session_factory.begin() as session:
        actor = services.roles.actor(session, user_id, now)
        cases = therapist_cases(session, user_id, page)
        overview = None
        team = None
        if allowed(actor, Permission.TEAM_OVERVIEW):
            overview = team_overview(session, now, services.settings)
            audit.record(session, user_id, "view_team_overview", now)  # a read of others' cases
            if actor.is_supervisor:  # issue 14: a supervisor's Home is the team, by therapist
                team = team_by_therapist(session, config_uc.supervision_channel(session, services.settings))
    team_view = None
    if team is not None:
        team_view = team_blocks(team, permalinks(client, (c.thread for t in team.therapists for c in t.cases)), now)
    client.views_publish(user_id=user_id, view=build_home(cases, overview, now, team=team_view))


def open_history_modal(services: Services, client: WebClient, trigger_id: str, user_id: str, code: str) -> None:
    now = services.now()
    with services.session_factory.begin() as session:
        reply = history_reply(load_history(services, session, user_id, code, now))
    view = View(type="modal", title=PlainTextObject(text="Case history"), close=PlainTextObject(text="Close"),
                blocks=reply["blocks"][:100])
    client.views_open(trigger_id=trigger_id, view=view.to_dict())


def register(app: App, services: Services) -> None:
    """Every view is published or opened after the acknowledgement; a view opened
    from a button needs its trigger, so that button is acknowledged at once."""

    def home_opened(event: dict[str, Any], context: BoltContext) -> None:
        if event.get("tab", "home") == "home":
            hand_over(context, (event["user"], 0))

    def home_page(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        ack()
        hand_over(context, (body["user"]["id"], int(body["actions"][0]["value"])))

    def publish(body: dict[str, Any], handed: tuple[str, int], client: WebClient, respond: Any) -> None:
        user_id, page = handed
        publish_home(services, client, user_id, page)

    def home_button(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        ack()  # Log / History: the modal needs the trigger
        hand_over(context, body["actions"][0]["value"])

    def open_checkin(body: dict[str, Any], code: str, client: WebClient, respond: Any) -> None:
        user_id = body["user"]["id"]
        open_checkin_modal(services, client, body["trigger_id"], user_id, code,
                           lambda **reply: client.chat_postMessage(channel=user_id, text=reply.get("text", "")))

    def open_history(body: dict[str, Any], code: str, client: WebClient, respond: Any) -> None:
        open_history_modal(services, client, body["trigger_id"], body["user"]["id"], code)

    app.event("app_home_opened")(**acknowledged(home_opened, publish))
    app.action(Action.HOME_PREVIOUS)(**acknowledged(home_page, publish))
    app.action(Action.HOME_NEXT)(**acknowledged(home_page, publish))
    app.action(Action.HOME_LOG)(**acknowledged(home_button, open_checkin))
    app.action(Action.HOME_HISTORY)(**acknowledged(home_button, open_history))
