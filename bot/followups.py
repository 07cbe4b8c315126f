"""Work that follows a stored check-in, after Slack has its acknowledgement."""

from __future__ import annotations

import logging

from bot.services import Services
from bot.usecases.checkins import RecordedCheckin

logger = logging.getLogger(__name__)


def follow_up_checkin(services: Services, recorded: RecordedCheckin) -> None:
    """Evaluate the case's stall rules and update its flags (stall issue)."""
    return None
