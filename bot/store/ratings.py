"""A check-in's mean rating as the database reads it: calibration (SPEC §5) reads
hundreds of check-ins at every evaluation, and decoding each row's JSON (in Python,
or even in the database) was most of a `/alliance log`'s time (bench/log_path.py).
The value is the stored `checkins.mean_rating` (the model sets it on every write;
migration 0008 filled older rows), else, for a row written around the model,
computed from its JSON: the float mean of the ratings that are not null (absent
members), NULL when none is, as `bot.store.models.mean_of` computes it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, literal_column, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.store import core_reads

# float8 in PostgreSQL: its sum of small whole numbers is exact and the one division
# rounds as Python's does, so both databases give the value bit for bit.
_MEAN = {
    "postgresql": "(SELECT avg(r.value::float8) FROM json_each_text(checkins.ratings) AS r WHERE r.value IS NOT NULL)",
    "sqlite": "(SELECT avg(r.value) FROM json_each(checkins.ratings) AS r WHERE r.value IS NOT NULL)",
}


def mean_rating(dialect: str) -> ColumnElement[float | None]:
    """The expression for a `checkins` row's mean rating (select it FROM checkins)."""
    return literal_column(f"COALESCE(checkins.mean_rating, {_MEAN[dialect]})")


def median_of(window: Select[Any]) -> Select[Any]:
    """The statement that computes the median of the non-null values `window` selects
    (one column, bounded by its own LIMIT) and how many there are, in one row: the
    middle value, or the mean of the middle two (as `statistics.median`). Build it once
    and run it with `run_median`: `window` may hold bind parameters."""
    values = window.subquery("window_values")
    value = list(values.c)[0]
    ranked = (select(value.label("v"), func.row_number().over(order_by=value).label("r"),
                     func.count().over().label("n"))
              .where(value.is_not(None)).subquery("ranked"))
    return select(func.avg(ranked.c.v), func.max(ranked.c.n)).where(
        or_(ranked.c.r == (ranked.c.n + 1) // 2, ranked.c.r == (ranked.c.n + 2) // 2))


def run_median(session: Session, statement: Select[Any], **parameters: Any) -> tuple[float | None, int]:
    """(median, count) from a `median_of` statement; (None, 0) when there are no values."""
    median, count = tuple(core_reads.read(session, statement, parameters).one())
    return (float(median) if median is not None else None), int(count or 0)


def median_and_count(session: Session, window: Select[Any]) -> tuple[float | None, int]:
    """`run_median` of `median_of(window)`, built for this one call."""
    return run_median(session, median_of(window))


def recent_means(session: Session, dialect: str, therapist_id: str, limit: int) -> list[float]:
    """The mean ratings of the last `limit` check-ins `therapist_id` rated (newest
    first; those with no rating left out), read in the session's transaction on the
    driver's own cursor. It runs in most evaluations of a `/alliance log`: the median
    computed by the database, read through SQLAlchemy, cost 163 us of CPU on SQLite
    where this costs 65 (75 and 55 on PostgreSQL's client side). The caller takes the
    median (`statistics.median`, as the database's was). SQLAlchemy's statement events
    do not see this read."""
    cursor = core_reads.connection(session).connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(_RECENT_MEANS[dialect], (therapist_id, limit))
        return [float(value) for (value,) in cursor.fetchall() if value is not None]
    finally:
        cursor.close()


_RECENT_MEANS = {
    dialect: f"SELECT COALESCE(checkins.mean_rating, {mean}) FROM checkins WHERE checkins.therapist_id = {mark} "
             f"ORDER BY checkins.created_at DESC LIMIT {mark}"
    for dialect, mean, mark in (("sqlite", _MEAN["sqlite"], "?"), ("postgresql", _MEAN["postgresql"], "%s"))
}

