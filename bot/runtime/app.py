"""The Bolt app factory: listeners are registered here, never at import time."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Executor

from slack_bolt import App
from slack_bolt.middleware.authorization.single_team_authorization import SingleTeamAuthorization
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack.services import Services
from handlers import register_all

logger = logging.getLogger(__name__)


def create_app(services: Services, listener_executor: Executor | None = None) -> App:
    """Bolt answers a request as soon as its listener returns (`process_before_response`:
    no polling for the acknowledgement), so a listener does its change and acknowledges
    last; what must come after the acknowledgement (opening a modal, replacing a
    prompt) is a lazy listener (handlers.errors.acknowledged). `listener_executor`
    runs that work after acknowledging; pass one to be able to wait for it (tests, a
    graceful stop)."""
    settings = services.settings
    app = App(
        client=services.client,
        signing_secret=settings.slack_signing_secret or "",
        token_verification_enabled=False,
        process_before_response=True,
        raise_error_for_unhandled_request=False,
        logger=logging.getLogger("alliance.bolt"),
        listener_executor=listener_executor,
    )
    register_all(app, services)
    return app


IDENTITY_RETRY_SECONDS = 5.0


def learn_identity(app: App, client: WebClient) -> bool:
    """Ask Slack who the bot is (`auth.test`) now, through `client`, so that Bolt need not
    ask on a request. Bolt's single-workspace authorization otherwise asks once, on the
    first request a process serves, through the app's client, which waits out rate limits
    and slow answers: a slow Slack would hold that request's acknowledgement past Slack's
    3 s, and its change would be stored after the user was shown a failure. (Bolt offers
    no setting for this; its authorization is found in the app's middleware list.) False,
    logged, when Slack does not answer: Bolt then asks on the first request, as before."""
    authorization = next((m for m in getattr(app, "_middleware_list", [])
                          if isinstance(m, SingleTeamAuthorization)), None)
    if authorization is None:
        logger.warning("Bolt's authorization was not found; it will ask Slack who the bot is on the first request")
        return False
    if authorization.auth_test_result is not None:
        return True
    try:
        authorization.auth_test_result = client.auth_test()
    except SlackApiError as error:
        logger.warning("Slack did not say who the bot is at start (%s); asking again shortly",
                       str(error.response.get("error") or "unknown")[:40])
        return False
    except (SlackClientError, OSError) as error:
        logger.warning("Slack did not say who the bot is at start (%s); asking again shortly", type(error).__name__)
        return False
    return True


def learn_identity_soon(app: App, client: WebClient, stop: threading.Event) -> None:
    """`learn_identity` now, and if Slack does not answer, every IDENTITY_RETRY_SECONDS on
    a daemon thread until it does (or `stop` is set)."""
    if learn_identity(app, client):
        return

    def again() -> None:
        while not stop.wait(IDENTITY_RETRY_SECONDS):
            if learn_identity(app, client):
                return

    threading.Thread(target=again, name="learn-identity", daemon=True).start()
