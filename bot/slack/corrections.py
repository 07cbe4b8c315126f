"""What follows an `undo` or `edit` (issue 14): the case's warnings shown again as
they now stand, and a corrected newest check-in's rules run again."""

from __future__ import annotations

import logging

from bot.slack.followups import follow_up_checkin
from bot.slack.notifier import refresh_warning
from bot.slack.services import Services
from bot.usecases.checkins import RecordedCheckin
from bot.usecases.corrections import Correction

logger = logging.getLogger(__name__)


def after_correction(services: Services, correction: Correction) -> None:
    """Edit each changed warning root in place (a withdrawn rule shows as resolved);
    then, for a corrected newest check-in, evaluate it again so a rule the
    correction makes fire is posted. A Slack failure is logged by the notifier."""
    seen: set[int] = set()
    for flag_id in correction.changed_flags:
        if flag_id not in seen:
            seen.add(flag_id)
            refresh_warning(services.client, services.session_factory, flag_id)
    if correction.checkin_id is not None and correction.still_newest:
        follow_up_checkin(services, RecordedCheckin(
            checkin_id=correction.checkin_id, case_id=correction.case_id, code=correction.code,
            session_number=correction.session_number, ratings={}, reevaluation=True))
