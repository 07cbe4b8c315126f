"""What follows an `undo` or `edit` (issue 14): the case's warnings shown again as
they now stand, and a corrected newest check-in's rules run again."""

from __future__ import annotations

import logging

from bot.slack.followups import follow_up_checkin
from bot.slack.notifier import SLACK_FAILURES, refresh_warning
from bot.slack.blocks import text_blocks
from bot.domain.messages import MessageRef
from slack_sdk import WebClient
from bot.slack.services import Services
from bot.usecases.checkins import RecordedCheckin
from bot.usecases.corrections import Correction, withdrawn_roots

logger = logging.getLogger(__name__)


def after_correction(services: Services, correction: Correction) -> None:
    """Edit each changed warning root in place (a withdrawn rule shows as resolved);
    then, for a corrected newest check-in, evaluate it again so a rule the
    correction makes fire is posted. A Slack failure is logged by the notifier."""
    seen: set[int] = set()
    unrendered: list[int] = []
    for flag_id in correction.changed_flags:
        if flag_id not in seen:
            seen.add(flag_id)
            if not refresh_warning(services.client, services.session_factory, flag_id):
                unrendered.append(flag_id)
    if unrendered:  # the case has no check-in left to draw the warning from: say it was withdrawn
        with services.session_factory() as session:
            roots = withdrawn_roots(session, tuple(unrendered))
        for root in roots:
            mark_withdrawn(services.client, root, correction.code)
    if correction.checkin_id is not None and correction.still_newest:
        follow_up_checkin(services, RecordedCheckin(
            checkin_id=correction.checkin_id, case_id=correction.case_id, code=correction.code,
            session_number=correction.session_number, ratings={}, reevaluation=True))


def mark_withdrawn(client: WebClient, root: MessageRef, code: str) -> None:
    text = f"Withdrawn: the check-in behind this {code} warning was undone."
    try:
        client.chat_update(channel=root.channel_id, ts=root.message_ts, text=text, blocks=text_blocks(text))
    except SLACK_FAILURES as error:
        logger.error("could not mark a withdrawn warning (%s)", type(error).__name__)
