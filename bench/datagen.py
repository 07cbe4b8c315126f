"""Generated data at any scale: therapists in a spread of IANA time zones, their
cases, weekly check-ins, open and resolved flags, shares, away periods and the
outbox's sent reminders of past weeks. Bulk-loaded in one transaction: executemany on
SQLite, COPY on PostgreSQL.

Case `i` (its history, kind, status, code) depends only on `i`, so the first
cases are the same at every scale: the stall benchmark measures the same cases
in a database of 1 thousand and of 1 million check-ins.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import text

from bot.store.db import make_engine
from bot.domain.cases import CROCKFORD

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)  # a Friday; every generated row is older
ZONES = (("America/New_York", 30), ("America/Chicago", 20), ("America/Los_Angeles", 18), ("America/Denver", 8),
         ("America/Phoenix", 4), ("America/Anchorage", 2), ("Pacific/Honolulu", 2), ("America/Puerto_Rico", 2),
         ("Europe/London", 3), ("Europe/Berlin", 3), ("Asia/Kolkata", 2), ("Australia/Sydney", 2),
         ("America/Sao_Paulo", 2), ("America/Toronto", 2))
REMIND_TIMES = ("15:00",) * 6 + ("14:00", "16:00", "12:30", "17:00")
OPEN_FLAG_SHARE = 0.05
RULES = ("low_alliance", "split_alliance", "alliance_drop", "weak_couple_alliance", "stalled", "therapist_stuck")
SUPERVISION = "C0SUPERV1"
INACTIVE_CHECKINS = 5
MEASURED_CASES = 20  # the first cases: active couples, the same at every scale


@dataclass(frozen=True)
class Scale:
    therapists: int
    cases: int  # active ones; 10% more are paused or closed
    checkins: int

    @classmethod
    def for_checkins(cls, checkins: int) -> "Scale":
        """50 check-ins a case and 10 cases a therapist: 1 M → 20,000 cases, 2,000 therapists."""
        cases = max(checkins // 50, MEASURED_CASES)
        return cls(therapists=max(cases // 10, MEASURED_CASES), cases=cases, checkins=checkins)


@dataclass(frozen=True)
class Loaded:
    rows: dict[str, int]
    seconds: float


def therapist_id(index: int) -> str:
    return f"U0TH{index:06d}"


def case_code(index: int, kind: str) -> str:
    prefix = {"couple": "CPL", "family": "FAM", "individual": "IND"}[kind]
    scrambled = (index * 0x9E3B5 + 0x5A5A5) % (1 << 20)  # odd multiplier: one code per index
    body = "".join(CROCKFORD[(scrambled >> shift) & 31] for shift in (15, 10, 5, 0))
    return f"{prefix}-{body}"


class Encoder:
    """Values as each database takes them in bulk: SQLite stores SQLAlchemy's
    naive-UTC text; PostgreSQL's COPY takes aware datetimes."""

    def __init__(self, backend: str) -> None:
        self.sqlite = backend == "sqlite"

    def ts(self, value: datetime | None) -> Any:
        if value is None or not self.sqlite:
            return value
        return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")

    def day(self, value: date | None) -> Any:
        return value.isoformat() if value is not None and self.sqlite else value

    def flag(self, value: bool) -> Any:
        return int(value) if self.sqlite else value


@dataclass(frozen=True)
class CaseShape:
    index: int
    kind: str
    labels: tuple[str, ...]
    status: str
    owner: int
    count: int
    last_at: datetime
    base: float


def case_shape(index: int, scale: Scale) -> CaseShape:
    rng = random.Random(index * 7919 + 17)
    if index < MEASURED_CASES:
        kind, status = "couple", "active"
    else:
        kind = rng.choices(("couple", "family", "individual"), (70, 20, 10))[0]
        status = "active" if index < scale.cases else rng.choice(("paused", "closed"))
    labels = {"couple": ("A", "B"), "family": ("A", "B", "C"), "individual": ("A",)}[kind]
    pair = index // 2
    spread = (pair % 21) - 10  # pairs of cases differ by ±spread, so the total stays exact
    base_count = active_budget(scale) // scale.cases
    count = max(base_count + (spread if index % 2 == 0 else -spread), 1) if index < scale.cases else INACTIVE_CHECKINS
    roll = rng.random()
    lag_days = rng.uniform(0, 6.5) if roll < 0.45 else rng.uniform(7, 13.9) if roll < 0.80 else \
        rng.uniform(14, 27.9) if roll < 0.92 else rng.uniform(28, 90)
    if status != "active":
        lag_days = rng.uniform(30, 200)
    return CaseShape(index=index, kind=kind, labels=labels, status=status, owner=index % scale.therapists,
                     count=count, last_at=NOW - timedelta(days=lag_days), base=rng.uniform(5.5, 9.0))


def all_cases(scale: Scale) -> int:
    return scale.cases + scale.cases // 10


def active_budget(scale: Scale) -> int:
    """Check-ins on active cases: the total less 5 on each paused or closed case."""
    return scale.checkins - INACTIVE_CHECKINS * (all_cases(scale) - scale.cases)


def checkin_counts(scale: Scale) -> list[int]:
    counts = [case_shape(i, scale).count for i in range(scale.cases)]
    counts[-1] += active_budget(scale) - sum(counts)  # an exact total
    return counts


@dataclass(frozen=True)
class TherapistShape:
    tz: str
    away: bool
    checked: datetime  # their last use of the bot, when the profile was last refreshed
    remind_day: int
    remind_time: str
    reminders_on: bool


def therapist_shape(index: int) -> TherapistShape:
    rng = random.Random(index * 104729 + 3)
    zones, weights = zip(*ZONES)
    return TherapistShape(tz=rng.choices(zones, weights)[0], away=rng.random() < 0.03,
                          checked=NOW - timedelta(days=rng.uniform(0, 4)),
                          remind_day=3 if rng.random() < 0.1 else 4, remind_time=rng.choice(REMIND_TIMES),
                          reminders_on=rng.random() < 0.95)


def therapist_rows(scale: Scale, enc: Encoder) -> Iterator[tuple[Any, ...]]:
    for index in range(scale.therapists):
        t = therapist_shape(index)
        yield (therapist_id(index), t.tz, enc.ts(t.checked), enc.flag(False), t.remind_day, t.remind_time,
               enc.flag(t.reminders_on), enc.day((NOW + timedelta(days=3)).date()) if t.away else None, None,
               enc.ts(NOW - timedelta(days=700)))


def away_rows(scale: Scale, enc: Encoder) -> Iterator[tuple[Any, ...]]:
    next_id = 1
    for index in range(scale.therapists):
        periods = []
        if therapist_shape(index).away:
            periods.append((NOW.date() - timedelta(days=2), NOW.date() + timedelta(days=3)))
        if index % 10 == 0:
            periods.append((NOW.date() - timedelta(days=60), NOW.date() - timedelta(days=50)))
        for start, end in periods:
            yield (next_id, therapist_id(index), enc.day(start), enc.day(end))
            next_id += 1


def case_rows(scale: Scale, enc: Encoder) -> Iterator[tuple[Any, ...]]:
    counts = checkin_counts(scale)
    for index in range(all_cases(scale)):
        shape = case_shape(index, scale)
        count = counts[index] if index < scale.cases else shape.count
        created = shape.last_at - timedelta(days=7 * count + 1)
        closed = shape.last_at + timedelta(days=1) if shape.status == "closed" else None
        yield (index + 1, case_code(index, shape.kind), shape.kind, json.dumps(list(shape.labels)),
               therapist_id(shape.owner), shape.status, enc.ts(created), enc.ts(shape.last_at), enc.ts(closed))


def checkin_rows(scale: Scale, enc: Encoder) -> Iterator[tuple[Any, ...]]:
    counts = checkin_counts(scale)
    next_id = 1
    empty_list, empty_dict = "[]", "{}"
    for index in range(all_cases(scale)):
        shape = case_shape(index, scale)
        count = counts[index] if index < scale.cases else shape.count
        rng = random.Random(index * 31 + 5)
        threads = list(shape.labels) + (["unit", "collective"] if len(shape.labels) >= 2 else [])
        owner = therapist_id(shape.owner)
        level = shape.base
        for number in range(1, count + 1):
            level = min(max(level + rng.uniform(-0.8, 0.8), 2.0), 10.0)
            ratings = {t: min(max(int(level + rng.uniform(-1.5, 1.5)), 0), 10) for t in threads}
            at = shape.last_at - timedelta(days=7 * (count - number), hours=rng.uniform(0, 5))
            flags = '["stuck"]' if rng.random() < 0.03 else empty_list
            yield (next_id, index + 1, owner, number, enc.day(at.date()), json.dumps(ratings), empty_dict,
                   "none", empty_list, flags, None, None, enc.ts(at))
            next_id += 1


def flag_rows(scale: Scale, enc: Encoder) -> Iterator[tuple[Any, ...]]:
    next_id = 1
    for index in range(MEASURED_CASES, scale.cases):  # the measured cases start with no flags
        rng = random.Random(index * 13 + 1)
        shape = case_shape(index, scale)
        wanted = []
        if rng.random() < OPEN_FLAG_SHARE:
            wanted.append("open" if rng.random() < 0.8 else "discussing")
        if rng.random() < 0.15:
            wanted.append("resolved")
        for status in wanted:
            rule = rng.choice(RULES)
            route = "supervision" if rng.random() < 0.5 else "dm"
            opened = shape.last_at - timedelta(days=rng.uniform(1, 60))
            resolved = status == "resolved"
            channel = SUPERVISION if route == "supervision" else "D" + therapist_id(shape.owner)[1:]
            yield (next_id, index + 1, rule, status, None if resolved else 1, 2, route, '["A 8 → 6 → 4"]',
                   0, enc.ts(opened), enc.ts(opened), None, enc.ts(opened + timedelta(days=7)) if resolved else None,
                   "resolved" if resolved else None, "U0SUPER01" if resolved else None, None, channel,
                   f"{1700000000 + next_id}.000100", 0, None, "[]")
            next_id += 1


def share_rows(scale: Scale, enc: Encoder) -> Iterator[tuple[Any, ...]]:
    for index in range(MEASURED_CASES, scale.cases, 20):  # 5% of cases
        other = therapist_id((index + 7) % scale.therapists)
        yield (index + 1, other, therapist_id(index % scale.therapists), enc.ts(NOW - timedelta(days=100)))


def sent_rows(scale: Scale, enc: Encoder) -> Iterator[tuple[Any, ...]]:
    """Four past weeks of reminders, sent: the outbox an install has (the daily scan
    forgets sent rows after 30 days). No message: a sent row keeps none."""
    for week in range(43, 47):
        sent_at = enc.ts(NOW - timedelta(days=7 * (47 - week)))
        for index in range(scale.therapists):
            user = therapist_id(index)
            yield ("dm", user, "{}", f"reminder:{user}:2026-W{week:02d}", "sent", 1, "D" + user[1:],
                   "1700000000.000100", sent_at, sent_at)


TABLES: tuple[tuple[str, tuple[str, ...], Callable[[Scale, Encoder], Iterable[tuple[Any, ...]]]], ...] = (
    ("therapists", ("user_id", "tz", "tz_checked_at", "is_workspace_admin", "remind_day", "remind_time",
                    "reminders_on", "away_until", "snoozed_until", "created_at"), therapist_rows),
    ("away_periods", ("id", "therapist_id", "starts_on", "ends_on"), away_rows),
    ("cases", ("id", "code", "kind", "member_labels", "owner_id", "status", "created_at", "last_checkin_at",
               "closed_at"), case_rows),
    ("case_shares", ("case_id", "user_id", "added_by", "added_at"), share_rows),
    ("checkins", ("id", "case_id", "therapist_id", "session_number", "session_date", "ratings", "client_scores",
                  "rupture_kind", "rupture_members", "therapist_flags", "note_ciphertext", "submission_key",
                  "created_at"), checkin_rows),
    ("flags", ("id", "case_id", "rule", "status", "open_slot", "severity", "route", "evidence", "quiet_checkins",
               "opened_at", "updated_at", "acknowledged_by", "resolved_at", "resolution", "resolved_by",
               "resolution_note_ciphertext", "channel_id", "message_ts", "reply_count", "last_reply_at",
               "participants"), flag_rows),
    ("outbox", ("kind", "channel", "payload", "dedupe_key", "status", "attempts", "result_channel", "result_ts",
                "created_at", "sent_at"), sent_rows),
)
SEQUENCED = ("away_periods", "cases", "checkins", "flags")


class _Counting:
    def __init__(self, rows: Iterable[tuple[Any, ...]]) -> None:
        self.rows, self.count = rows, 0

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        for row in self.rows:
            self.count += 1
            yield row


def load(url: str, backend: str, scale: Scale) -> Loaded:
    """Fill a freshly migrated database; returns the row counts and the time taken."""
    started = time.perf_counter()
    enc = Encoder(backend)
    engine = make_engine(url)
    counts: dict[str, int] = {}
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for table, columns, rows in TABLES:
            counting = _Counting(rows(scale, enc))
            names = ", ".join(columns)
            if backend == "sqlite":
                cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})",
                                   iter(counting))
            else:
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    for row in counting:
                        copy.write_row(row)
            counts[table] = counting.count
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as connection:
        if backend != "sqlite":
            for table in SEQUENCED:
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
    if backend != "sqlite":  # what autovacuum does within a minute of a bulk load
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    engine.dispose()
    return Loaded(rows=counts, seconds=time.perf_counter() - started)


def undo_sweep(url: str, backend: str, scale: Scale) -> None:
    """Put back what a reminder sweep changed (this week's outbox rows, refreshed
    profiles, served snoozes), so the same sweep can run again, e.g. profiled."""
    enc = Encoder(backend)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM outbox WHERE sent_at IS NULL OR sent_at >= :cut"), {"cut": enc.ts(NOW)})
        connection.execute(
            text("UPDATE therapists SET tz = :tz, tz_checked_at = :checked, snoozed_until = NULL WHERE user_id = :user"),
            [{"tz": shape.tz, "checked": enc.ts(shape.checked), "user": therapist_id(i)}
             for i, shape in ((i, therapist_shape(i)) for i in range(scale.therapists))])
    engine.dispose()
