"""Recording check-ins and reading a case's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.access import Action, Actor
from bot.crypto import NoteCipher
from bot.domain.checkin_input import CheckinInput
from bot.domain.checkins import CheckinRecord, Rupture, RuptureKind, TherapistFlag
from bot.domain.errors import UserError
from bot.domain.phi import check_free_text
from bot.models import Case, Checkin
from bot.usecases.cases import case_access, case_threads, find_case
from bot.usecases.therapists import ensure_therapist

if TYPE_CHECKING:
    from bot.usecases.private_notes import PrivateNotes


@dataclass(frozen=True)
class RecordedCheckin:
    checkin_id: int
    case_id: int
    code: str
    session_number: int
    ratings: dict[str, int | None]
    duplicate: bool = False
    resumed: bool = False


def _recorded(case: Case, checkin: Checkin, duplicate: bool = False, resumed: bool = False) -> RecordedCheckin:
    return RecordedCheckin(checkin_id=checkin.id, case_id=case.id, code=case.code, session_number=checkin.session_number,
                           ratings=dict(checkin.ratings), duplicate=duplicate, resumed=resumed)


def next_session_number(session: Session, case_id: int) -> int:
    highest = session.scalar(select(func.max(Checkin.session_number)).where(Checkin.case_id == case_id))
    return (highest or 0) + 1


def record_checkin(session: Session, actor: Actor, code: str, entry: CheckinInput, now: datetime,
                   cipher: NoteCipher, submission_key: str | None = None, today: date | None = None) -> RecordedCheckin:
    """Store one check-in, all or nothing. A repeated submission key returns the
    check-in already stored instead of a second one."""
    case = find_case(session, actor, code, Action.LOG_CHECKIN)
    if submission_key is not None:
        existing = session.scalar(select(Checkin).where(Checkin.submission_key == submission_key))
        if existing is not None:
            return _recorded(case, existing, duplicate=True)
    if case.status == "closed":
        raise UserError(f"{code} is closed. Reopen it first: `/alliance reopen {code}`.")
    threads = case_threads(case)
    if sorted(entry.ratings) != sorted(threads):
        raise UserError(f"{code} needs a rating for each of {', '.join(threads)}.")
    if all(entry.ratings[t] is None for t in threads):
        raise UserError(f"Every thread of {code} is marked absent (`-`); rate at least one.")
    if entry.note:
        refusal = check_free_text("private note", entry.note)
        if refusal:
            raise UserError(refusal, field="note")
    session_number = entry.session_number or next_session_number(session, case.id)
    if session.scalar(select(Checkin.id).where(Checkin.case_id == case.id, Checkin.session_number == session_number)):
        raise UserError(f"Session {session_number} of {code} is already logged; give another session number.", field="session")
    ensure_therapist(session, actor.user_id, now)
    checkin = Checkin(
        case_id=case.id, therapist_id=actor.user_id, session_number=session_number,
        session_date=entry.session_date or today, ratings={t: entry.ratings[t] for t in threads},
        client_scores=dict(entry.client_scores or {}), rupture_kind=entry.rupture.kind.value,
        rupture_members=list(entry.rupture.members), therapist_flags=sorted(f.value for f in entry.flags),
        note_ciphertext=cipher.encrypt(entry.note) if entry.note else None,
        submission_key=submission_key, created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(checkin)
            session.flush()
    except IntegrityError:
        if submission_key is not None:
            existing = session.scalar(select(Checkin).where(Checkin.submission_key == submission_key))
            if existing is not None:
                return _recorded(case, existing, duplicate=True)
        raise UserError(f"Session {session_number} of {code} was just logged by someone else; check `/alliance history {code}`.") from None
    resumed = case.status == "paused"
    if resumed:
        case.status = "active"
    case.last_checkin_at = now
    return _recorded(case, checkin, resumed=resumed)


def as_record(checkin: Checkin) -> CheckinRecord:
    """A stored check-in as the rules read it; a null rating is an absent member."""
    return CheckinRecord(
        session_number=checkin.session_number,
        ratings={k: int(v) for k, v in checkin.ratings.items() if v is not None},
        absent=frozenset(k for k, v in checkin.ratings.items() if v is None),
        recorded_at=checkin.created_at,
        client_scores={k: int(v) for k, v in (checkin.client_scores or {}).items()},
        rupture=Rupture(kind=RuptureKind(checkin.rupture_kind), members=tuple(checkin.rupture_members or ())),
        flags=frozenset(TherapistFlag(f) for f in checkin.therapist_flags or ()),
        session_date=checkin.session_date,
    )


def recent_checkins(session: Session, case_id: int, limit: int = 12) -> list[Checkin]:
    """A case's latest check-ins in session order (session number, then date), oldest
    first, never in the order they were typed: only this case's rows are read."""
    rows = session.scalars(
        select(Checkin).where(Checkin.case_id == case_id)
        .order_by(Checkin.session_number.desc(), Checkin.session_date.desc(), Checkin.id.desc()).limit(limit)
    )
    return list(reversed(list(rows)))


@dataclass(frozen=True)
class CaseHistory:
    code: str
    kind: str
    status: str
    threads: tuple[str, ...]
    checkins: tuple[CheckinRecord, ...]
    total: int
    notes: PrivateNotes | None = None  # only for the case's own therapists


def case_history(session: Session, actor: Actor, code: str, now: datetime, limit: int = 20,
                 cipher: NoteCipher | None = None, notes: int = 5) -> CaseHistory:
    """The case's recent check-ins; with a cipher, the case's own therapists also get
    their latest private notes (never a supervisor or admin who is not on the case)."""
    case = find_case(session, actor, code, Action.VIEW_CASE, now=now)
    total = session.scalar(select(func.count()).select_from(Checkin).where(Checkin.case_id == case.id)) or 0
    records = tuple(as_record(c) for c in recent_checkins(session, case.id, limit))
    private = None
    if cipher is not None and case_access(case).is_therapist(actor.user_id):
        from bot.usecases.private_notes import case_private_notes  # it reads flags, which read check-ins

        private = case_private_notes(session, case.id, cipher, notes)
    return CaseHistory(code=case.code, kind=case.kind, status=case.status, threads=tuple(case_threads(case)),
                       checkins=records, total=total, notes=private)
