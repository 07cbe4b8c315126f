"""`/alliance rate CASE`: fresh client rating links for the case's newest session, by DM (issue 16)."""

from __future__ import annotations

from bot.domain import grammar
from bot.domain.access import Permission
from bot.slack.blocks import CommandResult, ephemeral
from bot.slack.rating_links import deliver_links
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
        issued = links_uc.issue_for_latest(session, actor, command.code, now, services.settings.rating_link_hours)
    if not issued.members:
        return CommandResult(ephemeral(f"Every member already has a client total for session {issued.session_number} of "
                                       f"{issued.code}; no links were made."))
    reply = ephemeral(f"Rating links for session {issued.session_number} of {issued.code} are in your DM, "
                      "with a QR code per member. Earlier links for that session no longer work.")
    return CommandResult(reply, then=lambda: deliver_links(services, user_id, public_url, issued))
