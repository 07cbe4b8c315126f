"""`/alliance config …`: everyone may look; only admins may change."""

from __future__ import annotations

from datetime import datetime
from typing import Callable, TypeVar

from sqlalchemy.orm import Session

from bot.domain.access import Actor
from bot.domain import grammar
from bot.domain.grammar import CommandError
from bot.domain.schedule import DEFAULT_WEEKLY, DIGEST_WEEKLY, Weekly
from bot.slack.services import Services
from bot.slack.blocks import CommandResult, Reply, ephemeral
from bot.slack.templating import Mrkdwn, escape_mrkdwn, render
from bot.domain.wording import plural
from bot.store import outbox
from bot.usecases import config as config_uc
from bot.usecases import calibration as calibration_uc
from bot.usecases.retention import retention_days, set_retention_days

T = TypeVar("T")
SET_EXAMPLE = "config set low_alliance 6"


def config(services: Services, user_id: str, command: grammar.Config) -> CommandResult:
    return CommandResult(config_reply(services, user_id, command))


def config_reply(services: Services, user_id: str, command: grammar.Config) -> Reply:
    args = list(command.args)
    verb = args[0].lower() if args else "show"
    if verb == "show" and len(args) <= 1:
        return show_config(services, user_id)
    if verb in ("set", "threshold"):
        if len(args) != 3:
            raise CommandError("`config set` takes a threshold and a value.", SET_EXAMPLE)
        return set_threshold(services, user_id, args[1], args[2])
    if verb == "reset":
        if len(args) != 2:
            raise CommandError("`config reset` takes a threshold.", "config reset low_alliance")
        return reset_threshold(services, user_id, args[1])
    if verb == "supervisors":
        if len(args) < 2:
            raise CommandError("`config supervisors` takes people or user groups, or `none`.",
                               config_uc.SUPERVISORS_EXAMPLE)
        return set_supervisors(services, user_id, args[1:])
    if verb == "reminders":
        if len(args) != 3:
            raise CommandError("`config reminders` takes a day and a time (each therapist's own time zone).",
                               "config reminders friday 15:00")
        return set_reminder_default(services, user_id, args[1], args[2])
    if verb == "digest":
        if len(args) != 3:
            raise CommandError("`config digest` takes a day and a time (workspace time zone).",
                               "config digest monday 09:00")
        return set_digest(services, user_id, args[1], args[2])
    if verb == "retention":
        if len(args) != 2:
            raise CommandError("`config retention` takes a number of days (0 keeps closed cases forever).",
                               "config retention 365")
        return set_retention(services, user_id, args[1])
    if verb == "supervision":
        if len(args) != 2:
            raise CommandError("`config supervision` takes one channel.", config_uc.CHANNEL_EXAMPLE)
        return set_supervision(services, user_id, args[1])
    raise CommandError(f"`config {escape_mrkdwn(args[0][:24])}` is not a config command.", "config show")


def change(services: Services, user_id: str, apply: Callable[[Session, Actor, datetime], T]) -> T:
    """One configuration change in one transaction, as the person who asked (the use
    case checks that they are an admin and audits it)."""
    now = services.now()
    with services.session_factory.begin() as session:
        return apply(session, services.roles.actor(session, user_id, now), now)


def show_config(services: Services, user_id: str) -> Reply:
    with services.session_factory.begin() as session:
        view = config_uc.config_view(session, services.settings)
        actor = services.roles.actor(session, user_id, services.now())
        offsets = calibration_uc.calibration_offsets(session, user_id, actor.is_supervisor or actor.is_admin)
        keep_days = retention_days(session)
        digest = config_uc.digest_weekly(session, DIGEST_WEEKLY)
        reminders = config_uc.reminder_weekly(session, DEFAULT_WEEKLY)
        supervisors = services.settings.supervisors + config_uc.configured_supervisors(session)
    channel = Mrkdwn(f"<#{view.supervision_channel}>") if view.supervision_channel else None
    return ephemeral(render("messages/config_show.j2", rows=view.thresholds, channel=channel,
                            source=view.channel_source, retention=keep_days,
                            digest=_weekly_words(digest), reminders=_weekly_words(reminders),
                            zone=services.settings.timezone,
                            supervisors=[Mrkdwn(_who(i)) for i in dict.fromkeys(supervisors)],
                            calibration=[(Mrkdwn(_who(person)), _offset_words(value)) for person, value in offsets.items()]))


def _offset_words(value: float) -> str:
    if value == 0:
        return "0 (level cut-offs as set)"
    direction = "lower" if value < 0 else "higher"
    return f"{value:+g} (rates {direction} than the team: level cut-offs move by {value:+g})"


def set_threshold(services: Services, user_id: str, key: str, raw: str) -> Reply:
    name, value = change(services, user_id,
                         lambda session, actor, now: config_uc.set_threshold(session, actor, key, raw, now))
    return ephemeral(f"`{name}` is now {value}.")


def reset_threshold(services: Services, user_id: str, key: str) -> Reply:
    name, value = change(services, user_id,
                         lambda session, actor, now: config_uc.reset_threshold(session, actor, key, now))
    return ephemeral(f"`{name}` is back to its default, {value}.")


def set_supervision(services: Services, user_id: str, raw: str) -> Reply:
    def apply(session: Session, actor: Actor, now: datetime) -> str:
        chosen = config_uc.set_supervision_channel(session, actor, raw, now)
        outbox.retarget_held(session, chosen)  # warnings held for an unreachable channel go here now
        return chosen

    channel = change(services, user_id, apply)
    return ephemeral(f"Supervision warnings now go to <#{channel}>. Invite Alliance there if it is not a member yet.")


def set_retention(services: Services, user_id: str, raw: str) -> Reply:
    days = change(services, user_id,
                  lambda session, actor, now: set_retention_days(session, actor, raw, now))
    if days == 0:
        return ephemeral("Closed cases are now kept until someone forgets them.")
    return ephemeral(f"Closed cases are now purged {plural(days, 'day')} after they were closed (by the daily scan).")


def set_digest(services: Services, user_id: str, day: str, at: str) -> Reply:
    weekday, hhmm = grammar.parse_weekly(day, at, "config digest monday 09:00")
    change(services, user_id,
           lambda session, actor, now: config_uc.set_digest_time(session, actor, weekday, hhmm, now))
    return ephemeral(f"The weekly digest now goes out on {grammar.DAYS[weekday].capitalize()}s at {hhmm} "
                     f"({services.settings.timezone}).")


def set_supervisors(services: Services, user_id: str, tokens: list[str]) -> Reply:
    ids = () if [t.lower() for t in tokens] == ["none"] else config_uc.parse_people(tokens)
    change(services, user_id,
           lambda session, actor, now: config_uc.set_supervisors(session, actor, ids, now))
    if not ids:
        return ephemeral("No supervisors are set here now (ALLIANCE_SUPERVISORS still counts).")
    return ephemeral("Supervisors now: " + ", ".join(_who(i) for i in ids) + " (beside ALLIANCE_SUPERVISORS).")


def _who(slack_id: str) -> str:
    return f"<!subteam^{slack_id}>" if slack_id.startswith("S") else f"<@{slack_id}>"


def _weekly_words(weekly: Weekly) -> str:
    return f"{grammar.DAYS[weekly.weekday].capitalize()} {weekly.at.strftime('%H:%M')}"


def set_reminder_default(services: Services, user_id: str, day: str, at: str) -> Reply:
    weekday, hhmm = grammar.parse_weekly(day, at, "config reminders friday 15:00")
    change(services, user_id,
           lambda session, actor, now: config_uc.set_reminder_default(session, actor, weekday, hhmm, now))
    return ephemeral(f"Weekly reminders now go out on {grammar.DAYS[weekday].capitalize()}s at {hhmm}, each "
                     "therapist's own time, for everyone who has not set a time with `/alliance remind`.")
