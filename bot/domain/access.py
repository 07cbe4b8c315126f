"""Who may do what (SPEC §2), decided in one place."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.errors import Forbidden


class Action(StrEnum):
    VIEW_CASE = "view_case"
    LOG_CHECKIN = "log_checkin"
    MANAGE_CASE = "manage_case"  # share, pause, close, reopen
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


def allowed(actor: Actor, action: Action, case: CaseAccess | None = None) -> bool:
    therapist = case is not None and case.is_therapist(actor.user_id)
    if action in (Action.LOG_CHECKIN, Action.MANAGE_CASE):
        return therapist
    if action is Action.VIEW_CASE:
        return therapist or actor.is_supervisor or actor.is_admin
    if action is Action.HANDLE_FLAG:
        return therapist or actor.is_supervisor or actor.is_admin
    if action is Action.FORGET_CASE:
        return (case is not None and actor.user_id == case.owner_id) or actor.is_admin
    if action is Action.CHANGE_CONFIG:
        return actor.is_admin
    if action in (Action.EXPORT, Action.TEAM_OVERVIEW):
        return actor.is_supervisor or actor.is_admin
    return False


REFUSALS = {
    Action.CHANGE_CONFIG: "Only Alliance admins can change the configuration.",
    Action.EXPORT: "Only supervisors and admins can export.",
    Action.TEAM_OVERVIEW: "Only supervisors and admins see the team overview.",
    Action.FORGET_CASE: "Only the case's therapist or an admin can forget a case.",
    Action.HANDLE_FLAG: "Only the case's therapists, supervisors and admins can act on this warning.",
}


def require(actor: Actor, action: Action, case: CaseAccess | None = None, code: str | None = None) -> None:
    if allowed(actor, action, case):
        return
    if action in REFUSALS:
        raise Forbidden(REFUSALS[action])
    raise Forbidden(f"{code or 'That case'} is not among your cases. Check the code, or ask its therapist to share it.")
