"""Turns a Slack user into an Actor: supervisors and admins from settings
(user IDs or user-group IDs) and workspace admins from `users.info`."""

from __future__ import annotations

import functools
import logging
import threading
import time
from datetime import datetime, timedelta
from dataclasses import dataclass
from typing import Any, Callable, cast

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import Select, Table, bindparam, literal_column, select
from sqlalchemy.orm import Session

from bot.domain.access import Actor
from bot.store import core_reads
from bot.store.models import Therapist
from bot.settings import Settings
from bot.usecases.config import configured_supervisors, remember_settings, settings_alongside
from bot.usecases.therapists import ensure_therapist, note_present

logger = logging.getLogger(__name__)
GROUP_TTL_SECONDS = 300
PROFILE_TTL = timedelta(days=1)


@dataclass(frozen=True)
class Profile:
    """What a request needs of the asker's therapist row."""

    tz: str | None
    is_workspace_admin: bool


_THERAPISTS = cast(Table, Therapist.__table__)


def _asker_and_settings(dialect: str, *asker: Any) -> Select[Any]:
    """`asker` (of the therapist's row; NULLs when they have none yet) and the workspace
    settings, one statement. Build it once per dialect (Session.get builds and keys its
    SELECT on every call that misses the identity map)."""
    anchor = select(literal_column("1").label("one")).subquery("anchor")
    return (select(*asker, settings_alongside(dialect)).select_from(anchor)
            .outerjoin(_THERAPISTS, _THERAPISTS.c.user_id == bindparam("user_id")))


@functools.cache
def _therapist_and_settings(dialect: str) -> Select[Any]:
    """The therapist's row as an ORM object, to refresh it (`refresh_profile`)."""
    return _asker_and_settings(dialect, Therapist)


@functools.cache
def _profile_and_settings(dialect: str) -> Select[Any]:
    """What `actor_and_profile` reads on every request, as plain columns: loading an ORM
    object cost about 150 Python calls and 0.14 ms of CPU per `/alliance log` on
    PostgreSQL (bench/log_path.py)."""
    t = _THERAPISTS.c
    return _asker_and_settings(dialect, t.user_id, t.tz, t.is_workspace_admin, t.tz_checked_at)


class RoleResolver:
    def __init__(self, settings: Settings, client: WebClient, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._client = client
        self._monotonic = monotonic
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def _members(self, ids: tuple[str, ...]) -> frozenset[str]:
        users = {i for i in ids if not i.startswith("S")}
        for group in (i for i in ids if i.startswith("S")):
            users |= self._group_members(group)
        return frozenset(users)

    def _group_members(self, group: str) -> frozenset[str]:
        now = self._monotonic()
        with self._lock:
            cached = self._groups.get(group)
        if cached and now - cached[0] < GROUP_TTL_SECONDS:
            return cached[1]
        try:
            members = frozenset(self._client.usergroups_users_list(usergroup=group).get("users") or [])
        except SlackApiError as error:
            logger.warning("could not read user group %s: %s", group, error.response.get("error"))
            members = cached[1] if cached else frozenset()
        except (SlackClientError, OSError) as error:  # no answer in time: what was known, asked again next time
            logger.warning("could not read user group %s: %s", group, type(error).__name__)
            return cached[1] if cached else frozenset()
        with self._lock:
            self._groups[group] = (now, members)
        return members

    def refresh_profile(self, session: Session, user_id: str, now: datetime, force: bool = False) -> Therapist:
        """Time zone and admin status from `users.info`, cached on the therapist row.
        Slack is asked before anything is written (a new therapist's row would hold
        SQLite's write lock meanwhile); when it does not answer at once, what is known
        stays (a new therapist: the workspace's zone, no admin) and is asked again next time."""
        row = session.execute(_therapist_and_settings(session.get_bind().dialect.name), {"user_id": user_id}).one()
        known: Therapist | None = row[0]
        remember_settings(session, row[1])
        if known is not None and not force and known.tz_checked_at and now - known.tz_checked_at < PROFILE_TTL:
            return known
        user = self._users_info(user_id)
        therapist = known or ensure_therapist(session, user_id, now)
        if user is None:
            return therapist
        therapist.tz = user.get("tz") or therapist.tz
        therapist.is_workspace_admin = bool(user.get("is_admin") or user.get("is_owner"))
        therapist.tz_checked_at = now
        return therapist

    def _users_info(self, user_id: str) -> dict[str, Any] | None:
        try:
            user = self._client.users_info(user=user_id).get("user")
        except SlackApiError as error:
            logger.warning("users.info failed for a user: %s", error.response.get("error"))
            return None
        except (SlackClientError, OSError) as error:
            logger.warning("users.info did not answer for a user: %s", type(error).__name__)
            return None
        return user if isinstance(user, dict) else {}

    def admin_ids(self) -> frozenset[str]:
        """The configured admins (user groups expanded): who hears of an unreachable channel."""
        return self._members(self._settings.admins)

    def actor(self, session: Session, user_id: str, now: datetime) -> Actor:
        return self.actor_and_profile(session, user_id, now)[0]

    def actor_and_profile(self, session: Session, user_id: str, now: datetime) -> tuple[Actor, Profile]:
        """Who is asking, and their time zone and admin status: their therapist row as
        plain columns while it is fresh (the transaction then knows the row is there:
        `ensure_therapist_row`), else refreshed as `refresh_profile` does."""
        row = core_reads.read(session, _profile_and_settings(session.get_bind().dialect.name),
                              {"user_id": user_id}).one()
        remember_settings(session, row.workspace_settings)
        if row.user_id is not None and row.tz_checked_at is not None and now - row.tz_checked_at < PROFILE_TTL:
            note_present(session, user_id)
            profile = Profile(tz=row.tz, is_workspace_admin=bool(row.is_workspace_admin))
        else:  # new, or not asked of Slack for a day: rare
            therapist = self.refresh_profile(session, user_id, now)
            profile = Profile(tz=therapist.tz, is_workspace_admin=bool(therapist.is_workspace_admin))
        is_admin = user_id in self._members(self._settings.admins) or profile.is_workspace_admin
        is_supervisor = user_id in self._members(self._settings.supervisors + configured_supervisors(session))
        return Actor(user_id=user_id, is_supervisor=is_supervisor, is_admin=is_admin), profile
