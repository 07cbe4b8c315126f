"""Sessions that did not happen (issue 14, item 2) and a case's cadence (item 3).

A missed session (`cancelled` or `no_show`) is a check-in row with no ratings: it
takes the next session number, counts in the history and the digest, satisfies the
week's reminder (the case's `last_checkin_at` moves) and is skipped by the rules
(`checkins.recent_checkins` reads rated sessions only). Two no-shows in a row is a
notice the therapist's weekly reminder shows (`no_show_runs`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.access import Actor, Permission
from bot.domain.cadence import cadence_name
from bot.domain.cases import CaseStatus
from bot.domain.checkins import Attendance, no_shows_in_a_row
from bot.domain.errors import UserError
from bot.store.models import Case, Checkin
from bot.usecases import audit
from bot.usecases.cases import find_case
from bot.usecases.checkins import next_session_number
from bot.usecases.therapists import ensure_therapist_row


@dataclass(frozen=True)
class MissedSession:
    code: str
    session_number: int
    attendance: Attendance
    no_shows_in_a_row: bool


def record_missed(session: Session, actor: Actor, code: str, attendance: Attendance, now: datetime,
                  today: date) -> MissedSession:
    case = find_case(session, actor, code, Permission.LOG_CHECKIN)
    if case.status == CaseStatus.CLOSED.value:
        raise UserError(f"{code} is closed. Reopen it first: `/alliance reopen {code}`.")
    ensure_therapist_row(session, actor.user_id, now)
    number = next_session_number(session, case.id)
    session.add(Checkin(case_id=case.id, therapist_id=actor.user_id, session_number=number, session_date=today,
                        ratings={}, client_scores={}, rupture_kind="none", rupture_members=[], therapist_flags=[],
                        created_at=now, attendance=attendance.value))
    case.last_checkin_at = now  # the week's reminder is satisfied; silence counts from here
    if case.status == CaseStatus.PAUSED.value:
        case.status = CaseStatus.ACTIVE.value
    session.flush()
    audit.record(session, actor.user_id, "missed_session", now, case_code=code, detail=attendance.value)
    return MissedSession(code, number, attendance, no_show_runs(session, [case.id]).get(case.id, False))


def no_show_runs(session: Session, case_ids: Iterable[int], run: int = 2) -> dict[int, bool]:
    """For each case, whether its newest `run` sessions were all no-shows."""
    found: dict[int, bool] = {}
    for case_id in sorted(set(case_ids)):
        newest = session.scalars(select(Checkin.attendance).where(Checkin.case_id == case_id)
                                 .order_by(Checkin.session_number.desc()).limit(run))
        found[case_id] = no_shows_in_a_row(newest, run)
    return found


def missed_sessions(session: Session, case_id: int, limit: int = 20) -> list[tuple[int, str]]:
    """The case's newest missed sessions as (session number, `cancelled` / `no-show`), oldest first."""
    rows = session.execute(select(Checkin.session_number, Checkin.attendance).where(
        Checkin.case_id == case_id, Checkin.attendance != Attendance.ATTENDED.value)
        .order_by(Checkin.session_number.desc()).limit(limit))
    return [(number, Attendance(kind).label) for number, kind in reversed(list(rows))]


def set_cadence(session: Session, actor: Actor, code: str, weeks: int, now: datetime) -> str:
    """Set how many weeks apart the case's sessions are, counted from now."""
    case = find_case(session, actor, code, Permission.MANAGE_CASE)
    case.cadence_weeks = weeks
    case.cadence_anchor = now.date()
    audit.record(session, actor.user_id, "set_cadence", now, case_code=code, detail=cadence_name(weeks))
    return cadence_name(weeks)
