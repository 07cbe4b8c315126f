"""The weekly digest (SPEC §7) for the supervision channel: the week's counts,
open flags oldest first with links to their threads, cases silent too long,
and a chart of the flagged cases' trends.

*No recent check-in* flags have no thread: they are shown as the silent-cases
section (at `silent_digest_days`), not among the flags or their counts."""

from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Sequence
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import HeaderBlock
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.cases import CaseStatus
from bot.domain.schedule import DIGEST_WEEKLY, Weekly, days_between, previous_moment
from bot.domain.checkins import Attendance
from bot.store.models import Case, Checkin, Flag
from bot.slack.charts import CaseTrend
from bot.jobs.silence import SILENCE_RULE, SilentCase, silent_cases
from bot.jobs.workspace import load_thresholds, zone_lookup
from bot.domain.wording import day_range
from bot.domain.rules import Route, Rule
from bot.settings import Settings
from bot.slack.blocks import fallback, text_blocks
from bot.slack.templating import link, mention, render
from bot.usecases.checkins import recent_checkins
from bot.usecases.flags import rule_title

NOTICE_ROUTE = Route.SUMMARY.value  # notices wait for the therapist's weekly summary (SPEC §5)

logger = logging.getLogger(__name__)

DIGEST_GRACE = timedelta(hours=24)
OPEN_STATUSES = ("open", "discussing")
MAX_FLAGS_LISTED = 25
MAX_SILENT_LISTED = 25
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
    trends: tuple[CaseTrend, ...]
    missed: int = 0  # sessions recorded as cancelled or no-show this week (issue 14)


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
    )


def flagged_trends(session: Session, flags: Sequence[OpenFlag]) -> tuple[CaseTrend, ...]:
    """Each flagged case's mean rating over its latest check-ins (oldest flags first)."""
    trends: list[CaseTrend] = []
    seen: set[int] = set()
    for flag in flags:
        if flag.case_id in seen or len(trends) >= MAX_CHART_CASES:
            continue
        seen.add(flag.case_id)
        means = tuple(
            statistics.fmean(float(v) for v in c.ratings.values() if v is not None)
            for c in recent_checkins(session, flag.case_id, CHART_CHECKINS)
            if any(v is not None for v in (c.ratings or {}).values()))
        if means:
            trends.append(CaseTrend(code=flag.code, means=means))
    return tuple(trends)


def thread_links(client: WebClient, flags: Sequence[OpenFlag]) -> dict[int, str]:
    """Permalinks to the listed flags' threads; a flag whose link Slack will not
    give is listed without one."""
    links: dict[int, str] = {}
    for flag in flags[:MAX_FLAGS_LISTED]:
        if not (flag.channel_id and flag.message_ts):
            continue
        try:
            permalink = client.chat_getPermalink(channel=flag.channel_id, message_ts=flag.message_ts).get("permalink")
        except SlackApiError as error:
            logger.warning("no permalink for a flag thread: %s", error.response.get("error"))
            continue
        if isinstance(permalink, str) and permalink.startswith("https://"):
            links[flag.flag_id] = permalink
    return links


def digest_text(data: DigestData, links: dict[int, str], zone: ZoneInfo) -> str:
    # The seven local days before the digest's day: `Mon 22 Feb – Sun 28 Feb`, never eight.
    last_day = data.until.astimezone(zone).date() - timedelta(days=1)

    flags = [{"code": f.code, "rule": rule_title(f.rule), "therapist": mention(f.owner_id), "age": f.age_days,
              "discussing": f.status == "discussing",
              "link": link(links[f.flag_id], "thread") if f.flag_id in links else None}
             for f in data.flags[:MAX_FLAGS_LISTED]]
    silent = [{"code": s.code, "therapist": mention(s.owner_id), "days": s.days, "never": s.never_logged}
              for s in data.silent[:MAX_SILENT_LISTED]]
    return render("messages/digest.j2", week=day_range(last_day - timedelta(days=6), last_day), data=data,
                  flags=flags, more_flags=max(len(data.flags) - MAX_FLAGS_LISTED, 0),
                  silent=silent, more_silent=max(len(data.silent) - MAX_SILENT_LISTED, 0),
                  chart=bool(data.trends))


def digest_message(data: DigestData, links: dict[int, str], zone: ZoneInfo) -> tuple[str, list[dict[str, Any]]]:
    text = digest_text(data, links, zone)
    blocks = [HeaderBlock(text="Alliance weekly digest").to_dict()] + text_blocks(text)
    return fallback(text), blocks
