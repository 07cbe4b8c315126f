"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.store.db import make_engine
from bot.store.models import Base


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_sqlite_runs_in_wal_mode(sqlite_url: str) -> None:
    from sqlalchemy import text

    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_0002_moves_everyone_on_the_old_fixed_default_to_the_workspace_default(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from bot.store.db import upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0001")
    engine = make_engine(url)
    with engine.begin() as connection:
        for user, day, at in (("U0DEFAULT1", 4, "15:00"), ("U0CHOSEN01", 0, "09:00")):
            connection.execute(text(
                "INSERT INTO therapists (user_id, remind_day, remind_time, reminders_on, created_at) "
                "VALUES (:u, :d, :t, 1, '2026-01-01 00:00:00')"), {"u": user, "d": day, "t": at})
    upgrade(url)
    with engine.connect() as connection:
        rows = dict(((u, (d, t)) for u, d, t in connection.execute(
            text("SELECT user_id, remind_day, remind_time FROM therapists"))))
    engine.dispose()
    assert rows == {"U0DEFAULT1": (None, None), "U0CHOSEN01": (0, "09:00")}


def test_0007_carries_this_months_reminder_and_digest_keys_into_the_outbox(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The ledger's recent reminder and digest keys become sent outbox rows (no
    message), so a sweep right after the upgrade does not send them again."""
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import inspect, text

    from bot.store.db import upgrade

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    upgrade(url, "0006")
    engine = make_engine(url)
    recent = (datetime.now(timezone.utc) - timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S.%f")
    old = (datetime.now(timezone.utc) - timedelta(days=40)).strftime("%Y-%m-%d %H:%M:%S.%f")
    with engine.begin() as connection:
        for key, at, channel in (("reminder:U0THERA01:2026-W49", recent, "D0THERA01"),
                                 ("digest:C0SUPERV1:2026-W49", recent, "C0SUPERV1"),
                                 ("reminder:U0THERA01:2026-W43", old, "D0THERA01"),
                                 ("plan-due:C0SUPERV1:7", recent, "C0SUPERV1")):
            connection.execute(text("INSERT INTO sent_messages (key, status, claimed_at, sent_at, channel_id, message_ts) "
                                    "VALUES (:k, 'sent', :at, :at, :c, '1700000000.000100')"),
                               {"k": key, "at": at, "c": channel})
    upgrade(url)
    with engine.connect() as connection:
        rows = set(connection.execute(text("SELECT kind, channel, dedupe_key, status, payload FROM outbox")))
        tables = inspect(connection).get_table_names()
    engine.dispose()
    assert rows == {("dm", "D0THERA01", "reminder:U0THERA01:2026-W49", "sent", "{}"),
                    ("post", "C0SUPERV1", "digest:C0SUPERV1:2026-W49", "sent", "{}")}
    assert "sent_messages" not in tables


def test_0008_fills_the_mean_rating_of_check_ins_already_stored(database_url: str) -> None:
    """The check-ins stored before 0008 get their mean rating (absent members left out,
    NULL when all were absent), on both databases."""
    from sqlalchemy import text

    from bot.store.db import upgrade

    engine = make_engine(database_url)
    with engine.begin() as connection:  # the fixture migrated to head: go back to before 0008
        connection.execute(text("DELETE FROM checkins"))
    from alembic import command

    from bot.store.db import alembic_config

    command.downgrade(alembic_config(database_url), "0006")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO therapists (user_id, reminders_on, created_at) "
                                "VALUES ('U0THERA01', true, '2026-01-01 00:00:00')"))
        connection.execute(text(
            "INSERT INTO cases (code, kind, member_labels, owner_id, status, created_at, cadence_weeks) "
            "VALUES ('CPL-7KQ2', 'couple', '[\"A\", \"B\"]', 'U0THERA01', 'active', '2026-01-01 00:00:00', 1)"))
        case_id = connection.execute(text("SELECT id FROM cases WHERE code = 'CPL-7KQ2'")).scalar_one()
        for number, ratings in ((1, '{"A": 10, "B": 3, "unit": null, "collective": 0}'),
                                (2, '{"A": null, "B": null, "unit": null, "collective": null}')):
            connection.execute(text(
                "INSERT INTO checkins (case_id, therapist_id, session_number, ratings, client_scores, rupture_kind, "
                "rupture_members, therapist_flags, created_at) VALUES (:c, 'U0THERA01', :n, :r, '{}', 'none', '[]', "
                "'[]', '2026-01-01 00:00:00')"), {"c": case_id, "n": number, "r": ratings})
    engine.dispose()
    upgrade(database_url)
    engine = make_engine(database_url)
    with engine.connect() as connection:
        means = connection.execute(text("SELECT mean_rating FROM checkins ORDER BY session_number")).scalars().all()
    engine.dispose()
    assert means == [13 / 3, None]
