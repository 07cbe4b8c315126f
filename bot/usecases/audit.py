"""The audit log: who did what, when, to which case code; nothing more."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.models import AuditEntry


def record(session: Session, actor_id: str, action: str, now: datetime, case_code: str | None = None, detail: str | None = None) -> None:
    session.add(AuditEntry(at=now, actor_id=actor_id, action=action, case_code=case_code, detail=detail))


def entries_since(session: Session, since: datetime | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.at, AuditEntry.id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    return list(session.scalars(query))
