"""The weekly digest (SPEC §7) for the supervision channel: the week's counts,
open flags oldest first with links to their threads, cases silent too long,
and a chart of the flagged cases' trends.

*No recent check-in* flags have no thread: they are shown as the silent-cases
section (at `silent_digest_days`), not among the flags or their counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Sequence
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.models.blocks import HeaderBlock
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.cases import CaseStatus
from bot.domain.messages import MessageRef
from bot.domain.schedule import DIGEST_WEEKLY, Weekly, days_between, previous_moment
from bot.domain.checkins import Attendance
from bot.store.models import Case, Checkin, Flag
from bot.slack.charts import ThreadLine, lowest_and_highest
from bot.slack.permalinks import permalink
from bot.jobs.silence import SILENCE_RULE, SilentCase, silent_cases
from bot.jobs.workspace import load_thresholds, zone_lookup
from bot.domain.wording import day_range
from bot.domain.audience import Audience, relabel_keys
from bot.domain.rules import Route, Rule
from bot.settings import Settings
from bot.slack.blocks import fallback, text_blocks
from bot.slack.templating import link, render
from bot.usecases.checkins import recent_checkins
from bot.usecases.flags import rule_title
from bot.usecases.weekly_summary import improved_codes

NOTICE_ROUTE = Route.SUMMARY.value  # notices wait for the therapist's weekly summary (SPEC §5)


DIGEST_GRACE = timedelta(hours=24)
OPEN_STATUSES = ("open", "discussing")
MAX_FLAGS_LISTED = 25
MAX_SILENT_LISTED = 25
MAX_IMPROVED_LISTED = 25
MAX_CHART_CASES = 8
CHART_CHECKINS = 12


@dataclass(frozen=True)
class OpenFlag:
    flag_id: int
    case_id: int
    code: str
    rule: str
    status: str
    owner_id: str
    age_days: int
    channel_id: str | None
    message_ts: str | None


@dataclass(frozen=True)
class DigestData:
    week: str
    since: datetime
    until: datetime
    active_cases: int
    checkins: int
    new_flags: int
    open_flags: int
    resolved_flags: int
    flags: tuple[OpenFlag, ...]  # oldest first
    silent: tuple[SilentCase, ...]  # longest silence first
    silent_days: int
    low_alliance: int
    trends: tuple[ThreadLine, ...]
    missed: int = 0  # sessions recorded as cancelled or no-show this week (issue 14)
    improved: tuple[str, ...] = ()  # codes of active cases logged this week that improved reliably
    # case id -> its latest session as the therapist and the clients rated it (issue 16), letters only
    views: tuple[tuple[int, str], ...] = ()


def _count(session: Session, query: Any) -> int:
    return int(session.scalar(query) or 0)


def gather_digest(session: Session, settings: Settings, now: datetime, moment: datetime, zone: ZoneInfo,
                  week: str, weekly: Weekly = DIGEST_WEEKLY) -> DigestData:
    since = previous_moment(moment, weekly, zone)
    limits = load_thresholds(session)
    rows = session.execute(
        select(Flag, Case.code, Case.owner_id).join(Case, Case.id == Flag.case_id)
        .where(Flag.status.in_(OPEN_STATUSES), Flag.rule != SILENCE_RULE, Flag.route != NOTICE_ROUTE)
        .order_by(Flag.opened_at, Flag.id)
    ).all()
    flags = tuple(
        OpenFlag(flag_id=flag.id, case_id=flag.case_id, code=code, rule=flag.rule, status=flag.status,
                 owner_id=owner_id,
                 age_days=days_between(flag.opened_at, now), channel_id=flag.channel_id, message_ts=flag.message_ts)
        for flag, code, owner_id in rows)
    silent = tuple(silent_cases(session, now, limits.silent_digest_days, zone_lookup(session, settings)))
    return DigestData(
        week=week, since=since, until=moment,
        active_cases=_count(session, select(func.count()).select_from(Case).where(Case.status == CaseStatus.ACTIVE.value)),
        checkins=_count(session, select(func.count()).select_from(Checkin)
                        .where(Checkin.created_at >= since, Checkin.created_at < moment,
                               Checkin.attendance == Attendance.ATTENDED.value)),
        missed=_count(session, select(func.count()).select_from(Checkin)
                      .where(Checkin.created_at >= since, Checkin.created_at < moment,
                             Checkin.attendance != Attendance.ATTENDED.value)),
        new_flags=_count(session, select(func.count()).select_from(Flag)
                         .where(Flag.opened_at >= since, Flag.opened_at < moment, Flag.rule != SILENCE_RULE,
                                Flag.route != NOTICE_ROUTE)),
        open_flags=len(flags),
        resolved_flags=_count(session, select(func.count()).select_from(Flag)
                              .where(Flag.resolved_at >= since, Flag.resolved_at < moment,
                                     Flag.rule != SILENCE_RULE)),
        flags=flags, silent=silent, silent_days=limits.silent_digest_days, low_alliance=limits.low_alliance,
        trends=flagged_trends(session, flags),
        views=tuple(side_by_side(session, flags)),
        improved=tuple(improved_codes(session, session.scalars(
            select(Checkin.case_id).join(Case, Case.id == Checkin.case_id)
            .where(Checkin.created_at >= since, Checkin.created_at < moment,
                   Case.status == CaseStatus.ACTIVE.value).distinct()))),
    )


def flagged_trends(session: Session, flags: Sequence[OpenFlag]) -> tuple[ThreadLine, ...]:
    """Each flagged case's lowest and highest thread over its latest check-ins, by
    session number (oldest flags first; no dates: the channel sees no session dates)."""
    lines: list[ThreadLine] = []
    seen: list[int] = []
    for flag in flags:
        if flag.case_id in seen or len(seen) >= MAX_CHART_CASES:
            continue
        seen.append(flag.case_id)
        points = [(c.session_number, dict(c.ratings or {})) for c in recent_checkins(session, flag.case_id, CHART_CHECKINS)]
        lines += lowest_and_highest(flag.code, points, group=len(seen) - 1)
    return tuple(lines)


def side_by_side(session: Session, flags: Sequence[OpenFlag]) -> list[tuple[int, str]]:
    """For each flagged case, its latest session as the therapist rated it (lowest and
    highest thread) and, where collected, as each member rated it (client totals of 40),
    by position letter: the channel never sees a custom label."""
    views: list[tuple[int, str]] = []
    for case_id in dict.fromkeys(f.case_id for f in flags):
        labels = list(session.scalar(select(Case.member_labels).where(Case.id == case_id)) or ())
        latest = session.execute(
            select(Checkin.ratings, Checkin.client_scores)
            .where(Checkin.case_id == case_id, Checkin.attendance == Attendance.ATTENDED.value)
            .order_by(Checkin.session_number.desc(), Checkin.id.desc()).limit(1)).first()
        if latest is None:
            continue
        ratings = [int(v) for v in (latest.ratings or {}).values() if v is not None]
        if not ratings:
            continue
        low, high = min(ratings), max(ratings)
        view = f"therapist {low}" if low == high else f"therapist {low}–{high}"
        totals = relabel_keys(latest.client_scores or {}, labels, Audience.OTHERS)
        if totals:
            view += " · clients " + ", ".join(f"{m} {totals[m]}/40" for m in sorted(totals))
        views.append((case_id, view))
    return views


def thread_links(client: WebClient, flags: Sequence[OpenFlag], channel: str) -> dict[int, str]:
    """Permalinks to the listed flags' threads in the supervision `channel` (the
    only ones a supervisor can open: never a therapist's DM); a flag whose link
    Slack will not give is listed without one."""
    links: dict[int, str] = {}
    for flag in flags:
        if not (flag.channel_id and flag.message_ts) or flag.channel_id != channel:
            continue
        url = permalink(client, MessageRef(flag.channel_id, flag.message_ts), "a flag thread")
        if url is not None:
            links[flag.flag_id] = url
    return links


def case_lines(flags: Sequence[OpenFlag], links: dict[int, str],
               views: dict[int, str] | None = None) -> list[dict[str, Any]]:
    """One line per case (issue 13 item 9), in the order of its oldest open flag:
    its rules, the age of the oldest, whether any is in discussion, and one link to
    the case's supervision thread when it has one. Nobody is mentioned."""
    by_case: dict[int, list[OpenFlag]] = {}
    for flag in flags:
        by_case.setdefault(flag.case_id, []).append(flag)
    lines = []
    for case_flags in by_case.values():
        linked = next((links[f.flag_id] for f in case_flags if f.flag_id in links), None)
        age = max(f.age_days for f in case_flags)
        lines.append({"code": case_flags[0].code, "rules": ", ".join(dict.fromkeys(rule_title(f.rule) for f in case_flags)),
                      "age": age, "discussing": any(f.status == "discussing" for f in case_flags),
                      "link": link(linked, "thread") if linked else None,
                      "view": (views or {}).get(case_flags[0].case_id)})
    return lines


def digest_text(data: DigestData, links: dict[int, str], zone: ZoneInfo) -> str:
    # The seven local days before the digest's day: `Mon 22 Feb – Sun 28 Feb`, never eight.
    last_day = data.until.astimezone(zone).date() - timedelta(days=1)

    flags = case_lines(data.flags, links, dict(data.views))[:MAX_FLAGS_LISTED]
    silent = [{"code": s.code, "days": s.days, "never": s.never_logged}
              for s in data.silent[:MAX_SILENT_LISTED]]
    return render("messages/digest.j2", week=day_range(last_day - timedelta(days=6), last_day), data=data,
                  flags=flags, more_flags=max(len(case_lines(data.flags, links)) - MAX_FLAGS_LISTED, 0),
                  silent=silent, more_silent=max(len(data.silent) - MAX_SILENT_LISTED, 0),
                  chart=bool(data.trends), improved=list(data.improved[:MAX_IMPROVED_LISTED]),
                  more_improved=max(len(data.improved) - MAX_IMPROVED_LISTED, 0))


def digest_message(data: DigestData, links: dict[int, str], zone: ZoneInfo) -> tuple[str, list[dict[str, Any]]]:
    text = digest_text(data, links, zone)
    blocks = [HeaderBlock(text="Alliance weekly digest").to_dict()] + text_blocks(text)
    return fallback(text), blocks
