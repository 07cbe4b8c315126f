"""A supervisor's `/alliance cases` (the team, by therapist) and `/alliance agenda` (issue 14, item 5)."""

from __future__ import annotations

from bot.domain import grammar
from bot.slack.blocks import CommandResult, ephemeral
from bot.slack.services import Services
from bot.slack.team_view import LINKS_BUDGET, agenda_for, agenda_reply, permalinks, team_text
from bot.usecases import audit
from bot.usecases import config as config_uc
from bot.usecases import cases as case_uc
from bot.usecases.supervision import team_by_therapist
from handlers.commands import case_commands


def list_cases(services: Services, user_id: str, command: grammar.ListCases) -> CommandResult:
    """A therapist's own cases; a supervisor's team, grouped by therapist, then their own (if any)."""
    now = services.now()
    with services.session_factory.begin() as session:
        actor = services.roles.actor(session, user_id, now)
        team = None
        if actor.is_supervisor:
            team = team_by_therapist(session, config_uc.supervision_channel(session, services.settings))
            has_own = bool(case_uc.my_cases(session, user_id))
            audit.record(session, user_id, "view_team_overview", now)  # a read of others' cases
    if team is None:  # one transaction at a time: the therapist's list opens its own
        return case_commands.list_cases(services, user_id, command)
    links = permalinks(services.lookup_client, (c.thread for t in team.therapists for c in t.cases), LINKS_BUDGET)
    text = team_text(team, links, now)
    if has_own:
        text += "\n\n" + str(case_commands.list_cases(services, user_id, command).reply.get("text", ""))
    return CommandResult(ephemeral(text))


def agenda(services: Services, user_id: str, command: grammar.Agenda) -> CommandResult:
    text, channel = agenda_for(services, user_id)
    return CommandResult(agenda_reply(text, channel))
