"""What follows a transfer (issue 14): the case's open warnings shown to the new
lead, and the new lead told. Each step is one small Slack call, logged on failure."""

from __future__ import annotations

from bot.domain.rules import Route
from bot.slack.colleagues import tell_transferred
from bot.slack.notifier import post_warning, refresh_warning, reply_in_thread
from bot.slack.question_text import question_counts
from bot.slack.services import Services
from bot.usecases import config as config_uc
from bot.usecases import flags as flags_uc
from bot.usecases.handover import Handover


def after_handover(services: Services, handover: Handover, by_user: str) -> None:
    """A warning in the old lead's DM is posted again to the new lead's DM (and its
    old thread says where it went); one in the supervision channel is edited to
    name the new lead. Then the new lead gets one DM listing what they now lead."""
    with services.session_factory.begin() as session:
        channel = config_uc.supervision_channel(session, services.settings)
    for moved in handover.warnings:
        if moved.old is None:
            refresh_warning(services.client, services.session_factory, moved.flag_ids[0])
            continue
        with services.session_factory.begin() as session:
            loaded = flags_uc.load_warning(session, moved.flag_ids[0], question_counts())
        if loaded is None:
            continue
        post = flags_uc.WarningPost(Route.DM, moved.flag_ids, loaded[1], dm_to=handover.to_user)
        landed = post_warning(services.client, post, channel, services.pacer)
        if landed is not None:
            with services.session_factory.begin() as session:
                flags_uc.record_warning_posted(session, moved.flag_ids, landed)
        reply_in_thread(services.client, moved.old, f"This warning moved to <@{handover.to_user}> with the case.",
                        services.pacer)
    if handover.to_user != by_user:
        tell_transferred(services.client, handover.to_user, list(handover.codes), by_user)
