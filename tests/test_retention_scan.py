"""Retention through the daily scan, and `/alliance config retention`."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.runtime.bootstrap import Runtime
from bot.store.models import AuditEntry, Case
from tests.conftest import ADMIN, Clock
from tests.support.driver import SlackDriver
from tests.support.schedule_data import add_flag, make_case, set_status
from tests.test_checkins_e2e import THERAPIST
from tests.support.outbox import run_and_deliver


def codes(runtime: Runtime) -> set[str]:
    with runtime.services.session_factory() as session:
        return set(session.scalars(select(Case.code)))


def test_the_daily_scan_purges_closed_cases_past_retention_and_edits_their_threads(
        slack: SlackDriver, runtime: Runtime, clock: Clock) -> None:
    services = runtime.services
    long_ago = clock.now - timedelta(days=400)
    old = make_case(services, THERAPIST, long_ago)
    add_flag(services, old, "split_alliance", long_ago, channel_id="C0SUPERV1", message_ts="1600000000.000100")
    set_status(services, old, "closed")
    with services.session_factory.begin() as session:
        case = session.scalar(select(Case).where(Case.code == old))
        assert case is not None
        case.closed_at = long_ago
    recent = make_case(services, THERAPIST, long_ago)
    set_status(services, recent, "closed")
    with services.session_factory.begin() as session:
        kept = session.scalar(select(Case).where(Case.code == recent))
        assert kept is not None
        kept.closed_at = clock.now - timedelta(days=30)  # closed a month ago: kept
    active = make_case(services, THERAPIST, long_ago)

    result = run_and_deliver(runtime, "scan", clock.now)
    assert "closed cases purged 1" in result.summary()
    assert codes(runtime) == {recent, active}
    slack.settle()  # the edit was queued with the purge
    edits = slack.standin.calls_to("chat.update")
    assert [(e.args["channel"], e.args["ts"]) for e in edits] == [("C0SUPERV1", "1600000000.000100")]
    with services.session_factory() as session:
        assert session.scalar(select(AuditEntry.action).where(AuditEntry.case_code == old)) == "purge_case"

    again = run_and_deliver(runtime, "scan", clock.now)
    assert "purged" not in again.summary()


def test_retention_zero_keeps_closed_cases(slack: SlackDriver, runtime: Runtime, clock: Clock) -> None:
    assert "kept until someone forgets them" in slack.command(ADMIN, "config retention 0").text
    old = make_case(runtime.services, THERAPIST, clock.now - timedelta(days=4000))
    set_status(runtime.services, old, "closed")
    run_and_deliver(runtime, "scan", clock.now + timedelta(days=4000))
    assert old in codes(runtime)


def test_config_retention_is_for_admins_and_checked(slack: SlackDriver) -> None:
    assert "Only Alliance admins" in slack.command(THERAPIST, "config retention 30").text
    assert "from 0 (keep forever)" in slack.command(ADMIN, "config retention forever").text
    assert "purged 30 days after" in slack.command(ADMIN, "config retention 30").text
    assert "purged 30 days after closing" in slack.command(THERAPIST, "config show").text
