"""Slack listeners, one module per surface, each with a `register(app, services)`."""

from __future__ import annotations

from slack_bolt import App

from bot.services import Services


def register_all(app: App, services: Services) -> None:
    from handlers import admin_commands, checkin_modal, commands, errors

    errors.register(app, services)
    commands.register(app, services)
    checkin_modal.register(app, services)
    admin_commands.register(app, services)
    from handlers import home, thread_events

    from handlers import flag_buttons

    home.register(app, services)
    thread_events.register(app, services, after=flag_buttons.refresh_after_reply)

    flag_buttons.register(app, services)
    from handlers import reminder_buttons

    reminder_buttons.register(app, services)
    from handlers import log_again

    log_again.register(app, services)
