"""Cases: create, find with access checks, list, change status, share."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.access import Actor, CaseAccess, Permission, check_case, not_among_yours
from bot.domain.cases import (
    CaseKind,
    CaseStatus,
    default_member_labels,
    generate_case_code,
    thread_names,
)
from bot.domain.audience import label_problem
from bot.domain.errors import NotFound, UserError
from bot.domain.phi import check_free_text
from bot.store.models import Case, CaseShare, Flag, RatingLink
from bot.store.transaction_info import transaction_key
from bot.usecases import audit
from bot.usecases.therapists import ensure_therapist_row

CODE_ATTEMPTS = 20


@dataclass(frozen=True)
class CaseSummary:
    code: str
    kind: str
    status: str
    threads: tuple[str, ...]
    owner_id: str
    last_checkin_at: datetime | None
    open_flags: int


def case_access(case: Case) -> CaseAccess:
    return CaseAccess(owner_id=case.owner_id, shared_with=frozenset(s.user_id for s in case.shares))


def case_threads(case: Case) -> list[str]:
    return thread_names(list(case.member_labels))


def not_found(code: str) -> NotFound:
    return NotFound(not_among_yours(code))


def load_case(session: Session, code: str) -> Case | None:
    return session.scalar(select(Case).where(Case.code == code))


LOCKED_CASES = transaction_key("alliance.locked_cases")  # session.info: the cases (by id) whose rows this transaction holds locked


@functools.cache
def _case_by_code(lock: bool) -> Select[Case]:
    """`find_case`'s query, built once (building and keying a statement costs more than
    many a run of it): the case by its code, locked or not. Its shares are read only
    when asked for (most requests come from the case's own therapist)."""
    query = select(Case).where(Case.code == bindparam("code"))
    return query.with_for_update(of=Case) if lock else query


def find_case(session: Session, actor: Actor, code: str, action: Permission, now: datetime | None = None,
              lock: bool = False) -> Case:
    """The case, if `actor` may do `action` on it; the same refusal whether it is
    missing or someone else's, so codes cannot be probed. One query: the shares the
    check needs come with the case. With `lock`, the case row is locked for the rest
    of the transaction (where the database locks rows) and the session remembers it
    (`case_locked`), so what follows need not lock it again."""
    case = session.scalars(_case_by_code(lock), {"code": code}).one_or_none()
    if case is not None and lock:
        session.info.setdefault(LOCKED_CASES, {})[case.id] = case  # held: the identity map holds a clean object weakly
    if case is None:
        raise not_found(code)
    # The owner is the case's therapist whoever it is shared with: its shares are not read for them.
    access = CaseAccess(owner_id=case.owner_id) if actor.user_id == case.owner_id else case_access(case)
    check_case(actor, action, access, code)
    if now is not None and action is Permission.VIEW_CASE and not access.is_therapist(actor.user_id):
        audit.record(session, actor.user_id, "read_case", now, case_code=code)
    return case


def case_locked(session: Session, case_id: int) -> Case | None:
    """The case, when this transaction already holds its row locked (find_case with
    `lock`): from the session, without a query."""
    locked: Case | None = session.info.get(LOCKED_CASES, {}).get(case_id)
    return locked


def validate_labels(labels: tuple[str, ...]) -> list[str]:
    cleaned = [label.strip() for label in labels]
    for position, label in enumerate(cleaned, start=1):
        refusal = check_free_text("member label", label)
        if refusal:
            raise UserError(refusal)
        problem = label_problem(position, label)  # short tokens only (issue 12)
        if problem:
            raise UserError(problem)
        if label.lower() in ("unit", "collective"):
            raise UserError(f"`{label}` is the name of a thread; pick another member label.")
    if len({label.lower() for label in cleaned}) != len(cleaned):
        raise UserError("Member labels must differ from each other.")
    return cleaned


def create_case(session: Session, actor: Actor, kind: CaseKind, members: int, labels: tuple[str, ...], now: datetime,
                cadence_weeks: int = 1) -> Case:
    member_labels = validate_labels(labels) if labels else default_member_labels(members)
    ensure_therapist_row(session, actor.user_id, now)
    for _ in range(CODE_ATTEMPTS):
        code = generate_case_code(kind)
        if load_case(session, code) is not None:
            continue
        case = Case(code=code, kind=kind.value, member_labels=member_labels, owner_id=actor.user_id,
                    status=CaseStatus.ACTIVE.value, created_at=now, cadence_weeks=cadence_weeks,
                    cadence_anchor=now.date())
        try:
            with session.begin_nested():
                session.add(case)
                session.flush()
        except IntegrityError:
            continue
        audit.record(session, actor.user_id, "create_case", now, case_code=code)
        return case
    raise UserError("Could not find a free case code; try again.")


def summarize(session: Session, cases: list[Case]) -> list[CaseSummary]:
    ids = [case.id for case in cases]
    open_counts: dict[int, int] = {}
    if ids:
        rows = session.execute(
            select(Flag.case_id, func.count()).where(Flag.case_id.in_(ids), Flag.open_slot.is_not(None)).group_by(Flag.case_id)
        )
        open_counts = {case_id: count for case_id, count in rows}
    return [
        CaseSummary(code=c.code, kind=c.kind, status=c.status, threads=tuple(case_threads(c)), owner_id=c.owner_id,
                    last_checkin_at=c.last_checkin_at, open_flags=open_counts.get(c.id, 0))
        for c in cases
    ]


def my_cases(session: Session, user_id: str, statuses: tuple[str, ...] = (CaseStatus.ACTIVE.value, CaseStatus.PAUSED.value)) -> list[Case]:
    shared = select(CaseShare.case_id).where(CaseShare.user_id == user_id)
    query = (
        select(Case)
        .where(or_(Case.owner_id == user_id, Case.id.in_(shared)), Case.status.in_(statuses))
        .order_by(Case.status, Case.code)
    )
    return list(session.scalars(query))


STATUS_CHANGES = {
    "pause": ({CaseStatus.ACTIVE.value}, CaseStatus.PAUSED.value),
    "close": ({CaseStatus.ACTIVE.value, CaseStatus.PAUSED.value}, CaseStatus.CLOSED.value),
    "reopen": ({CaseStatus.PAUSED.value, CaseStatus.CLOSED.value}, CaseStatus.ACTIVE.value),
}


def change_status(session: Session, actor: Actor, code: str, action: str, now: datetime) -> Case:
    case = find_case(session, actor, code, Permission.LEAD_CASE)  # the lead's, or an admin's (issue 14)
    allowed_from, target = STATUS_CHANGES[action]
    if case.status == target:
        raise UserError(f"{code} is already {target}.")
    if case.status not in allowed_from:
        raise UserError(f"{code} is {case.status}; it cannot be {action}d from there.")
    case.status = target
    case.closed_at = now if target == CaseStatus.CLOSED.value else None
    if target == CaseStatus.CLOSED.value:  # a client's rating link dies with the case (issue 16)
        session.execute(delete(RatingLink).where(RatingLink.case_id == case.id))
    audit.record(session, actor.user_id, f"{action}_case", now, case_code=code)
    return case


def share_case(session: Session, actor: Actor, code: str, user_id: str, now: datetime) -> Case:
    case = find_case(session, actor, code, Permission.MANAGE_CASE)
    if user_id == case.owner_id or user_id in {s.user_id for s in case.shares}:
        raise UserError(f"<@{user_id}> already works on {code}.")
    case.shares.append(CaseShare(user_id=user_id, added_by=actor.user_id, added_at=now))
    ensure_therapist_row(session, user_id, now)
    audit.record(session, actor.user_id, "share_case", now, case_code=code, detail=f"with {user_id}")
    return case
