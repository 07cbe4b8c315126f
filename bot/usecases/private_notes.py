"""A case's private notes, decrypted for the case's own therapists and nobody else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.crypto import KeyProblem, NoteCipher
from bot.store.models import Checkin, Flag, RepairPlan
from bot.usecases.flag_actions import PLAN_NOTE_CONTEXT, RESOLUTION_NOTE_CONTEXT, Resolution, plan_label
from bot.usecases.flags import rule_title

NOTE_LIMIT = 5
NOTE_CONTEXT = b"note"  # NoteCipher's default: check-in notes
UNREADABLE = "(sealed under an earlier key: ask your admin to finish `alliance-bot keys rotate`)"


@dataclass(frozen=True)
class PrivateNotes:
    checkins: tuple[tuple[int, str], ...] = ()  # (session, note), newest first
    plans: tuple[tuple[str, date | None, str], ...] = ()  # (action, due, note)
    resolutions: tuple[tuple[str, str, str], ...] = ()  # (rule, resolution, note)

    def __bool__(self) -> bool:
        return bool(self.checkins or self.plans or self.resolutions)


def _resolution_label(slug: str | None) -> str:
    if slug is not None and slug in Resolution._value2member_map_:
        return Resolution(slug).label
    return slug or "resolved"


def case_private_notes(session: Session, case_id: int, cipher: NoteCipher, limit: int = NOTE_LIMIT,
                       written_by: str | None = None) -> PrivateNotes:
    """The latest notes of one case. Callers check that the reader is one of its
    therapists; or pass `written_by` (a supervisor or admin not on the case, issue 14):
    then only the plan and resolution notes that person wrote, and no check-in notes."""
    checkins = session.execute(
        select(Checkin.session_number, Checkin.note_ciphertext)
        .where(Checkin.case_id == case_id, Checkin.note_ciphertext.is_not(None))
        .order_by(Checkin.created_at.desc(), Checkin.id.desc()).limit(limit)).all() if written_by is None else []
    plan_query = (
        select(RepairPlan.action, RepairPlan.due_on, RepairPlan.note_ciphertext).join(Flag, Flag.id == RepairPlan.flag_id)
        .where(Flag.case_id == case_id, RepairPlan.note_ciphertext.is_not(None)))
    resolution_query = (
        select(Flag.rule, Flag.resolution, Flag.resolution_note_ciphertext)
        .where(Flag.case_id == case_id, Flag.resolution_note_ciphertext.is_not(None)))
    if written_by is not None:
        plan_query = plan_query.where(RepairPlan.created_by == written_by)
        resolution_query = resolution_query.where(Flag.resolved_by == written_by)
    plans = session.execute(plan_query.order_by(RepairPlan.created_at.desc(), RepairPlan.id.desc()).limit(limit)).all()
    resolutions = session.execute(
        resolution_query.order_by(Flag.resolved_at.desc(), Flag.id.desc()).limit(limit)).all()
    def read(blob: bytes | None, context: bytes) -> str:
        if blob is None:  # the queries select only rows with a note
            return ""
        try:
            return cipher.decrypt(blob, context)
        except KeyProblem:  # sealed under a key that is no longer current
            return UNREADABLE

    return PrivateNotes(
        checkins=tuple((number, read(blob, NOTE_CONTEXT)) for number, blob in checkins),
        plans=tuple((plan_label(action), due, read(blob, PLAN_NOTE_CONTEXT)) for action, due, blob in plans),
        resolutions=tuple((rule_title(rule), _resolution_label(resolution), read(blob, RESOLUTION_NOTE_CONTEXT))
                          for rule, resolution, blob in resolutions),
    )
