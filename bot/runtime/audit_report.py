"""`alliance-bot audit [--since ISO]`: the audit log, one entry a line."""

from __future__ import annotations

from datetime import date, datetime, time, timezone

from sqlalchemy.exc import OperationalError, ProgrammingError

from bot.store.models import AuditEntry
from bot.settings import Settings, SettingsError


def parse_since(text: str | None) -> datetime | None:
    """An ISO date or date-time; a naive one is read as UTC."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            value = datetime.combine(date.fromisoformat(text.strip()), time())
        except ValueError:
            raise SettingsError(f"--since takes an ISO date or date-time such as 2026-11-01 or 2026-11-01T09:00Z, not {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def format_entry(entry: AuditEntry) -> str:
    at = entry.at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    fields = [at, entry.actor_id, entry.action, entry.case_code or "-"]
    if entry.detail:
        fields.append(" ".join(entry.detail.split()))
    return "\t".join(fields)


def print_audit(settings: Settings, since_text: str | None) -> int:
    from bot.store.db import make_engine, make_session_factory
    from bot.usecases.audit import entries_since

    since = parse_since(since_text)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            entries = entries_since(session, since)
            for entry in entries:
                print(format_entry(entry))
    except (OperationalError, ProgrammingError) as error:
        raise SettingsError(f"could not read the audit log at DATABASE_URL ({type(error.orig).__name__}); "
                            "is the database running and migrated (`alliance-bot db upgrade`)?") from None
    finally:
        engine.dispose()
    if not entries:
        print("no audit entries" + (f" since {since.isoformat()}" if since else ""))
    return 0
