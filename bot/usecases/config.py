"""Workspace configuration: the thresholds in force and the supervision channel.

Stored in `workspace_settings`: one row per override, keyed `threshold.<key>`,
and `supervision_channel`. Reading is open to everyone; changing needs an admin
and lands in the audit log.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import Label, func, select
from sqlalchemy.orm import Session

from bot.domain.access import Actor, Permission, require
from bot.domain.errors import UserError
from bot.domain.schedule import Weekly
from bot.domain.thresholds import (
    THRESHOLD_SPECS,
    ThresholdError,
    Thresholds,
    format_number,
    threshold_spec,
)
from bot.store.models import WorkspaceSetting
from bot.store.transaction_info import transaction_key
from bot.settings import Settings
from bot.domain.text import escape_mrkdwn
from bot.usecases import audit

logger = logging.getLogger(__name__)

THRESHOLD_PREFIX = "threshold."
SUPERVISION_CHANNEL_KEY = "supervision_channel"
# What Slack puts in command text for a picked channel (`<#C123|name>`), or a bare ID.
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]{2,})(?:\|[^>]*)?>$|^([CG][A-Z0-9]{2,})$")
CHANNEL_EXAMPLE = "config supervision #supervision"


@dataclass(frozen=True)
class ThresholdRow:
    key: str
    value: str
    default: str
    allowed: str
    description: str
    basis: str  # "literature" or "team default"
    overridden: bool


@dataclass(frozen=True)
class ConfigView:
    thresholds: tuple[ThresholdRow, ...]
    supervision_channel: str | None
    channel_source: str | None  # "config" (set with /alliance config) or "environment"


_SNAPSHOT = transaction_key("alliance.workspace_settings")


def _settings(session: Session) -> dict[str, str]:
    """Every workspace setting (a few short rows), read once per transaction: a
    check-in reads three of them (supervisors, thresholds, supervision channel), and a
    key with no row cost a query at each `Session.get`. This module's writers forget
    the snapshot (`_forget`); so does the end of the transaction."""
    snapshot = session.info.get(_SNAPSHOT)
    if snapshot is None:
        snapshot = session.info[_SNAPSHOT] = {
            str(key): str(value) for key, value in session.execute(_ALL_SETTINGS)}
    return snapshot  # callers only read it


_ALL_SETTINGS = select(WorkspaceSetting.key, WorkspaceSetting.value)  # built once: every request reads it


@functools.cache
def settings_alongside(dialect: str) -> Label[Any]:
    """Every workspace setting as one JSON object (NULL when there are none), for a
    statement that reads a row anyway to carry in its row: a request then reads the
    settings without a round trip of their own (`remember_settings` keeps them)."""
    aggregate = func.json_object_agg if dialect == "postgresql" else func.json_group_object
    return select(aggregate(WorkspaceSetting.key, WorkspaceSetting.value)).scalar_subquery().label("workspace_settings")


def remember_settings(session: Session, values: Any) -> None:
    """Keep what `settings_alongside` read as this transaction's snapshot (unless one is kept already)."""
    if _SNAPSHOT not in session.info:
        loaded = json.loads(values) if isinstance(values, str) else values
        session.info[_SNAPSHOT] = {str(key): str(value) for key, value in (loaded or {}).items()}


def _forget(session: Session) -> None:
    session.info.pop(_SNAPSHOT, None)


def _stored(session: Session, prefix: str) -> dict[str, str]:
    return {key.removeprefix(prefix): value for key, value in _settings(session).items() if key.startswith(prefix)}


def threshold_overrides(session: Session) -> dict[str, str]:
    """The stored overrides: threshold key -> the value as typed (normalised)."""
    return _stored(session, THRESHOLD_PREFIX)


def thresholds_in_force(session: Session) -> Thresholds:
    """The defaults with this workspace's overrides. Stored values were checked
    when set; should one no longer parse, the defaults are used and it is logged."""
    overrides = threshold_overrides(session)
    try:
        return Thresholds.from_overrides(overrides)
    except ThresholdError as error:
        logger.error("stored thresholds are not usable (%s); using the defaults", error)
        return Thresholds()


def supervision_channel(session: Session, settings: Settings) -> str | None:
    """The configured channel, else ALLIANCE_SUPERVISION_CHANNEL, else None."""
    return _settings(session).get(SUPERVISION_CHANNEL_KEY) or settings.supervision_channel


def config_view(session: Session, settings: Settings) -> ConfigView:
    in_force = thresholds_in_force(session).as_dict()
    overrides = set(threshold_overrides(session))
    rows = tuple(
        ThresholdRow(key=spec.key, value=format_number(in_force[spec.key]), default=format_number(spec.default),
                     allowed=spec.allowed, description=spec.description, basis=spec.basis,
                     overridden=spec.key in overrides)
        for spec in THRESHOLD_SPECS.values()
    )
    stored = _settings(session).get(SUPERVISION_CHANNEL_KEY)
    if stored is not None:
        return ConfigView(rows, stored, "config")
    channel = settings.supervision_channel
    return ConfigView(rows, channel, "environment" if channel else None)


def _put(session: Session, key: str, value: str, actor: Actor, now: datetime) -> None:
    _forget(session)
    row = session.get(WorkspaceSetting, key)
    if row is None:
        session.add(WorkspaceSetting(key=key, value=value, updated_by=actor.user_id, updated_at=now))
    else:
        row.value, row.updated_by, row.updated_at = value, actor.user_id, now


def set_threshold(session: Session, actor: Actor, key: str, raw: str, now: datetime) -> tuple[str, str]:
    """Check and store one threshold; returns (key, value as stored)."""
    require(actor, Permission.CHANGE_CONFIG)
    try:
        spec = threshold_spec(key)
        changed = thresholds_in_force(session).with_value(spec.key, raw)
    except ThresholdError as error:
        raise UserError(escape_mrkdwn(str(error))) from None
    value = format_number(getattr(changed, spec.key))
    _put(session, THRESHOLD_PREFIX + spec.key, value, actor, now)
    audit.record(session, actor.user_id, "config_set_threshold", now, detail=f"{spec.key}={value}")
    return spec.key, value


def reset_threshold(session: Session, actor: Actor, key: str, now: datetime) -> tuple[str, str]:
    """Drop an override so the default applies again; returns (key, default)."""
    require(actor, Permission.CHANGE_CONFIG)
    try:
        spec = threshold_spec(key)
        remaining = {k: v for k, v in threshold_overrides(session).items() if k != spec.key}
        Thresholds.from_overrides(remaining)
    except ThresholdError as error:
        raise UserError(escape_mrkdwn(str(error))) from None
    _forget(session)
    row = session.get(WorkspaceSetting, THRESHOLD_PREFIX + spec.key)
    if row is not None:
        session.delete(row)
    audit.record(session, actor.user_id, "config_reset_threshold", now, detail=spec.key)
    return spec.key, format_number(spec.default)


def parse_channel(raw: str) -> str:
    """`<#C123|name>` (as Slack sends a picked channel) or a bare ID -> `C123`."""
    match = _CHANNEL.match(raw.strip())
    if not match:
        raise UserError(f"Pick the channel with # so Slack links it, e.g. `/alliance {CHANNEL_EXAMPLE}`.")
    return match.group(1) or match.group(2)


def set_supervision_channel(session: Session, actor: Actor, raw: str, now: datetime) -> str:
    require(actor, Permission.CHANGE_CONFIG)
    channel = parse_channel(raw)
    _put(session, SUPERVISION_CHANNEL_KEY, channel, actor, now)
    audit.record(session, actor.user_id, "config_supervision_channel", now, detail=channel)
    return channel


DIGEST_TIME_KEY = "digest_time"


REMINDER_TIME_KEY = "reminder_time"


def _stored_weekly(session: Session, key: str, default: Weekly) -> Weekly:
    stored = _settings(session).get(key)
    if stored is None:
        return default
    try:
        weekday, hhmm = stored.split(" ", 1)
        hours, minutes = hhmm.split(":")
        return Weekly(weekday=int(weekday), at=time(int(hours), int(minutes)))
    except ValueError:
        logger.error("the stored %s is not usable; using the default", key)
        return default


def _set_weekly(session: Session, actor: Actor, key: str, weekday: int, hhmm: str, now: datetime) -> None:
    require(actor, Permission.CHANGE_CONFIG)
    _put(session, key, f"{weekday} {hhmm}", actor, now)
    audit.record(session, actor.user_id, f"config_{key}", now, detail=f"{weekday} {hhmm}")


def digest_weekly(session: Session, default: Weekly) -> Weekly:
    """When the weekly digest goes out (workspace time): the admins' choice, else `default`."""
    return _stored_weekly(session, DIGEST_TIME_KEY, default)


def set_digest_time(session: Session, actor: Actor, weekday: int, hhmm: str, now: datetime) -> None:
    _set_weekly(session, actor, DIGEST_TIME_KEY, weekday, hhmm, now)


def reminder_weekly(session: Session, default: Weekly) -> Weekly:
    """The reminder time (each therapist's own time zone) for those who chose none."""
    return _stored_weekly(session, REMINDER_TIME_KEY, default)


def set_reminder_default(session: Session, actor: Actor, weekday: int, hhmm: str, now: datetime) -> None:
    _set_weekly(session, actor, REMINDER_TIME_KEY, weekday, hhmm, now)


SUPERVISORS_KEY = "supervisors"
_PERSON_OR_GROUP = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^<!subteam\^(S[A-Z0-9]+)(?:\|[^>]*)?>$|^([UWS][A-Z0-9]{6,})$")
SUPERVISORS_EXAMPLE = "config supervisors @supervisor @clinical-leads"


def parse_people(tokens: list[str]) -> tuple[str, ...]:
    """User and user-group mentions as Slack sends them (`<@U…|name>`, `<!subteam^S…|@group>`) or bare IDs."""
    ids: list[str] = []
    for token in tokens:
        match = _PERSON_OR_GROUP.match(token)
        if not match:
            raise UserError(f"Mention people or a user group (from Slack's @ list), e.g. `/alliance {SUPERVISORS_EXAMPLE}`.")
        ids.append(next(group for group in match.groups() if group))
    return tuple(dict.fromkeys(ids))


def configured_supervisors(session: Session) -> tuple[str, ...]:
    """Supervisors set with `/alliance config supervisors` (beside ALLIANCE_SUPERVISORS)."""
    stored = _settings(session).get(SUPERVISORS_KEY)
    return tuple(part for part in (stored.split(",") if stored is not None else []) if part)


def set_supervisors(session: Session, actor: Actor, ids: tuple[str, ...], now: datetime) -> None:
    require(actor, Permission.CHANGE_CONFIG)
    _put(session, SUPERVISORS_KEY, ",".join(ids), actor, now)
    audit.record(session, actor.user_id, "config_supervisors", now, detail=",".join(ids) or "none")
