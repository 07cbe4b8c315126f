"""What a transfer queues (issue 14), in the transaction that makes it: the case's
open warnings shown to the new lead, and the new lead told."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.domain.rules import Route
from bot.slack.colleagues import queue_transferred
from bot.slack.question_text import question_counts
from bot.slack.warning_outbox import queue_post, queue_reply, queue_root_refresh
from bot.usecases import flags as flags_uc
from bot.usecases.handover import Handover


def queue_handover(session: Session, supervision_channel: str | None, handover: Handover, by_user: str) -> None:
    """A warning in the old lead's DM is posted again to the new lead's DM (and its
    old thread says where it went); one in the supervision channel is edited to
    name the new lead. Then the new lead gets one DM listing what they now lead."""
    for moved in handover.warnings:
        if moved.old is None:
            queue_root_refresh(session, moved.flag_ids[0])
            continue
        loaded = flags_uc.load_warning(session, moved.flag_ids[0], question_counts())
        if loaded is None:
            continue
        queue_post(session, flags_uc.WarningPost(Route.DM, moved.flag_ids, loaded[1], dm_to=handover.to_user),
                   supervision_channel)
        queue_reply(session, moved.old, f"This warning moved to <@{handover.to_user}> with the case.")
    if handover.to_user != by_user:
        queue_transferred(session, handover.to_user, list(handover.codes), by_user)
