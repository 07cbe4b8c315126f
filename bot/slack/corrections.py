"""What an `undo` or `edit` queues (issue 14), in the transaction that makes it:
the case's warnings shown again as they now stand, and a corrected newest
check-in's rules run again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.domain.messages import MessageRef
from bot.settings import Settings
from bot.slack.blocks import text_blocks
from bot.slack.question_text import question_counts
from bot.slack.warning_outbox import evaluate_checkin, queue_root_refresh, root_target
from bot.store import outbox
from bot.usecases import flags as flags_uc
from bot.usecases.corrections import Correction, withdrawn_roots


def queue_correction(session: Session, settings: Settings, correction: Correction, now: datetime) -> None:
    """Edit each changed warning root in place (a withdrawn rule shows as resolved);
    then, for a corrected newest check-in, evaluate it again so a rule the
    correction makes fire is posted."""
    seen: set[int] = set()
    unrendered: list[int] = []
    for flag_id in correction.changed_flags:
        if flag_id not in seen:
            seen.add(flag_id)
            if flags_uc.load_warning(session, flag_id, question_counts()) is None:
                unrendered.append(flag_id)
            else:
                queue_root_refresh(session, flag_id)
    if unrendered:  # the case has no check-in left to draw the warning from: say it was withdrawn
        for root in withdrawn_roots(session, tuple(unrendered)):
            queue_withdrawn(session, root, correction.code)
    if correction.checkin_id is not None and correction.still_newest:
        evaluate_checkin(session, settings, correction.case_id, correction.checkin_id, now, reevaluation=True)


def queue_withdrawn(session: Session, root: MessageRef, code: str) -> None:
    text = f"Withdrawn: the check-in behind this {code} warning was undone."
    where, parent = root_target(root)
    outbox.enqueue(session, "update", root.channel_id, {**where, "text": text, "blocks": text_blocks(text)},
                   depends_on=parent)
