"""What App Home shows: a therapist's cases, a supervisor's open flags and silent cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.cases import CaseStatus, thread_names
from bot.settings import Settings
from bot.store.models import Case, CaseShare, Checkin, Flag
from bot.usecases.config import thresholds_in_force
from bot.usecases.silence import silent_cases, zone_lookup

HOME_PAGE_SIZE = 20
TREND_LENGTH = 8
OVERVIEW_LIMIT = 15


@dataclass(frozen=True)
class CaseRow:
    code: str
    kind: str
    status: str
    last_checkin_at: datetime | None
    open_flags: int
    trends: tuple[tuple[str, tuple[int | None, ...]], ...]
    # Each member's own session ratings (client totals of 40) beside the therapist's, where any exist.
    client_trends: tuple[tuple[str, tuple[int | None, ...]], ...] = ()


@dataclass(frozen=True)
class CasePage:
    rows: tuple[CaseRow, ...]
    page: int
    pages: int
    total: int


@dataclass(frozen=True)
class FlagRow:
    flag_id: int
    code: str
    rule: str
    status: str
    owner_id: str
    opened_at: datetime
    reply_count: int
    channel_id: str | None
    message_ts: str | None


@dataclass(frozen=True)
class TeamOverview:
    open_flags: tuple[FlagRow, ...]
    open_total: int
    silent: tuple[tuple[str, str, datetime | None], ...]  # code, owner, last check-in
    silent_total: int


def therapist_cases(session: Session, user_id: str, page: int) -> CasePage:
    """One page of the therapist's active and paused cases; trends only for that page."""
    shared = select(CaseShare.case_id).where(CaseShare.user_id == user_id)
    mine = (Case.owner_id == user_id) | Case.id.in_(shared)
    condition = mine & Case.status.in_((CaseStatus.ACTIVE.value, CaseStatus.PAUSED.value))
    total = session.scalar(select(func.count()).select_from(Case).where(condition)) or 0
    pages = max(1, -(-total // HOME_PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    cases = list(session.scalars(
        select(Case).where(condition)
        .order_by(Case.status, Case.last_checkin_at.desc().nulls_last(), Case.code)
        .offset(page * HOME_PAGE_SIZE).limit(HOME_PAGE_SIZE)
    ))
    ids = [c.id for c in cases]
    open_counts = dict(session.execute(
        select(Flag.case_id, func.count()).where(Flag.case_id.in_(ids), Flag.open_slot.is_not(None)).group_by(Flag.case_id)
    ).all()) if ids else {}
    rows = []
    for case in cases:
        recent = list(reversed(session.execute(
            select(Checkin.ratings, Checkin.client_scores)
            .where(Checkin.case_id == case.id, Checkin.attendance == "attended")
            .order_by(Checkin.session_number.desc(), Checkin.id.desc()).limit(TREND_LENGTH)
        ).all()))
        threads = thread_names(list(case.member_labels))
        trends = tuple((t, tuple(ratings.get(t) for ratings, _ in recent)) for t in threads)
        client_totals = [(m, tuple((c or {}).get(m) for _, c in recent)) for m in case.member_labels]
        clients = tuple((m, totals) for m, totals in client_totals if any(v is not None for v in totals))
        rows.append(CaseRow(code=case.code, kind=case.kind, status=case.status, last_checkin_at=case.last_checkin_at,
                            open_flags=int(open_counts.get(case.id, 0)), trends=trends, client_trends=clients))
    return CasePage(rows=tuple(rows), page=page, pages=pages, total=total)


def team_overview(session: Session, now: datetime, settings: Settings) -> TeamOverview:
    open_filter = Flag.open_slot.is_not(None)
    open_total = session.scalar(select(func.count()).select_from(Flag).where(open_filter)) or 0
    flags = session.execute(
        select(Flag, Case.code, Case.owner_id).join(Case, Case.id == Flag.case_id)
        .where(open_filter).order_by(Flag.opened_at, Flag.id).limit(OVERVIEW_LIMIT)
    ).all()
    # Counted as the reminder and the digest count it: away days excluded, at silent_digest_days.
    found = silent_cases(session, now, thresholds_in_force(session).silent_digest_days, zone_lookup(session, settings))
    silent_total = len(found)
    silent = [(s.code, s.owner_id, s.last_checkin_at) for s in found[:OVERVIEW_LIMIT]]
    return TeamOverview(
        open_flags=tuple(FlagRow(flag_id=f.id, code=code, rule=f.rule, status=f.status, owner_id=owner,
                                 opened_at=f.opened_at, reply_count=f.reply_count, channel_id=f.channel_id,
                                 message_ts=f.message_ts) for f, code, owner in flags),
        open_total=open_total,
        silent=tuple((code, owner, last) for code, owner, last in silent),
        silent_total=silent_total,
    )
