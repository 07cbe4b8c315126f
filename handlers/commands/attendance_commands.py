"""`/alliance missed CASE [cancelled|no-show]` and `/alliance cadence CASE weekly|2w|monthly` (issue 14, items 2-3)."""

from __future__ import annotations

from bot.domain import grammar
from bot.domain.checkins import Attendance
from bot.slack.blocks import CommandResult, ephemeral
from bot.slack.services import Services
from bot.usecases import attendance as attendance_uc


def missed(services: Services, user_id: str, command: grammar.Missed) -> CommandResult:
    now = services.now()
    with services.session_factory.begin() as session:
        actor, therapist = services.roles.actor_and_profile(session, user_id, now)
        recorded = attendance_uc.record_missed(session, actor, command.code, Attendance(command.attendance), now,
                                               services.today_for(therapist.tz))
    text = (f"Recorded session {recorded.session_number} of {recorded.code} as {recorded.attendance.label}: "
            "no ratings, and this week's reminder is satisfied.")
    if recorded.no_shows_in_a_row:
        text += " That is two no-shows in a row; your weekly reminder will mention it."
    return CommandResult(ephemeral(text))


def cadence(services: Services, user_id: str, command: grammar.SetCadence) -> CommandResult:
    now = services.now()
    with services.session_factory.begin() as session:
        actor = services.roles.actor(session, user_id, now)
        name = attendance_uc.set_cadence(session, actor, command.code, command.weeks, now)
    return CommandResult(ephemeral(f"{command.code} now has sessions {name}, counted from this week: "
                                   "reminders and silence follow that."))
