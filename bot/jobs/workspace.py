"""Workspace-wide settings the jobs read: stored overrides first, then the
environment's settings, then the defaults. Thresholds and the supervision
channel come from bot.usecases.config, re-exported here for the jobs."""

from __future__ import annotations

import logging
from sqlalchemy.orm import Session

from bot.domain.thresholds import Thresholds
from bot.usecases.config import supervision_channel, thresholds_in_force
from bot.usecases.silence import zone_lookup

logger = logging.getLogger(__name__)

def load_thresholds(session: Session) -> Thresholds:
    """The thresholds in force (one implementation: bot.usecases.config)."""
    return thresholds_in_force(session)


__all__ = ["load_thresholds", "supervision_channel", "zone_lookup"]
