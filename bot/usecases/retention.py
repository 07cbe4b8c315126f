"""Retention: closed cases are purged a number of days after closing.

The daily scan calls `purge_closed_cases(session, now)` (days from the workspace
setting `retention_days`, default 365; 0 keeps closed cases forever) and, in the
same transaction, passes the result to `bot.slack.warning_outbox.queue_removed_notices` so thread
roots that carried a purged code are edited.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.cases import CaseStatus
from bot.domain.access import Actor, Permission, require
from bot.domain.errors import UserError
from bot.store.models import Case, WorkspaceSetting
from bot.usecases import audit
from bot.domain.messages import MessageRef
from bot.usecases.forget import ForgottenCase, delete_case_records

RETENTION_SETTING = "retention_days"
DEFAULT_RETENTION_DAYS = 365
MAX_RETENTION_DAYS = 3650
SYSTEM_ACTOR = "alliance"
PURGE_ACTION = "purge_case"


def retention_days(session: Session) -> int:
    """Days a closed case is kept: the workspace setting, else 365; 0 = forever."""
    row = session.get(WorkspaceSetting, RETENTION_SETTING)
    if row is None:
        return DEFAULT_RETENTION_DAYS
    try:
        days = int(row.value.strip())
    except ValueError:
        return DEFAULT_RETENTION_DAYS
    return days if 0 <= days <= MAX_RETENTION_DAYS else DEFAULT_RETENTION_DAYS


def set_retention_days(session: Session, actor: Actor, raw: str, now: datetime) -> int:
    """Admins: how many days closed cases are kept (0 = forever); audited."""
    require(actor, Permission.CHANGE_CONFIG)
    text = raw.strip()
    if not text.isdigit() or int(text) > MAX_RETENTION_DAYS:
        raise UserError(f"Retention is a whole number of days from 0 (keep forever) to {MAX_RETENTION_DAYS}, "
                        f"e.g. `/alliance config retention {DEFAULT_RETENTION_DAYS}`.")
    days = int(text)
    row = session.get(WorkspaceSetting, RETENTION_SETTING)
    if row is None:
        session.add(WorkspaceSetting(key=RETENTION_SETTING, value=str(days), updated_by=actor.user_id, updated_at=now))
    else:
        row.value, row.updated_by, row.updated_at = str(days), actor.user_id, now
    audit.record(session, actor.user_id, "config_retention_days", now, detail=str(days))
    return days


def purge_closed_cases(session: Session, now: datetime, days: int | None = None) -> list[ForgottenCase]:
    """Delete every case closed more than `days` ago (default: the workspace
    setting), each leaving one `purge_case` audit entry. Never commits."""
    keep_days = retention_days(session) if days is None else days
    if keep_days <= 0:
        return []
    cutoff = now - timedelta(days=keep_days)
    closed_since = func.coalesce(Case.closed_at, Case.last_checkin_at, Case.created_at)
    due = list(session.scalars(
        select(Case).where(Case.status == CaseStatus.CLOSED.value, closed_since < cutoff).order_by(Case.id)
    ))
    purged: list[ForgottenCase] = []
    for case in due:
        forgotten = delete_case_records(session, case)
        audit.record(session, SYSTEM_ACTOR, PURGE_ACTION, now, case_code=forgotten.code)
        purged.append(forgotten)
    return purged


def thread_roots(purged: list[ForgottenCase]) -> tuple[MessageRef, ...]:
    return tuple(root for case in purged for root in case.thread_roots)

