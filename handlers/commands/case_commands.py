"""The case and check-in sub-commands of `/alliance`: each returns the reply."""

from __future__ import annotations

from typing import Any

from bot.domain import grammar
from bot.domain.cadence import WEEKLY, cadence_name
from bot.domain.cases import CaseKind
from bot.domain.checkin_input import log_example
from bot.domain.errors import UserError
from bot.slack.colleagues import colleague_problem, queue_shared
from bot.slack.services import Services
from bot.slack.blocks import CommandResult, ephemeral
from bot.slack.checkin_form import logged_text
from bot.slack.history_view import history_reply, load_history, queue_history_chart
from bot.slack.rating_links import links_off_once
from bot.slack.warning_outbox import queue_dm
from bot.slack.templating import render
from bot.usecases import cases as case_uc
from bot.usecases import checkins as checkin_uc
from handlers.commands.log_again import ask_to_log_again, store_log

CHART_FROM = 4  # check-ins: fewer make no useful line


def format_when(value: Any, services: Services) -> str:
    if value is None:
        return "never"
    days = (services.now() - value).days
    return "today" if days <= 0 else "yesterday" if days == 1 else f"{days} days ago"


def new_case(services: Services, user_id: str, command: grammar.NewCase) -> CommandResult:
    """The case's code and how to log it go by DM, where they can be found later (a
    reply only the typist sees is gone when Slack is reloaded); the reply itself is
    one line that names the code and points there, so nothing is said twice."""
    now = services.now()
    with services.session_factory.begin() as session:
        actor = services.roles.actor(session, user_id, now)
        case = case_uc.create_case(session, actor, CaseKind(command.kind), command.members, command.labels, now,
                                    cadence_weeks=command.cadence)
        threads = case_uc.case_threads(case)
        text = render("messages/case_created.j2", code=case.code, kind=case.kind, threads=threads,
                      cadence=cadence_name(command.cadence) if command.cadence != WEEKLY else None,
                      example=log_example(case.code, threads).split(case.code + " ", 1)[1])
        queue_dm(session, user_id, text)
        code = case.code
    return CommandResult(ephemeral(render("messages/case_created_reply.j2", code=code)))


def log_checkin(services: Services, user_id: str, command: grammar.LogCheckin) -> CommandResult:
    """Store a typed check-in; a second one for the same case and day is asked about first."""
    outcome = store_log(services, user_id, command, ask_same_day=True)
    if isinstance(outcome, checkin_uc.SameDay):
        return CommandResult(ask_to_log_again(command, outcome))
    text = logged_text(outcome) + links_off_once(services, user_id, outcome.code)  # issue 16: said once
    return CommandResult(ephemeral(text))  # its warnings and rating links are queued with it (store_log)


def list_cases(services: Services, user_id: str, command: grammar.ListCases) -> CommandResult:
    with services.session_factory.begin() as session:
        summaries = case_uc.summarize(session, case_uc.my_cases(session, user_id))
    rows = [
        {"code": s.code, "kind": s.kind, "status": s.status, "last": format_when(s.last_checkin_at, services),
         "open_flags": s.open_flags, "shared": s.owner_id != user_id}
        for s in summaries
    ]
    return CommandResult(ephemeral(render("messages/cases.j2", cases=rows)))


def history_with_chart(services: Services, user_id: str, command: grammar.ShowHistory) -> CommandResult:
    """`/alliance history CASE`: the trend as text and, from CHART_FROM check-ins on,
    a chart of every thread sent to the person's DM (where they can find it later)."""
    now = services.now()
    with services.session_factory.begin() as session:
        history = load_history(services, session, user_id, command.code, now)
        if len(history.checkins) >= CHART_FROM:
            queue_history_chart(session, user_id, history)
    return CommandResult(history_reply(history))


def change_status(services: Services, user_id: str, command: grammar.ChangeStatus) -> CommandResult:
    now = services.now()
    with services.session_factory.begin() as session:
        actor = services.roles.actor(session, user_id, now)
        case = case_uc.change_status(session, actor, command.code, command.action, now)
        status = case.status
    return CommandResult(ephemeral(f"{command.code} is now {status}."))


def share_case(services: Services, user_id: str, command: grammar.ShareCase) -> CommandResult:
    """Slack is asked about the colleague first (no bots, nobody outside the
    workspace); once shared, they are told by DM (issue 14)."""
    problem = colleague_problem(services.lookup_client, user_id, command.user_id)
    if problem:
        raise UserError(problem)
    now = services.now()
    with services.session_factory.begin() as session:
        actor = services.roles.actor(session, user_id, now)
        case_uc.share_case(session, actor, command.code, command.user_id, now)
        queue_shared(session, command.user_id, command.code, user_id)
    return CommandResult(ephemeral(f"<@{command.user_id}> can now see and log {command.code}; they have been told by DM."))
