"""Workspace-wide settings the jobs read: stored overrides first, then the
environment's settings, then the defaults."""

from __future__ import annotations

import logging
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.schedule import zone_named
from bot.domain.thresholds import ThresholdError, Thresholds
from bot.models import Therapist, WorkspaceSetting
from bot.settings import Settings

logger = logging.getLogger(__name__)

THRESHOLD_PREFIX = "threshold."
SUPERVISION_CHANNEL_KEY = "supervision_channel"


def load_thresholds(session: Session) -> Thresholds:
    """The thresholds in force: rows `threshold.<key>` over the defaults. A stored
    value that no longer parses is ignored (and logged) rather than stopping jobs."""
    rows = session.scalars(select(WorkspaceSetting).where(WorkspaceSetting.key.like(THRESHOLD_PREFIX + "%")))
    overrides = {row.key.removeprefix(THRESHOLD_PREFIX): row.value for row in rows}
    try:
        return Thresholds.from_overrides(overrides)
    except ThresholdError as error:
        logger.warning("stored thresholds ignored: %s", error)
        return Thresholds()


def supervision_channel(session: Session, settings: Settings) -> str | None:
    row = session.get(WorkspaceSetting, SUPERVISION_CHANNEL_KEY)
    return (row.value if row is not None and row.value else None) or settings.supervision_channel


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
