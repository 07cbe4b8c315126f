"""`/alliance undo` and `/alliance edit CASE session=N …` (issue 14, item 1): each returns the reply."""

from __future__ import annotations

from bot.domain import grammar
from bot.domain.checkin_input import parse_log_options, parse_ratings
from bot.slack.blocks import CommandResult, ephemeral
from bot.slack.corrections import queue_correction
from bot.slack.services import Services
from bot.store.models import Case
from bot.usecases import cases as case_uc
from bot.usecases import corrections as correction_uc
from bot.usecases.flags import rule_title


def _withdrawn_text(correction: correction_uc.Correction) -> str:
    if not correction.withdrawn:
        return ""
    titles = ", ".join(rule_title(slug) for slug in correction.withdrawn)
    return f" Closed, as only that check-in raised {'it' if len(correction.withdrawn) == 1 else 'them'}: {titles}."


def undo(services: Services, user_id: str, command: grammar.Undo) -> CommandResult:
    now = services.now()
    with services.session_factory.begin() as session:
        actor = services.roles.actor(session, user_id, now)
        correction = correction_uc.undo_last(session, actor, now)
        queue_correction(session, services.settings, correction, now)
    text = f"Undone: session {correction.session_number} of {correction.code} is no longer logged." + _withdrawn_text(correction)
    return CommandResult(ephemeral(text))


def edit(services: Services, user_id: str, command: grammar.EditCheckin) -> CommandResult:
    now = services.now()
    with services.session_factory.begin() as session:
        actor, therapist = services.roles.actor_and_profile(session, user_id, now)
        today = services.today_for(therapist.tz)

        def read(case: Case) -> dict[str, object]:
            fields = parse_log_options(command.options, list(case.member_labels), today)
            if command.ratings:
                fields["ratings"] = parse_ratings(case.code, case_uc.case_threads(case), command.ratings)
            return fields

        correction = correction_uc.edit_checkin(session, actor, command.code, command.session, read, now,
                                                services.cipher)
        queue_correction(session, services.settings, correction, now)
    text = f"Corrected session {correction.session_number} of {correction.code}." + _withdrawn_text(correction)
    return CommandResult(ephemeral(text))
