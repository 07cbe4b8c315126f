"""`/alliance remind DAY HH:MM`, `remind off` and `away until YYYY-MM-DD`."""

from __future__ import annotations

from datetime import time
from bot.domain import grammar
from bot.domain.schedule import WEEKDAY_NAMES, Weekly, describe_local, next_moment, parse_clock, zone_named
from bot.slack.services import Services
from bot.slack.blocks import CommandResult, Reply, ephemeral
from bot.usecases import reminders as reminder_uc



def set_reminder(services: Services, user_id: str, command: grammar.SetReminder) -> CommandResult:
    return CommandResult(set_reminder_reply(services, user_id, command))


def set_reminder_reply(services: Services, user_id: str, command: grammar.SetReminder) -> Reply:
    now = services.now()
    with services.session_factory.begin() as session:
        therapist = services.roles.refresh_profile(session, user_id, now)
        zone = zone_named(therapist.tz, services.settings.timezone)
        if command.weekday is None:
            reminder_uc.turn_reminders_off(session, user_id, now)
            return ephemeral("Weekly reminders are off. Turn them back on with `/alliance remind friday 15:00`.")
        at: time = parse_clock(command.time or "15:00")
        reminder_uc.set_weekly_reminder(session, user_id, command.weekday, at, now)
        away_until = therapist.away_until
    upcoming = next_moment(now, Weekly(command.weekday, at), zone)
    text = (f"Weekly reminder set: {WEEKDAY_NAMES[command.weekday]}s at {at.strftime('%H:%M')} "
            f"({zone.key}, your Slack time zone). Next one: {describe_local(upcoming, zone)}, "
            "if a case has no check-in that week.")
    if away_until is not None and away_until >= services.today_for(zone.key):
        text += f" You are away until {away_until.isoformat()}; reminders resume after that."
    return ephemeral(text)


def set_away(services: Services, user_id: str, command: grammar.SetAway) -> CommandResult:
    return CommandResult(set_away_reply(services, user_id, command))


def set_away_reply(services: Services, user_id: str, command: grammar.SetAway) -> Reply:
    now = services.now()
    with services.session_factory.begin() as session:
        therapist = services.roles.refresh_profile(session, user_id, now)
        today = services.today_for(therapist.tz)
        reminder_uc.go_away(session, user_id, command.until, today, now)
    day = command.until
    return ephemeral(f"Away until {day.strftime('%a')} {day.day} {day.strftime('%b %Y')}: no reminders until then, "
                     "and those days do not count towards *No recent check-in*.")
