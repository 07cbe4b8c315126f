"""The case and check-in sub-commands of `/alliance`: each returns the reply."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from bot.domain import grammar
from bot.domain.cases import CaseKind
from bot.domain.checkin_input import CheckinInput, log_example, parse_log_options, parse_ratings
from bot.domain.errors import UserError
from bot.domain.phi import check_free_text
from bot.domain.sparkline import sparkline
from bot.domain.wording import span
from bot.scheduling.chart import CaseTrend, draw_trends
from bot.services import Services
from bot.slack.blocks import ephemeral
from bot.templating import render
from bot.usecases import cases as case_uc
from bot.usecases import checkins as checkin_uc
from bot.access import Action

Reply = dict[str, Any]
CHART_FROM = 4  # check-ins: fewer make no useful line


def format_scores(ratings: dict[str, int]) -> str:
    return " · ".join(f"{thread} {value}" for thread, value in ratings.items())


def format_when(value: Any, services: Services) -> str:
    if value is None:
        return "never"
    days = (services.now() - value).days
    return "today" if days <= 0 else "yesterday" if days == 1 else f"{days} days ago"


def new_case(services: Services, user_id: str, command: grammar.NewCase) -> tuple[Reply, Callable[[], None]]:
    """The case's code and how to log it go by DM, where they can be found later (a
    reply only the typist sees is gone when Slack is reloaded); the reply itself is
    one line that names the code and points there, so nothing is said twice."""
    now = services.now()
    with services.session_factory.begin() as session:
        actor = services.roles.actor(session, user_id, now)
        case = case_uc.create_case(session, actor, CaseKind(command.kind), command.members, command.labels, now)
        threads = case_uc.case_threads(case)
        text = render("messages/case_created.j2", code=case.code, kind=case.kind, threads=threads,
                      example=log_example(case.code, threads).split(case.code + " ", 1)[1])
    message = {key: value for key, value in ephemeral(text).items() if key != "response_type"}
    reply = ephemeral(render("messages/case_created_reply.j2", code=case.code))

    def send_dm() -> None:
        services.client.chat_postMessage(channel=user_id, **message)

    return reply, send_dm


def log_checkin(services: Services, user_id: str, command: grammar.LogCheckin) -> tuple[Reply, Callable[[], None]] | Reply:
    """Store a typed check-in; a second one for the same case and day is asked about first."""
    from handlers.log_again import ask_to_log_again

    outcome = store_log(services, user_id, command, ask_same_day=True)
    if isinstance(outcome, SameDay):
        return ask_to_log_again(command, outcome)
    return logged_reply(outcome), lambda: after_checkin(services, outcome)


@dataclass(frozen=True)
class SameDay:
    """The case already has a check-in for this day: the question to ask instead of storing."""

    code: str
    day: date
    earlier_session: int
    next_session: int


def store_log(services: Services, user_id: str, command: grammar.LogCheckin, ask_same_day: bool = False,
              submission_key: str | None = None) -> checkin_uc.RecordedCheckin | SameDay:
    """Validate and store a `log` command, all or nothing. With `ask_same_day` and no
    `session=` given, a case that already has a check-in for the session's day is
    not stored to: the caller asks first."""
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
        if ask_same_day and entry.session_number is None and case.status != "closed":
            refusal = check_free_text("private note", entry.note) if entry.note else None
            if refusal:  # refused before anything is asked, as it would be when storing
                raise UserError(refusal, field="note")
            day = entry.session_date or today
            earlier = checkin_uc.checkin_on_day(session, case.id, day)
            if earlier is not None:
                return SameDay(code=case.code, day=day, earlier_session=earlier.session_number,
                               next_session=checkin_uc.next_session_number(session, case.id))
        return checkin_uc.record_checkin(session, actor, case.code, entry, now, services.cipher,
                                         submission_key=submission_key, today=today)


def logged_reply(recorded: checkin_uc.RecordedCheckin) -> Reply:
    return ephemeral(render("messages/checkin_logged.j2", session_number=recorded.session_number, code=recorded.code,
                            scores=format_scores(recorded.ratings), resumed=recorded.resumed,
                            duplicate=recorded.duplicate))


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
    trends = [CaseTrend(code=thread, means=tuple(float(c.ratings[thread]) for c in history.checkins))
              for thread in history.threads]
    first, last = history.checkins[0].session_number, history.checkins[-1].session_number
    png = draw_trends(trends, f"{history.code}: each thread, {span('session', first, last)}")
    channel = services.client.conversations_open(users=user_id)["channel"]["id"]
    services.client.files_upload_v2(channel=channel, file=png, filename=f"{history.code}-trend.png",
                                    title=f"{history.code} trend, {span('session', first, last)}",
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
