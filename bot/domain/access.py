"""Who may do what (SPEC §2), decided in one place."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.errors import Forbidden, NotFound


class Permission(StrEnum):
    VIEW_CASE = "view_case"
    LOG_CHECKIN = "log_checkin"
    MANAGE_CASE = "manage_case"  # share, cadence
    LEAD_CASE = "lead_case"  # pause, close, reopen, transfer: the case's lead (its owner) or an admin (issue 14)
    FORGET_CASE = "forget_case"
    HANDLE_FLAG = "handle_flag"  # acknowledge, plan repair, resolve
    CHANGE_CONFIG = "change_config"
    EXPORT = "export"
    TEAM_OVERVIEW = "team_overview"


@dataclass(frozen=True)
class Actor:
    user_id: str
    is_supervisor: bool = False
    is_admin: bool = False


@dataclass(frozen=True)
class CaseAccess:
    """The people attached to one case."""

    owner_id: str
    shared_with: frozenset[str] = frozenset()

    def is_therapist(self, user_id: str) -> bool:
        return user_id == self.owner_id or user_id in self.shared_with


def allowed(actor: Actor, action: Permission, case: CaseAccess | None = None) -> bool:
    therapist = case is not None and case.is_therapist(actor.user_id)
    if action in (Permission.LOG_CHECKIN, Permission.MANAGE_CASE):
        return therapist
    if action is Permission.VIEW_CASE:
        return therapist or actor.is_supervisor or actor.is_admin
    if action is Permission.HANDLE_FLAG:
        return therapist or actor.is_supervisor or actor.is_admin
    if action in (Permission.FORGET_CASE, Permission.LEAD_CASE):
        return (case is not None and actor.user_id == case.owner_id) or actor.is_admin
    if action is Permission.CHANGE_CONFIG:
        return actor.is_admin
    if action in (Permission.EXPORT, Permission.TEAM_OVERVIEW):
        return actor.is_supervisor or actor.is_admin
    return False


REFUSALS = {
    Permission.CHANGE_CONFIG: "Only Alliance admins can change the configuration.",
    Permission.EXPORT: "Only supervisors and admins can export.",
    Permission.TEAM_OVERVIEW: "Only supervisors and admins see the team overview.",
    Permission.FORGET_CASE: "Only the case's therapist or an admin can forget a case.",
    Permission.LEAD_CASE: "Only the case's lead therapist or an admin can pause, close, reopen or transfer it.",
    Permission.HANDLE_FLAG: "Only the case's therapists, supervisors and admins can act on this warning.",
}


def not_among_yours(code: str | None) -> str:
    return f"{code or 'That case'} is not among your cases. Check the code, or ask its therapist to share it."


def require(actor: Actor, action: Permission, case: CaseAccess | None = None, code: str | None = None) -> None:
    if allowed(actor, action, case):
        return
    if action in REFUSALS:
        raise Forbidden(REFUSALS[action])
    raise Forbidden(not_among_yours(code))


def may_know_of(actor: Actor, action: Permission, case: CaseAccess) -> bool:
    """Whether asking to do `action` may reveal that the case exists. Its therapists
    always; supervisors and admins when viewing, admins when forgetting; a warning's
    presser has seen its code already. Anyone else hears what a missing code gets,
    so codes cannot be probed."""
    if case.is_therapist(actor.user_id):
        return True
    if action is Permission.VIEW_CASE:
        return actor.is_supervisor or actor.is_admin
    if action in (Permission.FORGET_CASE, Permission.LEAD_CASE):
        return actor.is_admin
    return action is Permission.HANDLE_FLAG


def check_case(actor: Actor, action: Permission, case: CaseAccess, code: str) -> None:
    """Raise NotFound (as for a missing code) or Forbidden unless `actor` may do `action` on the case."""
    if not may_know_of(actor, action, case):
        raise NotFound(not_among_yours(code))
    require(actor, action, case, code)
