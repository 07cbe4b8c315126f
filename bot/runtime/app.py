"""The Bolt app factory: listeners are registered here, never at import time."""

from __future__ import annotations

import logging
from concurrent.futures import Executor

from slack_bolt import App

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
