"""Workspace-wide settings the jobs read: stored overrides first, then the
environment's settings, then the defaults. Thresholds and the supervision
channel come from bot.usecases.config, re-exported here for the jobs."""

from __future__ import annotations

import logging
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.schedule import zone_named
from bot.domain.thresholds import Thresholds
from bot.store.models import Therapist
from bot.settings import Settings
from bot.usecases.config import supervision_channel, thresholds_in_force

logger = logging.getLogger(__name__)

def load_thresholds(session: Session) -> Thresholds:
    """The thresholds in force (one implementation: bot.usecases.config)."""
    return thresholds_in_force(session)


def zone_lookup(session: Session, settings: Settings) -> Callable[[str], ZoneInfo]:
    """`zone_for(user_id)`: the therapist's cached Slack time zone, else the
    workspace's (ALLIANCE_TIMEZONE). All therapists' zones are read in one query."""
    rows = session.execute(select(Therapist.user_id, Therapist.tz))
    names: dict[str, str | None] = {user_id: tz for user_id, tz in rows}
    zones: dict[str | None, ZoneInfo] = {}

    def zone_for(user_id: str) -> ZoneInfo:
        name = names.get(user_id)
        if name not in zones:
            zones[name] = zone_named(name, settings.timezone)
        return zones[name]

    return zone_for


__all__ = ["load_thresholds", "supervision_channel", "zone_lookup"]
