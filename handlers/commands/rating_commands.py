"""`/alliance rate CASE`: fresh client rating links for the case's newest session, by DM (issue 16)."""

from __future__ import annotations

from bot.domain import grammar
from bot.domain.access import Permission
from bot.slack.blocks import CommandResult, ephemeral
from bot.slack.rating_links import queue_rating_links
from bot.slack.services import Services
from bot.slack.templating import render
from bot.usecases import rating_links as links_uc
from bot.usecases.cases import find_case


def rate(services: Services, user_id: str, command: grammar.RateLinks) -> CommandResult:
    """`/alliance rate CASE`: fresh links for the case's newest session, by DM."""
    public_url = services.settings.public_url
    now = services.now()
    with services.session_factory.begin() as session:
        actor = services.roles.actor(session, user_id, now)
        if public_url is None:
            find_case(session, actor, command.code, Permission.LOG_CHECKIN)  # the usual refusal for someone else's case
            return CommandResult(ephemeral(render("messages/rating_links_off.j2", code=command.code, once=False)))
        case, checkin = links_uc.latest_for_links(session, actor, command.code)
        code, number = case.code, checkin.session_number
        if all(member in (checkin.client_scores or {}) for member in case.member_labels):
            return CommandResult(ephemeral(f"Every member already has a client total for session {number} of "
                                           f"{code}; no links were made."))
        queue_rating_links(session, services.settings, user_id, checkin.id)  # made and sent by the outbox
    return CommandResult(ephemeral(f"Rating links for session {number} of {code} will be in your DM in a moment, "
                                   "with a QR code per member. Earlier links for that session no longer work."))
