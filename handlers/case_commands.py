"""The case and check-in sub-commands of `/alliance`: each returns the reply."""

from __future__ import annotations

from typing import Any, Callable

from bot.domain import grammar
from bot.domain.cases import CaseKind
from bot.domain.checkin_input import CheckinInput, log_example, parse_log_options, parse_ratings
from bot.domain.sparkline import sparkline
from bot.services import Services
from bot.slack.blocks import ephemeral
from bot.templating import render
from bot.usecases import cases as case_uc
from bot.usecases import checkins as checkin_uc
from bot.access import Action

Reply = dict[str, Any]


def format_scores(ratings: dict[str, int]) -> str:
    return " · ".join(f"{thread} {value}" for thread, value in ratings.items())


def format_when(value: Any, services: Services) -> str:
    if value is None:
        return "never"
    days = (services.now() - value).days
    return "today" if days <= 0 else "yesterday" if days == 1 else f"{days} days ago"


def new_case(services: Services, user_id: str, command: grammar.NewCase) -> Reply:
    now = services.now()
    with services.session_factory.begin() as session:
        actor = services.roles.actor(session, user_id, now)
        case = case_uc.create_case(session, actor, CaseKind(command.kind), command.members, command.labels, now)
        threads = case_uc.case_threads(case)
        text = render("messages/case_created.j2", code=case.code, kind=case.kind, threads=threads,
                      example=log_example(case.code, threads).split(case.code + " ", 1)[1])
    return ephemeral(text)


def log_checkin(services: Services, user_id: str, command: grammar.LogCheckin) -> tuple[Reply, Callable[[], None]]:
    now = services.now()
    with services.session_factory.begin() as session:
        actor = services.roles.actor(session, user_id, now)
        case = case_uc.find_case(session, actor, command.code, Action.LOG_CHECKIN)
        threads = case_uc.case_threads(case)
        ratings = parse_ratings(case.code, threads, command.ratings)
        therapist = services.roles.refresh_profile(session, user_id, now)
        today = services.today_for(therapist.tz)
        options = parse_log_options(command.options, list(case.member_labels), today)
        entry = CheckinInput(ratings=ratings, **options)  # type: ignore[arg-type]
        recorded = checkin_uc.record_checkin(session, actor, case.code, entry, now, services.cipher, today=today)
    text = render("messages/checkin_logged.j2", session_number=recorded.session_number, code=recorded.code,
                  scores=format_scores(recorded.ratings), resumed=recorded.resumed, duplicate=recorded.duplicate)
    return ephemeral(text), lambda: after_checkin(services, recorded)


def after_checkin(services: Services, recorded: checkin_uc.RecordedCheckin) -> None:
    """What follows a stored check-in (stall evaluation, thread updates)."""
    from bot.followups import follow_up_checkin

    follow_up_checkin(services, recorded)


def list_cases(services: Services, user_id: str, command: grammar.ListCases) -> Reply:
    with services.session_factory.begin() as session:
        summaries = case_uc.summarize(session, case_uc.my_cases(session, user_id))
    rows = [
        {"code": s.code, "kind": s.kind, "status": s.status, "last": format_when(s.last_checkin_at, services),
         "open_flags": s.open_flags, "shared": s.owner_id != user_id}
        for s in summaries
    ]
    return ephemeral(render("messages/cases.j2", cases=rows))


def show_history(services: Services, user_id: str, command: grammar.ShowHistory) -> Reply:
    now = services.now()
    with services.session_factory.begin() as session:
        actor = services.roles.actor(session, user_id, now)
        history = checkin_uc.case_history(session, actor, command.code, now, cipher=services.cipher)
    rows = []
    for thread in history.threads:
        values = [c.ratings.get(thread) for c in history.checkins]
        rows.append({"label": thread.ljust(10), "spark": sparkline(values),
                     "trend": " → ".join("·" if v is None else str(v) for v in values)})
    sessions = [c.session_number for c in history.checkins]
    text = render("messages/history.j2", code=history.code, kind=history.kind, status=history.status,
                  total=history.total, shown=len(history.checkins), rows=rows if history.checkins else [],
                  first_session=sessions[0] if sessions else 0, last_session=sessions[-1] if sessions else 0,
                  example=log_example(history.code, history.threads).split(history.code + " ", 1)[1],
                  notes=history.notes)
    return ephemeral(text)


def change_status(services: Services, user_id: str, command: grammar.ChangeStatus) -> Reply:
    now = services.now()
    with services.session_factory.begin() as session:
        actor = services.roles.actor(session, user_id, now)
        case = case_uc.change_status(session, actor, command.code, command.action, now)
        status = case.status
    return ephemeral(f"{command.code} is now {status}.")


def share_case(services: Services, user_id: str, command: grammar.ShareCase) -> Reply:
    now = services.now()
    with services.session_factory.begin() as session:
        actor = services.roles.actor(session, user_id, now)
        case_uc.share_case(session, actor, command.code, command.user_id, now)
    return ephemeral(f"<@{command.user_id}> can now see and log {command.code}.")
