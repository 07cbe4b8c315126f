"""`/alliance transfer CASE @to` and `/alliance transfer all @from @to` (issue 14, item 4)."""

from __future__ import annotations

from bot.domain import grammar
from bot.domain.errors import UserError
from bot.slack.blocks import CommandResult, ephemeral
from bot.slack.colleagues import colleague_problem
from bot.slack.handover import queue_handover
from bot.slack.services import Services
from bot.usecases import config as config_uc
from bot.usecases import handover as handover_uc


def transfer(services: Services, user_id: str, command: grammar.Transfer) -> CommandResult:
    problem = colleague_problem(services.lookup_client, user_id, command.to_user)
    if problem:
        raise UserError(problem)
    now = services.now()
    with services.session_factory.begin() as session:
        actor = services.roles.actor(session, user_id, now)
        if command.code is not None:
            handover = handover_uc.transfer_case(session, actor, command.code, command.to_user, now)
        else:
            assert command.from_user is not None
            handover = handover_uc.transfer_all(session, actor, command.from_user, command.to_user, now)
        queue_handover(session, config_uc.supervision_channel(session, services.settings), handover, user_id)
    listed = ", ".join(handover.codes)
    noun = "case" if len(handover.codes) == 1 else "cases"
    text = (f"<@{handover.to_user}> now leads {listed} (was <@{handover.from_user}>'s {noun}); "
            f"open warnings went with {'it' if len(handover.codes) == 1 else 'them'}.")
    return CommandResult(ephemeral(text))
