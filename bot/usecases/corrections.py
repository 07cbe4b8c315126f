"""Correcting check-ins (issue 14, item 1): `undo` takes back your last check-in of
the past 24 hours, `edit` corrects one of the past 7 days. Both are audited (the
session number, never the scores) and re-evaluate the case's warnings as if the
mistyped check-in had never been: see `withdraw_flags`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.access import Actor, Permission
from bot.domain.checkins import Attendance
from bot.domain.errors import UserError
from bot.domain.messages import MessageRef
from bot.domain.phi import check_free_text
from bot.domain.rules import evaluate
from bot.store.crypto import NoteCipher
from bot.store.models import Case, Checkin, Flag
from bot.usecases import audit
from bot.usecases import flags as flags_uc
from bot.usecases.calibration import offset_for
from bot.usecases.cases import case_threads, find_case
from bot.usecases.checkins import as_record, recent_checkins
from bot.usecases.config import thresholds_in_force
from bot.usecases.flags import AUTO_RESOLUTION, EVALUATED_RULES, OPEN, RESOLVED, history_limit

UNDO_WINDOW = timedelta(hours=24)
EDIT_WINDOW = timedelta(days=7)
WITHDRAWN = "withdrawn"  # a flag's resolution when the check-in that opened it was undone or corrected


@dataclass(frozen=True)
class Correction:
    case_id: int
    code: str
    session_number: int
    checkin_id: int | None  # the corrected check-in (None once undone)
    withdrawn: tuple[str, ...]  # rules whose flags closed
    changed_flags: tuple[int, ...]  # flags whose warning should be shown again
    still_newest: bool = False  # the corrected check-in is the case's newest: its rules run again


def withdraw_flags(session: Session, case: Case, since: datetime, now: datetime,
                   undone: bool = False) -> tuple[list[str], list[int]]:
    """Re-evaluate the case's open flags on its history as it now stands: a rule that
    still fires keeps its flag with the evidence recomputed; one that no longer fires
    closes (`withdrawn`) when its flag was opened at or after `since` (the corrected
    check-in alone opened it). With `undone` (the check-in is gone) the quiet check-in
    it counted on an older flag is taken back, and a flag it closed by itself (the
    last quiet check-in) opens again."""
    thresholds = thresholds_in_force(session)
    rows = recent_checkins(session, case.id, history_limit(thresholds))
    history = [as_record(row) for row in rows]
    members = list(case.member_labels)
    hits = {hit.rule.value: hit for hit in evaluate(
        history, members, thresholds, offset_for(session, case.owner_id, thresholds, [history], members))} if history else {}
    withdrawn: list[str] = []
    changed: list[int] = []
    for flag in session.scalars(select(Flag).where(Flag.case_id == case.id, Flag.open_slot.is_not(None))):
        if flag.rule not in EVALUATED_RULES:
            continue
        hit = hits.get(flag.rule)
        if hit is not None:  # fires at the newest check-in as things now stand: no quiet check-ins since
            if list(flag.evidence) != list(hit.evidence) or flag.severity != int(hit.severity) or flag.quiet_checkins:
                flag.evidence, flag.severity, flag.updated_at = list(hit.evidence), int(hit.severity), now
                flag.quiet_checkins = 0
                changed.append(flag.id)
        elif flag.opened_at >= since:
            flag.status, flag.open_slot, flag.resolution = RESOLVED, None, WITHDRAWN
            flag.resolved_at = flag.updated_at = now
            withdrawn.append(flag.rule)
            changed.append(flag.id)
        elif undone and flag.quiet_checkins > 0 and flag.updated_at >= since:
            flag.quiet_checkins -= 1
            changed.append(flag.id)
    session.flush()
    if undone:
        still_open = set(session.scalars(select(Flag.rule).where(Flag.case_id == case.id, Flag.open_slot.is_not(None))))
        closed_by_it = session.scalars(select(Flag).where(
            Flag.case_id == case.id, Flag.resolution == AUTO_RESOLUTION, Flag.resolved_at >= since)
            .order_by(Flag.id.desc()))
        for flag in closed_by_it:
            if flag.rule in EVALUATED_RULES and flag.rule not in still_open:
                flag.status, flag.open_slot, flag.resolution, flag.resolved_at = OPEN, 1, None, None
                flag.quiet_checkins, flag.updated_at = max(flag.quiet_checkins - 1, 0), now
                still_open.add(flag.rule)
                changed.append(flag.id)
        session.flush()
    return withdrawn, changed


def _latest_at(session: Session, case_id: int) -> datetime | None:
    latest: datetime | None = session.scalar(select(func.max(Checkin.created_at)).where(Checkin.case_id == case_id))
    return latest


def undo_last(session: Session, actor: Actor, now: datetime) -> Correction:
    """Delete the actor's newest check-in, if typed in the past 24 hours."""
    checkin = session.scalar(select(Checkin).where(Checkin.therapist_id == actor.user_id,
                                                   Checkin.created_at >= now - UNDO_WINDOW)
                             .order_by(Checkin.created_at.desc(), Checkin.id.desc()).limit(1))
    if checkin is None:
        raise UserError("You have no check-in from the past 24 hours to undo; "
                        "correct an older one with `/alliance edit CPL-7KQ2 session=3 8 8 8 8`.")
    case = session.get(Case, checkin.case_id)
    assert case is not None
    find_case(session, actor, case.code, Permission.LOG_CHECKIN)
    number, since = checkin.session_number, checkin.created_at
    session.delete(checkin)  # its client links and answers go with it (ON DELETE CASCADE)
    session.flush()
    case.last_checkin_at = _latest_at(session, case.id)
    audit.record(session, actor.user_id, "undo_checkin", now, case_code=case.code, detail=f"session {number}")
    withdrawn, changed = withdraw_flags(session, case, since, now, undone=True)
    return Correction(case.id, case.code, number, None, tuple(withdrawn), tuple(changed))


def edit_checkin(session: Session, actor: Actor, code: str, number: int,
                 read: Callable[[Case], dict[str, object]], now: datetime, cipher: NoteCipher) -> Correction:
    """Correct session `number` of the case, typed in the past 7 days: `read` gives
    the fields to replace (ratings, session_date, rupture, flags, client_scores, note)."""
    case = find_case(session, actor, code, Permission.LOG_CHECKIN)
    checkin = session.scalar(select(Checkin).where(Checkin.case_id == case.id, Checkin.session_number == number))
    if checkin is None:
        raise UserError(f"{code} has no session {number}; see `/alliance history {code}`.")
    if checkin.attendance != Attendance.ATTENDED.value:
        raise UserError(f"Session {number} of {code} was missed; `/alliance undo` takes it back if it was a mistake.")
    if checkin.created_at < now - EDIT_WINDOW:
        raise UserError(f"Session {number} of {code} was logged more than 7 days ago; it can no longer be edited.")
    fields = read(case)
    changed_names: list[str] = []
    if "ratings" in fields:
        ratings = fields["ratings"]
        assert isinstance(ratings, dict)
        if all(ratings.get(t) is None for t in case_threads(case)):
            raise UserError(f"Every thread of {code} is marked absent (`-`); rate at least one.")
        checkin.ratings = {t: ratings.get(t) for t in case_threads(case)}
        changed_names.append("ratings")
    if "session_date" in fields:
        checkin.session_date = fields["session_date"] if isinstance(fields["session_date"], date) else None
        changed_names.append("date")
    if "rupture" in fields:
        rupture = fields["rupture"]
        checkin.rupture_kind = rupture.kind.value  # type: ignore[attr-defined]
        checkin.rupture_members = list(rupture.members)  # type: ignore[attr-defined]
        changed_names.append("rupture")
    if "flags" in fields:
        checkin.therapist_flags = sorted(str(f) for f in fields["flags"])  # type: ignore[attr-defined]
        changed_names.append("flags")
    if "client_scores" in fields:
        checkin.client_scores = dict(fields["client_scores"])  # type: ignore[call-overload]
        changed_names.append("client")
    if "note" in fields:
        note = fields["note"]
        if isinstance(note, str) and note:
            refusal = check_free_text("private note", note)
            if refusal:
                raise UserError(refusal, field="note")
            checkin.note_ciphertext = cipher.encrypt(note)
        else:
            checkin.note_ciphertext = None
        changed_names.append("note")
    session.flush()
    audit.record(session, actor.user_id, "edit_checkin", now, case_code=code,
                 detail=f"session {number}: {', '.join(changed_names)}")
    withdrawn, changed = withdraw_flags(session, case, checkin.created_at, now)
    newest = session.scalar(select(func.max(Checkin.session_number)).where(
        Checkin.case_id == case.id, Checkin.attendance == Attendance.ATTENDED.value))
    return Correction(case.id, code, number, checkin.id, tuple(withdrawn), tuple(changed), still_newest=newest == number)


def withdrawn_roots(session: Session, flag_ids: tuple[int, ...]) -> list[MessageRef]:
    """Where the withdrawn flags among `flag_ids` were posted (for a root that can no
    longer be drawn from a history, the case's last check-in having been undone);
    a root still queued in the outbox is named by its row."""
    flags = session.scalars(select(Flag).where(Flag.id.in_(flag_ids), Flag.resolution == WITHDRAWN))
    roots = {root for root in (flags_uc.warning_root(flag) for flag in flags) if root is not None}
    return sorted(roots, key=lambda m: (m.channel_id, m.message_ts))
