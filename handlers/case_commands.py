"""The case and check-in sub-commands of `/alliance`: each returns the reply."""

from __future__ import annotations

from typing import Any, Callable

from bot.domain import grammar
from bot.domain.cases import CaseKind
from bot.domain.checkin_input import CheckinInput, log_example, parse_log_options, parse_ratings
from bot.domain.sparkline import sparkline
from bot.scheduling.chart import CaseTrend, draw_trends
from bot.services import Services
from bot.slack.blocks import ephemeral
from bot.templating import render
from bot.usecases import cases as case_uc
from bot.usecases import checkins as checkin_uc
from bot.access import Action

Reply = dict[str, Any]
CHART_FROM = 4  # check-ins: fewer make no useful line


def format_scores(ratings: dict[str, int | None]) -> str:
    return " · ".join(f"{thread} {'absent' if value is None else value}" for thread, value in ratings.items())


def format_when(value: Any, services: Services) -> str:
    if value is None:
        return "never"
    days = (services.now() - value).days
    return "today" if days <= 0 else "yesterday" if days == 1 else f"{days} days ago"


def new_case(services: Services, user_id: str, command: grammar.NewCase) -> tuple[Reply, Callable[[], None]]:
    """The code comes back at once, and again by DM: a code must be findable later,
    and a reply only the typist sees is gone when Slack is reloaded."""
    now = services.now()
    with services.session_factory.begin() as session:
        actor = services.roles.actor(session, user_id, now)
        case = case_uc.create_case(session, actor, CaseKind(command.kind), command.members, command.labels, now)
        threads = case_uc.case_threads(case)
        text = render("messages/case_created.j2", code=case.code, kind=case.kind, threads=threads,
                      example=log_example(case.code, threads).split(case.code + " ", 1)[1])
    reply = ephemeral(text)
    message = {key: value for key, value in reply.items() if key != "response_type"}
    return reply, lambda: services.client.chat_postMessage(channel=user_id, **message)


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


def load_history(services: Services, user_id: str, code: str) -> checkin_uc.CaseHistory:
    now = services.now()
    with services.session_factory.begin() as session:
        actor = services.roles.actor(session, user_id, now)
        return checkin_uc.case_history(session, actor, code, now, cipher=services.cipher)


def show_history(services: Services, user_id: str, command: grammar.ShowHistory) -> Reply:
    """The trend as text (App Home's History button shows the same)."""
    return history_reply(load_history(services, user_id, command.code))


def history_with_chart(services: Services, user_id: str,
                       command: grammar.ShowHistory) -> Reply | tuple[Reply, Callable[[], None]]:
    """`/alliance history CASE`: the trend as text and, from CHART_FROM check-ins on,
    a chart of every thread sent to the person's DM (where they can find it later)."""
    history = load_history(services, user_id, command.code)
    reply = history_reply(history)
    if len(history.checkins) < CHART_FROM:
        return reply
    return reply, lambda: send_history_chart(services, user_id, history)


def send_history_chart(services: Services, user_id: str, history: checkin_uc.CaseHistory) -> None:
    trends = [CaseTrend(code=thread, means=tuple(float(c.ratings[thread]) if thread in c.ratings
                                                          else float("nan") for c in history.checkins))
              for thread in history.threads]
    first, last = history.checkins[0].session_number, history.checkins[-1].session_number
    png = draw_trends(trends, f"{history.code}: each thread, sessions {first}–{last}")
    channel = services.client.conversations_open(users=user_id)["channel"]["id"]
    services.client.files_upload_v2(channel=channel, file=png, filename=f"{history.code}-trend.png",
                                    title=f"{history.code} trend, sessions {first}–{last}",
                                    alt_txt=f"Line chart of each thread's rating for {history.code}")


def history_reply(history: checkin_uc.CaseHistory) -> Reply:
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
