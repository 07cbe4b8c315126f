"""`/alliance forget CASE`: remove a case and everything recorded about it.

What stays is one audit entry saying that it happened (who, when, which code).
Earlier audit entries about the case keep who did what and when, but lose the
case code and any detail, so no row but the forget entry mentions the code.
Slack messages that carried the code (flag thread roots) are edited by the
through the outbox, queued by the caller in the same transaction
(`bot.slack.warning_outbox.queue_removed_notices`), from the `ForgottenCase` returned here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.domain.messages import MessageRef
from bot.domain.access import Actor, Permission, check_case
from bot.store import outbox
from bot.store.models import AuditEntry, Case, CaseShare, Checkin, Flag, FlagReply, RatingLink, RepairPlan
from bot.usecases import audit
from bot.usecases.cases import case_access, load_case, not_found

FORGET_ACTION = "forget_case"


@dataclass(frozen=True)
class ForgetPreview:
    """What a confirmation shows: how much will go."""

    code: str
    checkins: int
    flags: int
    notes: int


@dataclass(frozen=True)
class ForgottenCase:
    code: str
    checkins: int
    flags: int
    thread_roots: tuple[MessageRef, ...]


def _case_to_forget(session: Session, actor: Actor, code: str) -> Case:
    """The case, if `actor` may forget it. Someone with no tie to the case gets the
    same answer as for a missing code, so codes cannot be probed."""
    case = load_case(session, code)
    if case is None:
        raise not_found(code)
    check_case(actor, Permission.FORGET_CASE, case_access(case), code)
    return case


def _flag_ids(session: Session, case_id: int) -> list[int]:
    return list(session.scalars(select(Flag.id).where(Flag.case_id == case_id)))


def preview_forget(session: Session, actor: Actor, code: str) -> ForgetPreview:
    case = _case_to_forget(session, actor, code)
    flag_ids = _flag_ids(session, case.id)
    checkins = session.scalar(select(func.count()).select_from(Checkin).where(Checkin.case_id == case.id)) or 0
    notes = session.scalar(select(func.count()).select_from(Checkin)
                           .where(Checkin.case_id == case.id, Checkin.note_ciphertext.is_not(None))) or 0
    if flag_ids:
        notes += session.scalar(select(func.count()).select_from(Flag)
                                .where(Flag.id.in_(flag_ids), Flag.resolution_note_ciphertext.is_not(None))) or 0
        notes += session.scalar(select(func.count()).select_from(RepairPlan)
                                .where(RepairPlan.flag_id.in_(flag_ids), RepairPlan.note_ciphertext.is_not(None))) or 0
    return ForgetPreview(code=case.code, checkins=checkins, flags=len(flag_ids), notes=notes)


def delete_case_records(session: Session, case: Case) -> ForgottenCase:
    """Delete the case and every row about it; no access check, no audit entry.
    Returns what is needed to tidy Slack afterwards."""
    code = case.code
    flags = list(session.execute(select(Flag.id, Flag.channel_id, Flag.message_ts).where(Flag.case_id == case.id)))
    flag_ids = [row.id for row in flags]
    roots = tuple(MessageRef(row.channel_id, row.message_ts) for row in flags if row.channel_id and row.message_ts)
    checkins = session.scalar(select(func.count()).select_from(Checkin).where(Checkin.case_id == case.id)) or 0
    if flag_ids:
        session.execute(delete(FlagReply).where(FlagReply.flag_id.in_(flag_ids)))
        session.execute(delete(RepairPlan).where(RepairPlan.flag_id.in_(flag_ids)))
        session.execute(delete(Flag).where(Flag.id.in_(flag_ids)))
    session.execute(delete(RatingLink).where(RatingLink.case_id == case.id))  # client links die first (issue 16)
    session.execute(delete(Checkin).where(Checkin.case_id == case.id))
    session.execute(delete(CaseShare).where(CaseShare.case_id == case.id))
    session.execute(delete(Case).where(Case.id == case.id))
    outbox.forget_mentions(session, code)  # messages about it not yet sent are not sent
    session.execute(update(AuditEntry).where(AuditEntry.case_code == code).values(case_code=None, detail=None))
    unique_roots = tuple(dict.fromkeys(roots))
    return ForgottenCase(code=code, checkins=checkins, flags=len(flag_ids), thread_roots=unique_roots)


def forget_case(session: Session, actor: Actor, code: str, now: datetime) -> ForgottenCase:
    """Delete the case if `actor` may, leaving one audit entry."""
    case = _case_to_forget(session, actor, code)
    forgotten = delete_case_records(session, case)
    audit.record(session, actor.user_id, FORGET_ACTION, now, case_code=forgotten.code)
    return forgotten
