"""What people do about a warning: acknowledge it, plan a repair, resolve it;
and the plans that fall due.

A warning root can carry several flags (one per rule, same channel and ts). The
buttons carry the first flag's id and the message they sit on; every action
applies to the flags on that message that are still open. Each use case takes a
Session and never commits; a refusal raises a UserError before anything is
written, so the caller's rollback leaves the database as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, aliased

from bot.domain.cases import CaseStatus
from bot.domain.access import Actor, Permission, allowed, require
from bot.store.crypto import NoteCipher
from bot.domain.checkins import NOTE_MAX_LENGTH
from bot.domain.errors import NotFound, UserError
from bot.domain.phi import check_free_text
from bot.store.models import Case, Flag, RepairPlan
from bot.usecases import audit
from bot.usecases.cases import case_access
from bot.domain.messages import MessageRef
from bot.usecases.flags import RESOLVED, flags_on_message, rule_title

GONE = "This warning's case is no longer in Alliance (it was forgotten), so there is nothing to do here."
ALREADY_RESOLVED = "This warning is already resolved; nothing changed."
ALREADY_ACKNOWLEDGED = "You already acknowledged this warning; nothing changed."
PAST_DUE = "Pick today or a later date."
CLOSE_NEEDS_THERAPIST = "Only the case's therapists can close the case; pick another resolution, or ask them."
PLAN_NOTE_CONTEXT = b"plan-note"
RESOLUTION_NOTE_CONTEXT = b"resolution-note"


class PlanAction(StrEnum):
    RAISE_IN_SESSION = "raise_in_session"
    INDIVIDUAL_CHECKIN = "individual_checkin"
    ADJUST_APPROACH = "adjust_approach"
    SUPERVISION = "take_to_supervision"
    REFER = "refer"

    @property
    def label(self) -> str:
        return _PLAN_LABELS[self]


_PLAN_LABELS = {
    PlanAction.RAISE_IN_SESSION: "raise it in session",
    PlanAction.INDIVIDUAL_CHECKIN: "a brief individual check-in with one member",
    PlanAction.ADJUST_APPROACH: "adjust the approach",
    PlanAction.SUPERVISION: "take it to supervision",
    PlanAction.REFER: "refer",
}


class Resolution(StrEnum):
    REPAIRED = "repaired"
    APPROACH_CHANGED = "approach_changed"
    REFERRED = "referred"
    CASE_CLOSED = "case_closed"
    FALSE_ALARM = "false_alarm"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


def plan_label(slug: str) -> str:
    """A plan action's words; an unknown slug as it is."""
    return PlanAction(slug).label if slug in PlanAction._value2member_map_ else slug


@dataclass(frozen=True)
class WarningRef:
    """Which warning a button or modal is about: a flag, and the message it sits on."""

    flag_id: int
    message: MessageRef | None


@dataclass(frozen=True)
class Handled:
    """What an action touched, for the reply in the thread and the edit of the root."""

    case_code: str
    therapist_id: str
    message: MessageRef | None
    flag_id: int  # any flag of the root: re-rendering it re-renders the whole root
    rules: tuple[str, ...]  # titles of the open rules it applied to


@dataclass(frozen=True)
class PlanEntry:
    action: PlanAction
    due_on: date
    note: str | None = None


@dataclass(frozen=True)
class ResolveEntry:
    resolution: Resolution
    note: str | None = None


@dataclass(frozen=True)
class Resolved:
    handled: Handled
    resolution: Resolution
    case_closed: bool  # this resolution closed the case


@dataclass(frozen=True)
class DuePlan:
    plan_id: int
    message: MessageRef
    action: str
    due_on: date
    planned_by: str
    therapist_id: str
    case_code: str


@dataclass
class _Warning:
    case: Case
    message: MessageRef | None
    flags: list[Flag]

    @property
    def open_flags(self) -> list[Flag]:
        return [f for f in self.flags if f.open_slot is not None]

    def handled(self, flags: list[Flag]) -> Handled:
        return Handled(case_code=self.case.code, therapist_id=self.case.owner_id, message=self.message,
                       flag_id=self.flags[0].id, rules=tuple(rule_title(f.rule) for f in flags))


def _stored_message(flag: Flag) -> MessageRef | None:
    return MessageRef(flag.channel_id, flag.message_ts) if flag.channel_id and flag.message_ts else None


def _load(session: Session, actor: Actor, ref: WarningRef) -> _Warning:
    """The warning, if it exists and `actor` may handle it; the case row locked
    where the database can, so a check-in's reconciliation waits for us."""
    flag = session.get(Flag, ref.flag_id)
    if flag is None:
        raise NotFound(GONE)
    case = session.scalar(select(Case).where(Case.id == flag.case_id).with_for_update())
    if case is None:
        raise NotFound(GONE)
    require(actor, Permission.HANDLE_FLAG, case_access(case), case.code)
    for message in (ref.message, _stored_message(flag)):
        if message is not None:
            on_message = flags_on_message(session, case.id, message)
            if on_message:
                return _Warning(case, message, on_message)
    return _Warning(case, _stored_message(flag), [flag])


def _open(session: Session, actor: Actor, ref: WarningRef) -> tuple[_Warning, list[Flag]]:
    warning = _load(session, actor, ref)
    still_open = warning.open_flags
    if not still_open:
        raise UserError(ALREADY_RESOLVED)
    return warning, still_open


def may_handle(session: Session, actor: Actor, ref: WarningRef) -> Handled:
    """Check before opening a modal: the warning exists, is open, and `actor` may act."""
    warning, still_open = _open(session, actor, ref)
    return warning.handled(still_open)


def _checked_note(note: str | None, field: str, what: str) -> str | None:
    text = (note or "").strip()
    if not text:
        return None
    if len(text) > NOTE_MAX_LENGTH:
        raise UserError(f"Keep the {what} under {NOTE_MAX_LENGTH:,} characters.", field=field)
    refusal = check_free_text(what, text)
    if refusal:
        raise UserError(refusal, field=field)
    return text


def acknowledge(session: Session, actor: Actor, ref: WarningRef, now: datetime) -> Handled:
    warning, still_open = _open(session, actor, ref)
    if all(f.acknowledged_by == actor.user_id for f in still_open):
        raise UserError(ALREADY_ACKNOWLEDGED)
    for flag in still_open:
        flag.acknowledged_by, flag.updated_at = actor.user_id, now
    return warning.handled(still_open)


def plan_repair(session: Session, actor: Actor, ref: WarningRef, entry: PlanEntry, cipher: NoteCipher,
                now: datetime, today: date) -> Handled:
    """Record a repair plan on the root's first open flag. The note (optional)
    passes the PHI guard and is stored encrypted; it never goes to a channel."""
    warning, still_open = _open(session, actor, ref)
    note = _checked_note(entry.note, "note", "plan note")
    if entry.due_on < today:
        raise UserError(PAST_DUE, field="due")
    session.add(RepairPlan(flag_id=still_open[0].id, action=entry.action.value, due_on=entry.due_on,
                           note_ciphertext=cipher.encrypt(note, PLAN_NOTE_CONTEXT) if note else None,
                           created_by=actor.user_id, created_at=now))
    for flag in still_open:
        flag.updated_at = now
    return warning.handled(still_open)


def resolve(session: Session, actor: Actor, ref: WarningRef, entry: ResolveEntry, cipher: NoteCipher,
            now: datetime) -> Resolved:
    """Resolve every open flag on the root; *case closed* also closes the case
    (which only its therapists may do, as with `/alliance close`)."""
    warning, still_open = _open(session, actor, ref)
    note = _checked_note(entry.note, "note", "resolution note")
    case = warning.case
    closes_case = entry.resolution is Resolution.CASE_CLOSED and case.status != CaseStatus.CLOSED.value
    if closes_case and not allowed(actor, Permission.MANAGE_CASE, case_access(case)):  # as `/alliance close`
        raise UserError(CLOSE_NEEDS_THERAPIST, field="resolution")
    sealed = cipher.encrypt(note, RESOLUTION_NOTE_CONTEXT) if note else None
    for flag in still_open:
        flag.status, flag.open_slot, flag.resolution = RESOLVED, None, entry.resolution.value
        flag.resolved_by, flag.resolved_at, flag.updated_at = actor.user_id, now, now
        flag.resolution_note_ciphertext = sealed
    audit.record(session, actor.user_id, "resolve_flag", now, case_code=case.code,
                 detail=f"{entry.resolution.value}: {', '.join(f.rule for f in still_open)}")
    if closes_case:
        case.status, case.closed_at = CaseStatus.CLOSED.value, now
        audit.record(session, actor.user_id, "close_case", now, case_code=case.code, detail="resolving a warning")
    session.flush()
    return Resolved(warning.handled(still_open), entry.resolution, closes_case)


# -- plans that fall due ----------------------------------------------------------

def due_plans(session: Session, today: date, limit: int = 500) -> list[DuePlan]:
    """Plans due by `today`, not yet reminded, whose warning root still has an open
    flag and was posted somewhere; oldest due first."""
    sibling = aliased(Flag)
    still_open = exists().where(and_(sibling.channel_id == Flag.channel_id, sibling.message_ts == Flag.message_ts,
                                     sibling.open_slot.is_not(None)))
    rows = session.execute(
        select(RepairPlan, Flag, Case).join(Flag, Flag.id == RepairPlan.flag_id).join(Case, Case.id == Flag.case_id)
        .where(RepairPlan.reminded_at.is_(None), RepairPlan.due_on <= today, Flag.channel_id.is_not(None),
               Flag.message_ts.is_not(None), still_open)
        .order_by(RepairPlan.due_on, RepairPlan.id).limit(limit))
    return [DuePlan(plan_id=plan.id, message=MessageRef(str(flag.channel_id), str(flag.message_ts)),
                    action=plan.action, due_on=plan.due_on, planned_by=plan.created_by,
                    therapist_id=case.owner_id, case_code=case.code)
            for plan, flag, case in rows if plan.due_on is not None]


def mark_reminded(session: Session, plan_id: int, now: datetime) -> None:
    plan = session.get(RepairPlan, plan_id)
    if plan is not None and plan.reminded_at is None:
        plan.reminded_at = now
