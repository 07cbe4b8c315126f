"""Recording check-ins and reading a case's history."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Protocol, cast
from datetime import date, datetime
from sqlalchemy import Table, bindparam, exists, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from bot.domain.cases import CaseStatus
from bot.domain.access import Actor, Permission
from bot.store import core_reads
from bot.store.crypto import NoteCipher
from bot.domain.checkin_input import CheckinInput
from bot.domain.checkins import Attendance, CheckinRecord, Rupture, RuptureKind, TherapistFlag
from bot.domain.errors import UserError
from bot.domain.phi import check_free_text
from bot.store.models import Case, Checkin, Flag, mean_of
from bot.usecases.cases import case_threads, find_case
from bot.usecases.therapists import ensure_therapist_row


@dataclass(frozen=True)
class RecordedCheckin:
    checkin_id: int
    case_id: int
    code: str
    session_number: int
    ratings: dict[str, int | None]
    duplicate: bool = False
    resumed: bool = False
    reevaluation: bool = False  # the same check-in again (a client's answer joined it): not a new quiet check-in


def _recorded(case: Case, checkin: Checkin, duplicate: bool = False, resumed: bool = False) -> RecordedCheckin:
    return RecordedCheckin(checkin_id=checkin.id, case_id=case.id, code=case.code, session_number=checkin.session_number,
                           ratings=dict(checkin.ratings), duplicate=duplicate, resumed=resumed)


def next_session_number(session: Session, case_id: int) -> int:
    highest = session.scalar(select(func.max(Checkin.session_number)).where(Checkin.case_id == case_id))
    return (highest or 0) + 1


def checkin_on_day(session: Session, case_id: int, day: date) -> Checkin | None:
    """The case's latest check-in for a session on `day`, if it has one."""
    return session.scalar(select(Checkin).where(Checkin.case_id == case_id, Checkin.session_date == day)
                          .order_by(Checkin.session_number.desc()).limit(1))


@dataclass(frozen=True)
class SameDay:
    """The case already has a check-in for this day: the question to ask instead of storing."""

    code: str
    day: date
    earlier_session: int
    next_session: int


def record_checkin(session: Session, actor: Actor, code: str, entry: CheckinInput, now: datetime,
                   cipher: NoteCipher, submission_key: str | None = None, today: date | None = None) -> RecordedCheckin:
    """Store a check-in already read (see `log_checkin`)."""
    return log_checkin(session, actor, code, lambda case: entry, now, cipher, submission_key, today)


def log_checkin(session: Session, actor: Actor, code: str, read: Callable[[Case], CheckinInput], now: datetime,
                cipher: NoteCipher, submission_key: str | None = None, today: date | None = None) -> RecordedCheckin:
    """Store one check-in (see `log_checkin_or_ask`), never asking about the day."""
    recorded = log_checkin_or_ask(session, actor, code, read, now, cipher, submission_key, today, ask_same_day=False)
    assert isinstance(recorded, RecordedCheckin)  # asking is off
    return recorded


def log_checkin_or_ask(session: Session, actor: Actor, code: str, read: Callable[[Case], CheckinInput],
                       now: datetime, cipher: NoteCipher, submission_key: str | None = None,
                       today: date | None = None, ask_same_day: bool = True) -> RecordedCheckin | SameDay:
    """Store one check-in, all or nothing: the case is looked up once (access checked),
    `read` turns what the person typed into a CheckinInput for that case (its errors
    propagate), and the row is written. A repeated submission key returns the
    check-in already stored instead of a second one. With `ask_same_day` and no
    session number given, a case that already has a check-in for the session's day
    is not stored to: the question to ask comes back instead."""
    case = find_case(session, actor, code, Permission.LOG_CHECKIN, lock=True)  # its evaluation needs it locked
    entry = read(case)
    if ask_same_day and entry.session_number is None and case.status != CaseStatus.CLOSED.value:
        refusal = check_free_text("private note", entry.note) if entry.note else None
        if refusal:  # refused before anything is asked, as it would be when storing
            raise UserError(refusal, field="note")
        day = entry.session_date or today
        earlier = checkin_on_day(session, case.id, day) if day is not None else None
        if earlier is not None and day is not None:
            return SameDay(code=case.code, day=day, earlier_session=earlier.session_number,
                           next_session=next_session_number(session, case.id))
    if submission_key is not None:
        existing = session.scalar(select(Checkin).where(Checkin.submission_key == submission_key))
        if existing is not None:
            return _recorded(case, existing, duplicate=True)
    if case.status == CaseStatus.CLOSED.value:
        raise UserError(f"{code} is closed. Reopen it first: `/alliance reopen {code}`.")
    threads = case_threads(case)
    if sorted(entry.ratings) != sorted(threads):
        raise UserError(f"{code} needs a rating for each of {', '.join(threads)}.")
    members = set(case.member_labels)
    if not set(entry.rupture.members) <= members or not set(entry.client_scores or {}) <= members:
        # never trust a submitted choice: a forged value is refused here, whatever the form offered
        raise UserError(f"{code} has members {', '.join(case.member_labels)}; pick from those.", field="rupture_with")
    if all(entry.ratings[t] is None for t in threads):
        raise UserError(f"Every thread of {code} is marked absent (`-`); rate at least one.")
    if entry.note:
        refusal = check_free_text("private note", entry.note)
        if refusal:
            raise UserError(refusal, field="note")
    session_number = entry.session_number or next_session_number(session, case.id)
    ensure_therapist_row(session, actor.user_id, now)
    ratings = {t: entry.ratings[t] for t in threads}
    # One statement: a row that would repeat a session number or a submission key is not
    # written (no savepoint, and the transaction stays usable on PostgreSQL); which one it
    # was is read only then. The mean rating is set as the model's hook sets it.
    values = dict(
        case_id=case.id, therapist_id=actor.user_id, session_number=session_number,
        session_date=entry.session_date or today, ratings=ratings, mean_rating=mean_of(ratings),
        client_scores=dict(entry.client_scores or {}), rupture_kind=entry.rupture.kind.value,
        rupture_members=list(entry.rupture.members), therapist_flags=sorted(f.value for f in entry.flags),
        note_ciphertext=cipher.encrypt(entry.note) if entry.note else None, submission_key=submission_key,
        created_at=now, attendance=Attendance.ATTENDED.value)
    resumed = case.status == CaseStatus.PAUSED.value
    status = CaseStatus.ACTIVE.value if resumed else case.status
    touch = {"case_id": case.id, "new_status": status, "new_last_checkin_at": now}
    parameters = {f"new_{name}": value for name, value in values.items()}
    # The case's status and last check-in time are set in the same statement on PostgreSQL
    # (a data-modifying CTE, only when the row went in): a round trip fewer per check-in.
    dialect = session.get_bind().dialect.name
    one_statement = dialect == "postgresql"
    if one_statement:
        checkin_id = session.execute(_INSERT_AND_TOUCH, {**parameters, **touch}).scalar_one_or_none()
    else:
        checkin_id = session.execute(_insert_new(dialect), parameters).scalar_one_or_none()
    if checkin_id is None:
        if submission_key is not None:
            existing = session.scalar(select(Checkin).where(Checkin.submission_key == submission_key))
            if existing is not None:
                return _recorded(case, existing, duplicate=True)
        raise UserError(f"Session {session_number} of {code} is already logged; give another session number.",
                        field="session")
    # One UPDATE now (SQLite), and the loaded case told what it holds: setting its attributes
    # instead would have the ORM's unit of work flush them before the next query.
    if not one_statement:
        session.execute(_TOUCH_CASE, touch)
    set_committed_value(case, "status", status)
    set_committed_value(case, "last_checkin_at", now)
    return RecordedCheckin(checkin_id=checkin_id, case_id=case.id, code=case.code, session_number=session_number,
                           ratings=dict(ratings), resumed=resumed)


_NEW_CHECKIN_COLUMNS = ("case_id", "therapist_id", "session_number", "session_date", "ratings", "mean_rating",
                        "client_scores", "rupture_kind", "rupture_members", "therapist_flags", "note_ciphertext",
                        "submission_key", "created_at", "attendance")


@functools.cache
def _insert_new(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id for a check-in, in `dialect`, built
    once with a parameter `new_<column>` for each of _NEW_CHECKIN_COLUMNS."""
    table = _CHECKINS  # the table, not the mapped class: a Core INSERT, not the ORM's bulk path
    statement = postgresql_insert(table) if dialect == "postgresql" else sqlite_insert(table)
    return statement.values({name: bindparam(f"new_{name}", type_=table.c[name].type)
                             for name in _NEW_CHECKIN_COLUMNS}).on_conflict_do_nothing().returning(table.c.id)


_CASES = cast(Table, Case.__table__)
_CHECKINS = cast(Table, Checkin.__table__)
_TOUCH_CASE = _CASES.update().where(_CASES.c.id == bindparam("case_id")).values(
    status=bindparam("new_status", type_=_CASES.c.status.type),
    last_checkin_at=bindparam("new_last_checkin_at", type_=_CASES.c.last_checkin_at.type))


_NEW_ROW = _insert_new("postgresql").cte("new_checkin")
# PostgreSQL: the check-in's INSERT and the case's UPDATE, one statement; the case is
# touched only when the row went in (no conflict), and the new row's id comes back.
_INSERT_AND_TOUCH = select(_NEW_ROW.c.id).add_cte(
    _TOUCH_CASE.where(select(_NEW_ROW.c.id).exists()).returning(_CASES.c.id).cte("touched_case"))


class StoredCheckin(Protocol):
    """What `as_record` reads of a stored check-in: a `Checkin`, or a row of `recent_checkins`."""

    @property
    def id(self) -> int: ...
    @property
    def therapist_id(self) -> str: ...
    @property
    def session_number(self) -> int: ...
    @property
    def ratings(self) -> dict[str, Any]: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def client_scores(self) -> dict[str, Any] | None: ...
    @property
    def rupture_kind(self) -> str: ...
    @property
    def rupture_members(self) -> list[str] | None: ...
    @property
    def therapist_flags(self) -> list[str] | None: ...
    @property
    def session_date(self) -> date | None: ...
    @property
    def client_safety(self) -> dict[str, Any] | None: ...


_NO_RUPTURE = Rupture()
_NONE: frozenset[Any] = frozenset()
_KINDS = {kind.value: kind for kind in RuptureKind}
_FLAGS = {flag.value: flag for flag in TherapistFlag}


def as_record(checkin: StoredCheckin) -> CheckinRecord:
    """A stored check-in as the rules read it; a null rating is an absent member.
    Every evaluation reads a dozen of these: the usual values (no rupture, no flags,
    nobody absent) are shared rather than built again, and stored values are looked up
    rather than passed through their enums (an unknown one still fails there)."""
    ratings = {k: int(v) for k, v in checkin.ratings.items() if v is not None}
    absent = frozenset(k for k, v in checkin.ratings.items() if v is None) if len(ratings) < len(checkin.ratings) else _NONE
    kind = _KINDS.get(checkin.rupture_kind) or RuptureKind(checkin.rupture_kind)
    members = checkin.rupture_members
    rupture = _NO_RUPTURE if kind is RuptureKind.NONE and not members else Rupture(kind=kind, members=tuple(members or ()))
    stored_flags = checkin.therapist_flags
    flags = frozenset(_FLAGS.get(f) or TherapistFlag(f) for f in stored_flags) if stored_flags else _NONE
    scores, safety = checkin.client_scores, checkin.client_safety
    return CheckinRecord(
        session_number=checkin.session_number,
        ratings=ratings,
        absent=absent,
        recorded_at=checkin.created_at,
        client_scores={k: int(v) for k, v in scores.items()} if scores else {},
        rupture=rupture,
        flags=flags,
        session_date=checkin.session_date,
        client_safety={k: int(v) for k, v in safety.items()} if safety else {},
    )


def recent_checkins(session: Session, case_id: int, limit: int = 12) -> list[StoredCheckin]:
    """A case's latest rated check-ins in session order (session number, then date), oldest
    first, never in the order they were typed: only this case's rows are read. Missed
    sessions (issue 14) have no ratings and are not among them: the rules skip them.
    Plain rows (what `as_record` reads), not ORM objects: they are only read."""
    rows: list[StoredCheckin] = list(core_reads.read(session, _RECENT, {"case_id": case_id, "limit": limit}))
    return list(reversed(rows))


def recent_checkins_and_open_flags(session: Session, case_id: int, limit: int) -> tuple[list[StoredCheckin], bool]:
    """`recent_checkins`, and whether the case has an open flag, in the same statement
    (every row carries it): most evaluations find none, and then need not ask for them
    (a statement fewer per check-in). True when there are no rows, since nothing was said."""
    rows = list(core_reads.read(session, _RECENT_AND_OPEN_FLAGS, {"case_id": case_id, "limit": limit}))
    return list(reversed(rows)), bool(rows[0].has_open_flags) if rows else True


# Built once: building and keying a statement for the cache costs more than running this one.
_C = _CHECKINS.c
_RECENT = (select(_C.id, _C.therapist_id, _C.session_number, _C.ratings, _C.created_at, _C.client_scores,
                  _C.rupture_kind, _C.rupture_members, _C.therapist_flags, _C.session_date, _C.client_safety)
           .where(_C.case_id == bindparam("case_id"), _C.attendance == Attendance.ATTENDED.value)
           .order_by(_C.session_number.desc(), _C.session_date.desc(), _C.id.desc())
           .limit(bindparam("limit")))
_FLAG_TABLE = cast(Table, Flag.__table__)
_RECENT_AND_OPEN_FLAGS = _RECENT.add_columns(
    exists().where(_FLAG_TABLE.c.case_id == bindparam("case_id"), _FLAG_TABLE.c.open_slot.is_not(None))
    .label("has_open_flags"))
