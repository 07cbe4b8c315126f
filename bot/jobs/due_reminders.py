"""Who is due a weekly reminder (SPEC §7): therapists whose active cases lack a
check-in this week, at their own local time. Nothing while away; a snoozed
reminder comes back once. The sweep reads what it needs in a handful of
queries, whatever the number of therapists, and keeps well inside Slack's
`users.info` limit: it looks a time zone up only for a therapist who looks due
and was never looked up, and refreshes a few stale ones after sending."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable, Iterator, Sequence, TypeVar

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session

from bot.domain.schedule import (
    DEFAULT_WEEKLY,
    Weekly,
    days_between,
    is_due,
    latest_moment,
    minute_key,
    parse_clock,
    previous_moment,
    week_key,
    zone_named,
)
from bot.domain.cadence import due_in_week
from bot.domain.cases import CaseStatus
from bot.domain.checkins import Attendance
from bot.store.models import Case, CaseShare, Checkin, Therapist
from bot.usecases.attendance import no_show_runs
from bot.slack.roles import PROFILE_TTL
from bot.store import outbox
from bot.jobs.silence import away_ranges, silent_cases
from bot.jobs.workspace import load_thresholds, zone_lookup
from bot.slack.services import Services
from bot.usecases.config import reminder_weekly
from bot.slack.question_text import question_counts
from bot.usecases.weekly_summary import CaseNotice, improved_cases, notices_for

logger = logging.getLogger(__name__)

REMINDER_GRACE = timedelta(hours=6)
# Slack's users.info allows about 100 calls a minute. A sweep asks it only for a
# therapist who looks due and whose zone was never looked up; other cached zones
# are refreshed on each interaction, and here a few at a time, stalest first.
MAX_FIRST_LOOKUPS = 50
PROFILE_TRICKLE = 8
SNOOZED_KIND = "reminder-snoozed"
CHUNK = 500  # ids per IN (...) list
T = TypeVar("T")


@dataclass(frozen=True)
class UnloggedCase:
    code: str
    kind: str
    last_days: int | None  # days since the last check-in; None: never logged
    silent_days: int | None  # set when silent for `silent_days` or more (No recent check-in)


@dataclass(frozen=True)
class DueReminder:
    """A therapist's weekly summary, "your week" (SPEC §5): notices on their cases,
    then the cases without a check-in, then the cases that improved reliably."""

    user_id: str
    key: str
    snoozed_until: datetime | None  # a due snooze this reminder also serves
    cases: tuple[UnloggedCase, ...]
    notices: tuple[CaseNotice, ...] = ()
    improved: tuple[str, ...] = ()  # case codes
    no_shows: tuple[str, ...] = ()  # case codes with two no-shows in a row (issue 14)


@dataclass(frozen=True)
class _Profile:
    user_id: str
    tz: str | None
    tz_checked_at: datetime | None
    weekly: Weekly
    away_until: date | None
    snoozed_until: datetime | None


@dataclass(frozen=True)
class _Slot:
    """What may be due for one therapist: outbox dedupe keys in order of preference."""

    keys: tuple[str, ...]
    served: datetime | None
    since: datetime  # the start of the reminder week


_AWAY = "away"


def chunked(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def weekly_of(remind_day: int | None, remind_time: str | None, default: Weekly = DEFAULT_WEEKLY) -> Weekly:
    """The therapist's own reminder time, else the workspace default."""
    if remind_day is None or remind_time is None:
        return default
    try:
        return Weekly(weekday=int(remind_day), at=parse_clock(remind_time))
    except (ValueError, TypeError):
        return default


def _as_profile(therapist: Therapist, default: Weekly) -> _Profile:
    return _Profile(user_id=therapist.user_id, tz=therapist.tz, tz_checked_at=therapist.tz_checked_at,
                    weekly=weekly_of(therapist.remind_day, therapist.remind_time, default),
                    away_until=therapist.away_until, snoozed_until=therapist.snoozed_until)


def _load_profiles(services: Services) -> list[_Profile]:
    """Therapists with reminders on and at least one active case (own or shared)."""
    owns = exists().where(Case.owner_id == Therapist.user_id, Case.status == CaseStatus.ACTIVE.value)
    shares = exists().where(CaseShare.user_id == Therapist.user_id, CaseShare.case_id == Case.id,
                            Case.status == CaseStatus.ACTIVE.value)
    columns = (Therapist.user_id, Therapist.tz, Therapist.tz_checked_at, Therapist.remind_day,
               Therapist.remind_time, Therapist.away_until, Therapist.snoozed_until)
    with services.session_factory.begin() as session:
        default = reminder_weekly(session, DEFAULT_WEEKLY)
        rows = session.execute(select(*columns).where(Therapist.reminders_on.is_(True), or_(owns, shares))
                               .order_by(Therapist.user_id))
        return [_Profile(user_id=user_id, tz=tz, tz_checked_at=checked, weekly=weekly_of(day, at, default),
                         away_until=away_until, snoozed_until=snoozed_until)
                for user_id, tz, checked, day, at, away_until, snoozed_until in rows]


def _refreshed(services: Services, user_id: str, now: datetime) -> _Profile:
    """The profile with its Slack time zone refreshed (one short transaction, so
    no lock is held across the Slack call)."""
    with services.session_factory.begin() as session:
        return _as_profile(services.roles.refresh_profile(session, user_id, now), reminder_weekly(session, DEFAULT_WEEKLY))


def refresh_stalest_profiles(services: Services, now: datetime, limit: int = PROFILE_TRICKLE) -> int:
    """Refresh the Slack time zones of up to `limit` therapists with reminders on
    whose cached profile is the oldest (over a day old); how many were refreshed."""
    with services.session_factory.begin() as session:
        stale = list(session.scalars(
            select(Therapist.user_id)
            .where(Therapist.reminders_on.is_(True),
                   or_(Therapist.tz_checked_at.is_(None), Therapist.tz_checked_at < now - PROFILE_TTL))
            .order_by(Therapist.tz_checked_at.asc().nulls_first(), Therapist.user_id).limit(limit)))
    for user_id in stale:
        _refreshed(services, user_id, now)
    return len(stale)


def _slot(profile: _Profile, now: datetime, fallback_tz: str) -> _Slot | str | None:
    zone = zone_named(profile.tz, fallback_tz)
    if profile.away_until is not None and now.astimezone(zone).date() <= profile.away_until:
        return _AWAY
    moment = latest_moment(now, profile.weekly, zone)
    snooze_due = profile.snoozed_until is not None and is_due(now, profile.snoozed_until, REMINDER_GRACE)
    keys: list[str] = []
    if is_due(now, moment, REMINDER_GRACE):
        keys.append(outbox.dedupe_key("reminder", profile.user_id, week_key(moment, zone)))
    if profile.snoozed_until is not None and snooze_due:
        keys.append(outbox.dedupe_key(SNOOZED_KIND, profile.user_id, minute_key(profile.snoozed_until)))
    if not keys:
        return None
    # The reminder week runs from the previous weekly moment: a check-in logged
    # since then counts for this week.
    return _Slot(keys=tuple(keys), served=profile.snoozed_until if snooze_due else None,
                 since=previous_moment(moment, profile.weekly, zone))


def clear_snoozes(services: Services, served: Iterable[tuple[str, datetime]]) -> None:
    """Forget snoozes that have been served or have lapsed (each only if it was
    not changed meanwhile)."""
    pairs = list(served)
    if not pairs:
        return
    with services.session_factory.begin() as session:
        clear_snoozes_in(session, pairs)


def clear_snoozes_in(session: Session, served: Iterable[tuple[str, datetime]]) -> None:
    """`clear_snoozes` in the caller's transaction (the one that queues the reminder)."""
    for user_id, expected in served:
        session.execute(update(Therapist)
                        .where(Therapist.user_id == user_id, Therapist.snoozed_until == expected)
                        .values(snoozed_until=None).execution_options(synchronize_session=False))


@dataclass(frozen=True)
class _CaseRow:
    id: int
    code: str
    kind: str
    last_checkin_at: datetime | None
    cadence_weeks: int = 1
    cadence_from: datetime | None = None  # when the cadence was set (or the case created)


_CASE_COLUMNS = (Case.id, Case.code, Case.kind, Case.last_checkin_at, Case.cadence_weeks, Case.cadence_anchor,
                 Case.created_at)


def _row(columns: Sequence[Any]) -> _CaseRow:
    case_id, code, kind, last, weeks, anchor, created_at = columns
    start = datetime.combine(anchor, time(), tzinfo=timezone.utc) if anchor is not None else created_at
    return _CaseRow(case_id, code, kind, last, weeks or 1, max(start, created_at))


def owners_away(session: Session, owner_ids: Iterable[str], today: date) -> set[str]:
    """Case leads away today: their co-therapists are reminded of their cases meanwhile."""
    return {owner for owner, ranges in away_ranges(session, owner_ids).items()
            if any(start <= today <= end for start, end in ranges)}


def unlogged_cases(services: Services, since_by_user: dict[str, datetime],
                   now: datetime) -> dict[str, tuple[UnloggedCase, ...]]:
    """Each therapist's active cases (own or shared) without a check-in since
    their reminder week began, with the silent ones marked."""
    if not since_by_user:
        return {}
    users = sorted(since_by_user)
    latest_since = max(since_by_user.values())  # a case logged after every week's start is nobody's
    unlogged = or_(Case.last_checkin_at.is_(None), Case.last_checkin_at < latest_since)
    found: dict[str, list[_CaseRow]] = {user: [] for user in users}

    def keep(user: str, row: _CaseRow) -> None:
        since = since_by_user[user]
        if row.cadence_weeks <= 1:
            if row.last_checkin_at is None or row.last_checkin_at < since:
                found[user].append(row)
            return
        # Every 2 weeks or monthly (issue 14): due once its last session (or the cadence's start) is a cadence ago.
        reference = max(row.last_checkin_at, row.cadence_from) if row.last_checkin_at and row.cadence_from \
            else row.last_checkin_at or row.cadence_from or since
        if due_in_week(since, reference, row.cadence_weeks):
            found[user].append(row)

    with services.session_factory.begin() as session:
        for chunk in chunked(users):
            for owner, *columns in session.execute(select(Case.owner_id, *_CASE_COLUMNS).where(
                    Case.owner_id.in_(chunk), Case.status == CaseStatus.ACTIVE.value, unlogged)):
                keep(owner, _row(columns))
        # A co-therapist is reminded of a shared case only while its lead is away (issue 14).
        shares = [(row.case_id, row.user_id) for chunk in chunked(users) for row in session.execute(
            select(CaseShare.case_id, CaseShare.user_id).where(CaseShare.user_id.in_(chunk)))]
        shared_by_case: dict[int, list[str]] = {}
        for shared_id, user in shares:
            shared_by_case.setdefault(shared_id, []).append(user)
        shared_rows = [(owner, _row(columns)) for id_chunk in chunked(sorted(shared_by_case))
                       for owner, *columns in session.execute(select(Case.owner_id, *_CASE_COLUMNS).where(
                           Case.id.in_(id_chunk), Case.status == CaseStatus.ACTIVE.value, unlogged))]
        away = owners_away(session, {owner for owner, _ in shared_rows}, now.date())
        for owner, row in shared_rows:
            if owner in away:
                for user in shared_by_case[row.id]:
                    keep(user, row)
        if not any(found.values()):
            return {}
        limits = load_thresholds(session)
        silent = {s.case_id: s.days for s in silent_cases(session, now, limits.silent_days,
                                                           zone_lookup(session, services.settings))}
    return {
        user: tuple(UnloggedCase(code=c.code, kind=c.kind, silent_days=silent.get(c.id),
                                 last_days=days_between(c.last_checkin_at, now) if c.last_checkin_at else None)
                    for c in sorted(rows, key=lambda c: c.code))
        for user, rows in found.items() if rows
    }


def week_news(services: Services, since_by_user: dict[str, datetime],
              now: datetime) -> tuple[dict[str, tuple[CaseNotice, ...]], dict[str, tuple[str, ...]]]:
    """Each therapist's notices (with one question each) and their own active cases,
    logged since their week began, that improved reliably."""
    if not since_by_user:
        return {}, {}
    users = sorted(since_by_user)
    with services.session_factory.begin() as session:
        notices = notices_for(session, users, now, question_counts())
        logged: dict[int, str] = {}
        for chunk in chunked(users):
            for case_id, owner, last in session.execute(select(Case.id, Case.owner_id, Case.last_checkin_at).where(
                    Case.owner_id.in_(chunk), Case.status == CaseStatus.ACTIVE.value,
                    Case.last_checkin_at >= min(since_by_user.values()))):
                if last is not None and last >= since_by_user[owner]:
                    logged[case_id] = owner
        good: dict[str, list[str]] = {}
        if logged:
            for case_id in improved_cases(session, logged):
                code = session.scalar(select(Case.code).where(Case.id == case_id))
                if code is not None:
                    good.setdefault(logged[case_id], []).append(code)
    return notices, {user: tuple(sorted(codes)) for user, codes in good.items()}


def no_show_notices(services: Services, users: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Each lead's active cases whose two newest sessions were no-shows (issue 14): a
    notice the weekly reminder shows. Only cases with a no-show at all are looked into."""
    users = sorted(set(users))
    candidates: dict[int, tuple[str, str]] = {}
    with services.session_factory() as session:
        for chunk in chunked(users):
            for case_id, owner, code in session.execute(
                    select(Case.id, Case.owner_id, Case.code).where(
                        Case.owner_id.in_(chunk), Case.status == CaseStatus.ACTIVE.value,
                        exists().where(Checkin.case_id == Case.id, Checkin.attendance == Attendance.NO_SHOW.value))):
                candidates[case_id] = (owner, code)
        runs = no_show_runs(session, candidates)
    notices: dict[str, list[str]] = {}
    for case_id, (owner, code) in sorted(candidates.items(), key=lambda item: item[1][1]):
        if runs.get(case_id):
            notices.setdefault(owner, []).append(code)
    return {user: tuple(codes) for user, codes in notices.items()}


def due_reminders(services: Services, now: datetime) -> tuple[list[DueReminder], int]:
    """The reminders due at `now` and not queued yet; and how many therapists are away."""
    fallback_tz = services.settings.timezone
    slots: dict[str, _Slot] = {}
    lapsed: list[tuple[str, datetime]] = []
    away = first_lookups = 0
    for profile in _load_profiles(services):
        if profile.snoozed_until is not None and now >= profile.snoozed_until + REMINDER_GRACE:
            lapsed.append((profile.user_id, profile.snoozed_until))  # nobody was running then: let it go
            profile = replace(profile, snoozed_until=None)
        slot = _slot(profile, now, fallback_tz)
        if isinstance(slot, _Slot) and profile.tz_checked_at is None and first_lookups < MAX_FIRST_LOOKUPS:
            # Looks due by the workspace's zone, but Slack was never asked for theirs: ask now.
            first_lookups += 1
            slot = _slot(_refreshed(services, profile.user_id, now), now, fallback_tz)
        if slot == _AWAY:
            away += 1
        elif isinstance(slot, _Slot):
            slots[profile.user_id] = slot
    with services.session_factory.begin() as session:
        already = outbox.queued_keys(session, [key for slot in slots.values() for key in slot.keys])
    pending: dict[str, tuple[str, _Slot]] = {}
    served: list[tuple[str, datetime]] = []
    for user_id, slot in slots.items():
        unsent = [key for key in slot.keys if key not in already]
        if unsent:
            pending[user_id] = (unsent[0], slot)
        elif slot.served is not None:
            served.append((user_id, slot.served))
    cases = unlogged_cases(services, {user: slot.since for user, (_, slot) in pending.items()}, now)
    notices, improved = week_news(services, {user: slot.since for user, (_, slot) in pending.items()}, now)
    no_shows = no_show_notices(services, pending)
    due: list[DueReminder] = []
    for user_id, (key, slot) in pending.items():
        if user_id in cases or user_id in notices or user_id in no_shows:
            due.append(DueReminder(user_id=user_id, key=key, snoozed_until=slot.served, cases=cases.get(user_id, ()),
                                   notices=notices.get(user_id, ()), improved=improved.get(user_id, ()),
                                   no_shows=no_shows.get(user_id, ())))
        elif slot.served is not None:
            served.append((user_id, slot.served))  # everything was logged meanwhile
    clear_snoozes(services, lapsed + served)
    return due, away
