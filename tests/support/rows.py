"""Reading a test database directly: row counts and rows that mention a text."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.store.models import Base


def count(session: Session, model: Any, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


# The memory of answered requests (a replay is answered from it): every genuine
# request adds a row, whether or not it changed anything. tests/test_replays.py
# checks it on its own.
NOT_DATA = {"seen_requests"}


def table_counts(session: Session) -> dict[str, int]:
    return {table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables if table.name not in NOT_DATA}


def rows_mentioning(session: Session, text: str) -> list[tuple[str, dict[str, Any]]]:
    """Every row of every table with `text` in any column's value."""
    found: list[tuple[str, dict[str, Any]]] = []
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table)).mappings():
            if any(text in (value.decode("latin-1") if isinstance(value, bytes) else str(value))
                   for value in row.values() if value is not None):
                found.append((table.name, dict(row)))
    return found
