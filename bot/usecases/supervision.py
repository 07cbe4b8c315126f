"""A supervisor's view (issue 14, item 5): the team grouped by therapist, and this
week's supervision agenda. Bounded reads: at most TEAM_CASES cases, each with a
short trend; plain data out (the Slack layer renders it and asks for permalinks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.cases import CaseStatus
from bot.domain.checkins import Attendance
from bot.domain.messages import MessageRef
from bot.domain.rules import SERIOUS, Rule
from bot.store.models import Case, Checkin, Flag, RepairPlan
from bot.usecases.flag_actions import plan_label
from bot.usecases.flags import rule_title

TEAM_CASES = 40  # cases the team view lists (App Home stays under Slack's 100 blocks)
TREND_LENGTH = 8
AGENDA_ITEMS = 15  # per section
SILENCE_RULE = Rule.NO_RECENT_CHECKIN.value


@dataclass(frozen=True)
class TeamCase:
    code: str
    kind: str
    open_flags: int
    silent: bool
    last_checkin_at: datetime | None
    trend: tuple[float | None, ...]  # each session's mean rating, oldest first
    thread: MessageRef | None  # its newest open warning in the supervision channel


@dataclass(frozen=True)
class TherapistTeam:
    user_id: str
    cases: tuple[TeamCase, ...]

    @property
    def open_flags(self) -> int:
        return sum(c.open_flags for c in self.cases)

    @property
    def silent(self) -> int:
        return sum(1 for c in self.cases if c.silent)


@dataclass(frozen=True)
class Team:
    therapists: tuple[TherapistTeam, ...]
    total_cases: int  # active cases in all; more than listed when over TEAM_CASES


def _mean(ratings: dict[str, int | None]) -> float | None:
    values = [v for v in ratings.values() if v is not None]
    return sum(values) / len(values) if values else None


def team_by_therapist(session: Session, supervision_channel: str | None) -> Team:
    """Active cases grouped by their lead: open warnings, silence (an open *No recent
    check-in* flag, as the daily scan keeps it), a trend, and the supervision thread."""
    active = Case.status == CaseStatus.ACTIVE.value
    total = session.scalar(select(func.count()).select_from(Case).where(active)) or 0
    cases = list(session.scalars(select(Case).where(active).order_by(Case.owner_id, Case.code).limit(TEAM_CASES)))
    ids = [c.id for c in cases]
    flags = list(session.scalars(select(Flag).where(Flag.case_id.in_(ids), Flag.open_slot.is_not(None))
                                 .order_by(Flag.opened_at.desc(), Flag.id.desc()))) if ids else []
    grouped: dict[str, list[TeamCase]] = {}
    for case in cases:
        own = [f for f in flags if f.case_id == case.id]
        thread = next((MessageRef(f.channel_id, f.message_ts) for f in own
                       if f.channel_id and f.message_ts and f.channel_id[:1] in ("C", "G")
                       and (supervision_channel is None or f.channel_id == supervision_channel)), None)
        rows = session.scalars(select(Checkin.ratings).where(
            Checkin.case_id == case.id, Checkin.attendance == Attendance.ATTENDED.value)
            .order_by(Checkin.session_number.desc()).limit(TREND_LENGTH))
        trend = tuple(reversed([_mean(dict(r)) for r in rows]))
        grouped.setdefault(case.owner_id, []).append(TeamCase(
            code=case.code, kind=case.kind, open_flags=sum(1 for f in own if f.rule != SILENCE_RULE),
            silent=any(f.rule == SILENCE_RULE for f in own), last_checkin_at=case.last_checkin_at, trend=trend,
            thread=thread))
    return Team(tuple(TherapistTeam(owner, tuple(rows)) for owner, rows in grouped.items()), total)


@dataclass(frozen=True)
class AgendaWarning:
    code: str
    owner_id: str
    rule: str
    opened_at: datetime
    thread: MessageRef | None


@dataclass(frozen=True)
class AgendaPlan:
    code: str
    owner_id: str
    action: str
    due_on: date | None


@dataclass(frozen=True)
class Agenda:
    week_of: date
    serious: tuple[AgendaWarning, ...]  # open serious warnings, oldest first
    newly_silent: tuple[tuple[str, str, datetime], ...]  # code, lead, silent since (this week)
    plans_due: tuple[AgendaPlan, ...]  # repair plans due by the end of the week (or overdue), open flags only

    def __bool__(self) -> bool:
        return bool(self.serious or self.newly_silent or self.plans_due)


def supervision_agenda(session: Session, now: datetime, today: date) -> Agenda:
    """What to bring to this week's supervision."""
    monday = today - timedelta(days=today.weekday())
    serious = session.execute(
        select(Flag, Case.code, Case.owner_id).join(Case, Case.id == Flag.case_id)
        .where(Flag.open_slot.is_not(None), Flag.severity >= int(SERIOUS), Flag.rule != SILENCE_RULE)
        .order_by(Flag.opened_at, Flag.id).limit(AGENDA_ITEMS)).all()
    silent = session.execute(
        select(Case.code, Case.owner_id, Flag.opened_at).join(Case, Case.id == Flag.case_id)
        .where(Flag.open_slot.is_not(None), Flag.rule == SILENCE_RULE, Flag.opened_at >= now - timedelta(days=7))
        .order_by(Flag.opened_at, Case.code).limit(AGENDA_ITEMS)).all()
    plans = session.execute(
        select(RepairPlan.action, RepairPlan.due_on, Case.code, Case.owner_id)
        .join(Flag, Flag.id == RepairPlan.flag_id).join(Case, Case.id == Flag.case_id)
        .where(Flag.open_slot.is_not(None), RepairPlan.due_on.is_not(None),
               RepairPlan.due_on <= monday + timedelta(days=6))
        .order_by(RepairPlan.due_on, Case.code).limit(AGENDA_ITEMS)).all()
    return Agenda(
        week_of=monday,
        serious=tuple(AgendaWarning(code, owner, rule_title(flag.rule), flag.opened_at,
                                    MessageRef(flag.channel_id, flag.message_ts)
                                    if flag.channel_id and flag.message_ts else None)
                      for flag, code, owner in serious),
        newly_silent=tuple((code, owner, opened) for code, owner, opened in silent),
        plans_due=tuple(AgendaPlan(code, owner, plan_label(action), due) for action, due, code, owner in plans),
    )
