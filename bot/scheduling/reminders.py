"""The weekly reminder (SPEC §7): a DM to each therapist whose active cases lack
a check-in this week, at the therapist's own local time, with buttons to log,
snooze or pause. Nothing while away; a snoozed reminder comes back once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    MarkdownTextObject,
    SectionBlock,
)
from sqlalchemy import exists, or_, select, update

from bot.domain.schedule import (
    Weekly,
    days_between,
    is_due,
    latest_moment,
    minute_key,
    parse_clock,
    previous_moment,
    week_key,
    zone_named,
)
from bot.models import Case, CaseShare, Therapist
from bot.scheduling import sent
from bot.scheduling.silence import silent_cases
from bot.scheduling.workspace import load_thresholds, zone_lookup
from bot.services import Services
from bot.slack.blocks import fallback
from bot.slack.ids import Action, Block
from bot.slack.pacing import ChannelPacer
from bot.templating import render

logger = logging.getLogger(__name__)

REMINDER_GRACE = timedelta(hours=6)
SNOOZED_KIND = "reminder-snoozed"
DEFAULT_WEEKLY = Weekly(weekday=4, at=time(15, 0))  # Friday 15:00
MAX_LISTED = 20  # cases with their own buttons; 2 blocks each keeps a message under 50 blocks


@dataclass(frozen=True)
class UnloggedCase:
    code: str
    kind: str
    last_days: int | None  # days since the last check-in; None: never logged
    silent_days: int | None  # set when silent for `silent_days` or more (No recent check-in)


@dataclass(frozen=True)
class DueReminder:
    user_id: str
    key: str
    snoozed_until: datetime | None  # set when this is a snoozed reminder coming back
    cases: tuple[UnloggedCase, ...]


@dataclass(frozen=True)
class _Profile:
    user_id: str
    zone: ZoneInfo
    weekly: Weekly
    away_until: date | None
    snoozed_until: datetime | None


def therapist_weekly(therapist: Therapist) -> Weekly:
    try:
        return Weekly(weekday=therapist.remind_day, at=parse_clock(therapist.remind_time or ""))
    except (ValueError, TypeError):
        return DEFAULT_WEEKLY


def _candidates(services: Services) -> list[str]:
    """Therapists with reminders on and at least one active case (own or shared)."""
    owns = exists().where(Case.owner_id == Therapist.user_id, Case.status == "active")
    shares = exists().where(CaseShare.user_id == Therapist.user_id, CaseShare.case_id == Case.id,
                            Case.status == "active")
    with services.session_factory.begin() as session:
        return list(session.scalars(
            select(Therapist.user_id).where(Therapist.reminders_on.is_(True), or_(owns, shares))
            .order_by(Therapist.user_id)))


def _profile(services: Services, user_id: str, now: datetime) -> _Profile:
    """The therapist's schedule, with the Slack time zone refreshed when stale
    (one short transaction each, so no lock is held across Slack calls)."""
    with services.session_factory.begin() as session:
        therapist = services.roles.refresh_profile(session, user_id, now)
        return _Profile(user_id=user_id, zone=zone_named(therapist.tz, services.settings.timezone),
                        weekly=therapist_weekly(therapist), away_until=therapist.away_until,
                        snoozed_until=therapist.snoozed_until)


def clear_snooze(services: Services, user_id: str, expected: datetime) -> None:
    """Forget a snooze that has been served (only if it was not changed meanwhile)."""
    with services.session_factory.begin() as session:
        session.execute(update(Therapist)
                        .where(Therapist.user_id == user_id, Therapist.snoozed_until == expected)
                        .values(snoozed_until=None).execution_options(synchronize_session=False))


def unlogged_cases(services: Services, user_id: str, since: datetime, now: datetime) -> tuple[UnloggedCase, ...]:
    """The therapist's active cases (own or shared) without a check-in since `since`."""
    shared = select(CaseShare.case_id).where(CaseShare.user_id == user_id)
    with services.session_factory.begin() as session:
        cases = list(session.scalars(
            select(Case).where(or_(Case.owner_id == user_id, Case.id.in_(shared)), Case.status == "active",
                               or_(Case.last_checkin_at.is_(None), Case.last_checkin_at < since))
            .order_by(Case.code)))
        if not cases:
            return ()
        limits = load_thresholds(session)
        zone_for = zone_lookup(session, services.settings)
        silent = {s.case_id: s.days for s in silent_cases(session, now, limits.silent_days, zone_for,
                                                           case_ids=[c.id for c in cases])}
        return tuple(
            UnloggedCase(code=c.code, kind=c.kind, silent_days=silent.get(c.id),
                         last_days=days_between(c.last_checkin_at, now) if c.last_checkin_at else None)
            for c in cases)


def due_reminders(services: Services, now: datetime) -> tuple[list[DueReminder], int]:
    """The reminders due at `now` and not sent yet; and how many therapists are away."""
    due: list[DueReminder] = []
    away = 0
    for user_id in _candidates(services):
        profile = _profile(services, user_id, now)
        snoozed = profile.snoozed_until
        if snoozed is not None and now >= snoozed + REMINDER_GRACE:
            clear_snooze(services, user_id, snoozed)  # a snooze nobody was running for: let it go
            snoozed = None
        if profile.away_until is not None and now.astimezone(profile.zone).date() <= profile.away_until:
            away += 1
            continue
        moment = latest_moment(now, profile.weekly, profile.zone)
        snooze_due = snoozed is not None and is_due(now, snoozed, REMINDER_GRACE)
        options: list[str] = []
        if is_due(now, moment, REMINDER_GRACE):
            options.append(sent.message_key("reminder", user_id, week_key(moment, profile.zone)))
        if snoozed is not None and snooze_due:
            options.append(sent.message_key(SNOOZED_KIND, user_id, minute_key(snoozed)))
        unsent = [key for key in options if not sent.was_sent(services.session_factory, key)]
        served = snoozed if snooze_due else None  # any reminder now also serves a due snooze
        if not unsent:
            if served is not None:
                clear_snooze(services, user_id, served)
            continue
        key = unsent[0]
        # The reminder week runs from the previous weekly moment: a check-in
        # logged since then counts for this week.
        cases = unlogged_cases(services, user_id, previous_moment(moment, profile.weekly, profile.zone), now)
        if not cases:
            if served is not None:
                clear_snooze(services, user_id, served)
            continue
        due.append(DueReminder(user_id=user_id, key=key, snoozed_until=served, cases=cases))
    return due, away


def reminder_message(reminder: DueReminder) -> tuple[str, list[dict[str, Any]]]:
    """The fallback text naming every case, and the blocks: a section and a row of
    buttons per case (up to MAX_LISTED, then a summary line), and Snooze."""
    cases = list(reminder.cases)
    snoozed = reminder.key.startswith(SNOOZED_KIND + ":")
    context = {"snoozed": snoozed, "count": len(cases)}
    text = render("messages/reminder.j2", part="text", cases=cases, more=[], **context)
    listed, rest = cases[:MAX_LISTED], cases[MAX_LISTED:]
    blocks: list[Any] = [SectionBlock(text=MarkdownTextObject(
        text=render("messages/reminder.j2", part="intro", cases=[], more=[], **context)))]
    for case in listed:
        line = render("messages/reminder.j2", part="case", cases=[case], more=[], **context)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=line)))
        blocks.append(ActionsBlock(block_id=f"{Block.REMINDER_ACTIONS}:{case.code}", elements=[
            ButtonElement(text="Log now", action_id=Action.LOG_NOW, value=case.code, style="primary"),
            ButtonElement(text="Pause case", action_id=Action.PAUSE_CASE, value=case.code,
                          confirm=ConfirmObject(title="Pause this case?", confirm="Pause", deny="Cancel",
                                                text=f"No reminders for {case.code} until you log it or reopen it.")),
        ]))
    if rest:
        blocks.append(SectionBlock(text=MarkdownTextObject(
            text=render("messages/reminder.j2", part="more", cases=[], more=rest, **context))))
    blocks.append(ActionsBlock(block_id=Block.REMINDER_ACTIONS, elements=[
        ButtonElement(text="Snooze to next working day", action_id=Action.SNOOZE, value="snooze")]))
    return fallback(text), [block.to_dict() for block in blocks]


def send_reminder(services: Services, reminder: DueReminder, now: datetime, pacer: ChannelPacer) -> sent.Outcome:
    def post() -> sent.Delivery:
        text, blocks = reminder_message(reminder)
        pacer.wait_turn(reminder.user_id)
        response = services.client.chat_postMessage(channel=reminder.user_id, text=text, blocks=blocks)
        return sent.Delivery(channel_id=response.get("channel"), message_ts=response.get("ts"))

    outcome = sent.send_once(services.session_factory, reminder.key, now, post)
    if outcome is not sent.Outcome.FAILED and reminder.snoozed_until is not None:
        clear_snooze(services, reminder.user_id, reminder.snoozed_until)
    return outcome
