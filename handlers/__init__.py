"""Slack listeners, one module per surface, each with a `register(app, services)`.

A surface imports use cases and `bot.slack`, never jobs or another surface; the one
module they share is `handlers.errors` (tests/test_layers.py checks this)."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.services import Services
from handlers import agenda_button, checkin_modal, commands, errors, flag_buttons, home, reminder_buttons, thread_events


def register_all(app: App, services: Services) -> None:
    errors.register(app, services)
    commands.register(app, services)
    checkin_modal.register(app, services)
    home.register(app, services)
    thread_events.register(app, services, after=flag_buttons.refresh_after_reply)
    flag_buttons.register(app, services)
    reminder_buttons.register(app, services)
    agenda_button.register(app, services)
