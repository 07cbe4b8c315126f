"""A case's history: its recent check-ins and, for its own therapists, their private notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.access import Actor, Permission
from bot.domain.audience import Audience, record_for, relabel_all
from bot.domain.checkins import Attendance, CheckinRecord
from bot.store.crypto import NoteCipher
from bot.store.models import Checkin
from bot.usecases.attendance import missed_sessions
from bot.usecases.cases import case_access, case_threads, find_case
from bot.usecases.checkins import as_record, recent_checkins
from bot.usecases.private_notes import PrivateNotes, case_private_notes


@dataclass(frozen=True)
class CaseHistory:
    code: str
    kind: str
    status: str
    threads: tuple[str, ...]
    checkins: tuple[CheckinRecord, ...]
    total: int
    notes: PrivateNotes | None = None  # the case's own therapists: all; anyone else: only what they wrote
    missed: tuple[tuple[int, str], ...] = ()
    own_notes_only: bool = False  # the reader is not on the case: `notes` are only the ones they wrote  # sessions that did not happen: (number, cancelled / no-show)


def case_history(session: Session, actor: Actor, code: str, now: datetime, limit: int = 20,
                 cipher: NoteCipher | None = None, notes: int = 5) -> CaseHistory:
    """The case's recent check-ins; with a cipher, the case's own therapists also get
    their latest private notes (never a supervisor or admin who is not on the case)."""
    case = find_case(session, actor, code, Permission.VIEW_CASE, now=now)
    total = session.scalar(select(func.count()).select_from(Checkin).where(
        Checkin.case_id == case.id, Checkin.attendance == Attendance.ATTENDED.value)) or 0
    records = tuple(as_record(c) for c in recent_checkins(session, case.id, limit))
    private = None
    if cipher is not None and case_access(case).is_therapist(actor.user_id):
        private = case_private_notes(session, case.id, cipher, notes)
    elif cipher is not None:  # a supervisor or admin sees the notes they wrote themselves (issue 14)
        private = case_private_notes(session, case.id, cipher, notes, written_by=actor.user_id)
    audience = Audience.THERAPISTS if case_access(case).is_therapist(actor.user_id) else Audience.OTHERS
    labels = list(case.member_labels)  # a supervisor sees position letters, never the labels (issue 12)
    return CaseHistory(code=case.code, kind=case.kind, status=case.status,
                       threads=tuple(relabel_all(case_threads(case), labels, audience)),
                       checkins=tuple(record_for(r, labels, audience) for r in records), total=total, notes=private,
                       missed=tuple(missed_sessions(session, case.id)),
                       own_notes_only=not case_access(case).is_therapist(actor.user_id))
