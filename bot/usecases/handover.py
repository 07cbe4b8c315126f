"""Handing a case over (issue 14, item 4): `/alliance transfer CASE @to` (the lead
or an admin) and `/alliance transfer all @from @to` (an admin, for a leaver).

The new lead owns the case from then on: reminders, DM warnings and the lead's
rights are theirs. The old lead loses access (a leaver's cases leave with them);
they can be shared back. The case's open warnings move too: a warning posted to
the old lead's DM is posted again to the new lead's (see `MovedWarning`), and one
in the supervision channel stays where it is, its heading naming the new lead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.access import Actor, Permission
from bot.domain.errors import Forbidden, UserError
from bot.domain.messages import MessageRef
from bot.store.models import Case, Flag
from bot.usecases import audit
from bot.usecases import flags as flags_uc
from bot.usecases.cases import find_case
from bot.usecases.therapists import ensure_therapist


@dataclass(frozen=True)
class MovedWarning:
    """An open warning to show again: `old` is its root in the old lead's DM (to be
    posted anew to the new lead's), or None for one that stays in the channel."""

    flag_ids: tuple[int, ...]
    old: MessageRef | None


@dataclass(frozen=True)
class Handover:
    codes: tuple[str, ...]
    from_user: str
    to_user: str
    warnings: tuple[MovedWarning, ...]


def _move(session: Session, actor: Actor, case: Case, to_user: str, now: datetime) -> list[MovedWarning]:
    old_owner = case.owner_id
    if to_user == old_owner:
        raise UserError(f"<@{to_user}> already leads {case.code}.")
    for share in list(case.shares):
        if share.user_id == to_user:
            case.shares.remove(share)  # the co-therapist becomes the lead
    ensure_therapist(session, to_user, now)
    case.owner_id = to_user
    audit.record(session, actor.user_id, "transfer_case", now, case_code=case.code,
                 detail=f"from {old_owner} to {to_user}")
    open_flags = session.scalars(select(Flag).where(Flag.case_id == case.id, Flag.open_slot.is_not(None))
                                 .order_by(Flag.id))
    groups: dict[tuple[str, str] | None, list[Flag]] = {}
    for flag in open_flags:
        root = flags_uc.warning_root(flag)  # delivered, or still queued in the outbox
        if root is not None:
            groups.setdefault((root.channel_id, root.message_ts), []).append(flag)
    moved = []
    for where, flags in groups.items():
        assert where is not None
        in_dm = where[0][:1] in ("D", "U")  # a DM root (also a channel warning that fell back to the DM)
        moved.append(MovedWarning(tuple(f.id for f in flags), MessageRef(*where) if in_dm else None))
    return moved


def transfer_case(session: Session, actor: Actor, code: str, to_user: str, now: datetime) -> Handover:
    case = find_case(session, actor, code, Permission.LEAD_CASE)
    old_owner = case.owner_id
    moved = _move(session, actor, case, to_user, now)
    session.flush()
    return Handover((case.code,), old_owner, to_user, tuple(moved))


def transfer_all(session: Session, actor: Actor, from_user: str, to_user: str, now: datetime) -> Handover:
    """Every case `from_user` leads (active, paused or closed) goes to `to_user`."""
    if not actor.is_admin:
        raise Forbidden("Only Alliance admins can hand over a whole caseload.")
    if from_user == to_user:
        raise UserError("Name two different people: the one leaving, then the one taking over.")
    cases = list(session.scalars(select(Case).where(Case.owner_id == from_user).order_by(Case.code)))
    if not cases:
        raise UserError(f"<@{from_user}> leads no cases.")
    moved: list[MovedWarning] = []
    for case in cases:
        moved += _move(session, actor, case, to_user, now)
    session.flush()
    return Handover(tuple(c.code for c in cases), from_user, to_user, tuple(moved))
