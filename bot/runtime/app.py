"""The Bolt app factory: listeners are registered here, never at import time."""

from __future__ import annotations

import logging
from concurrent.futures import Executor

from slack_bolt import App

from bot.slack.services import Services
from handlers import register_all

logger = logging.getLogger(__name__)


def create_app(services: Services, listener_executor: Executor | None = None) -> App:
    """`listener_executor` runs listeners and the work they do after acknowledging;
    pass one to be able to wait for that work (tests, a graceful stop)."""
    settings = services.settings
    app = App(
        client=services.client,
        signing_secret=settings.slack_signing_secret or "",
        token_verification_enabled=False,
        process_before_response=False,
        raise_error_for_unhandled_request=False,
        logger=logging.getLogger("alliance.bolt"),
        listener_executor=listener_executor,
    )
    register_all(app, services)
    return app
