"""A check-in's mean rating, computed by the database: calibration (SPEC §5) reads
hundreds of check-ins at every evaluation, and decoding each row's JSON in Python
was most of a `/alliance log`'s time (bench/log_path.py). The value is the one
Python computed: the float mean of the ratings that are not null (absent
members), NULL when none is."""

from __future__ import annotations

from sqlalchemy import literal_column
from sqlalchemy.sql.elements import ColumnElement

# float8 in PostgreSQL: its sum of small whole numbers is exact and the one division
# rounds as Python's does, so both databases give the value bit for bit.
_MEAN = {
    "postgresql": "(SELECT avg(r.value::float8) FROM json_each_text(checkins.ratings) AS r WHERE r.value IS NOT NULL)",
    "sqlite": "(SELECT avg(r.value) FROM json_each(checkins.ratings) AS r WHERE r.value IS NOT NULL)",
}


def mean_rating(dialect: str) -> ColumnElement[float | None]:
    """The expression for a `checkins` row's mean rating (select it FROM checkins)."""
    return literal_column(_MEAN[dialect])
