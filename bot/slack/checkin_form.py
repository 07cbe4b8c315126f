"""Opening the check-in form for one person, and the line that confirms a check-in.

Shared by every surface that opens the form (`/alliance`, App Home, a reminder's
*Log now*) and by both ways of logging (the modal and `/alliance log`)."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.domain.access import Permission
from bot.domain.cases import CaseStatus
from bot.domain.errors import UserError
from bot.store.models import Case
from bot.slack.blocks import ephemeral
from bot.slack.checkin_view import CaseChoice, build_checkin_modal
from bot.slack.replies import respond_or_dm
from bot.slack.services import Services
from bot.slack.templating import render
from bot.usecases import cases as case_uc
from bot.usecases import checkins as checkin_uc


def case_choice(session: Session, case: Case) -> CaseChoice:
    return CaseChoice(code=case.code, kind=case.kind, members=tuple(case.member_labels),
                      threads=tuple(case_uc.case_threads(case)),
                      next_session=checkin_uc.next_session_number(session, case.id))


def load_choices(services: Services, user_id: str, code: str | None) -> tuple[list[CaseChoice], CaseChoice | None, str | None]:
    """The user's active cases and the one to show; the tz for 'today'."""
    now = services.now()
    with services.session_factory.begin() as session:
        actor, therapist = services.roles.actor_and_profile(session, user_id, now)
        tz = therapist.tz
        selected = None
        if code is not None:
            case = case_uc.find_case(session, actor, code, Permission.LOG_CHECKIN)
            if case.status == CaseStatus.CLOSED:
                raise UserError(f"{code} is closed. Reopen it first: `/alliance reopen {code}`.")
            selected = case_choice(session, case)
        active = [case_choice(session, c) for c in case_uc.my_cases(session, user_id, (CaseStatus.ACTIVE.value,))]
    if selected is None and len(active) == 1:
        selected = active[0]
    if selected is not None and all(c.code != selected.code for c in active):
        active.insert(0, selected)
    return active, selected, tz


def open_checkin_modal(services: Services, client: WebClient, trigger_id: str, user_id: str, code: str | None,
                       respond: Callable[..., Any]) -> None:
    cases, selected, tz = load_choices(services, user_id, code)
    if not cases:
        respond_or_dm(respond, client, user_id,
                      **ephemeral("You have no active cases yet. Create one with `/alliance new couple`."))
        return
    client.views_open(trigger_id=trigger_id, view=build_checkin_modal(cases, selected, services.today_for(tz)))


def format_scores(ratings: Mapping[str, int | None]) -> str:
    return " · ".join(f"{thread} {'absent' if value is None else value}" for thread, value in ratings.items())


def logged_text(recorded: checkin_uc.RecordedCheckin) -> str:
    """What a stored check-in says back: session, code, scores."""
    return render("messages/checkin_logged.j2", session_number=recorded.session_number, code=recorded.code,
                  scores=format_scores(recorded.ratings), resumed=recorded.resumed, duplicate=recorded.duplicate)
