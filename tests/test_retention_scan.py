"""Retention through the daily scan, and `/alliance config retention`."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.runtime.bootstrap import Runtime
from bot.store import outbox
from bot.store.db import database_now
from bot.store.models import AuditEntry, Case, OutboxMessage
from tests.conftest import ADMIN, Clock
from tests.support.driver import SlackDriver
from tests.support.schedule_data import add_flag, make_case, set_status
from tests.test_checkins_e2e import THERAPIST
from tests.support.outbox import drain_outbox, run_and_deliver
from tests.support.slack_standin import SlackStandIn


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


def test_the_daily_scan_forgets_outbox_rows_sent_more_than_30_days_ago(runtime: Runtime, standin: SlackStandIn,
                                                                        clock: Clock) -> None:
    """Sent rows say where a message landed (no text); after `SENT_RETENTION` the scan
    deletes them, except one that a row still waiting needs (a reply on its root)."""
    services = runtime.services
    with services.session_factory.begin() as session:
        month_old = outbox.enqueue(session, "dm", "U0THERA01", {"text": "Your week"}, dedupe_key="reminder:U0THERA01:W")
        recent = outbox.enqueue(session, "dm", "U0THERA02", {"text": "Your week"}, dedupe_key="reminder:U0THERA02:W")
        root = outbox.enqueue(session, "post", "C0SUPERV1", {"text": "A warning"})
    drain_outbox(runtime)
    with services.session_factory.begin() as session:
        now = database_now(session.connection())
        for row_id, age in ((month_old, 31), (recent, 29), (root, 31)):
            session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                            .values(sent_at=now - timedelta(days=age)))
        waiting = outbox.enqueue(session, "reply", "C0SUPERV1", {"text": "A reply"}, depends_on=root)
    assert outbox.SENT_RETENTION == timedelta(days=30)

    result = run_and_deliver(runtime, "scan", clock.now)  # the reply is still waiting when the scan looks
    assert "sent messages forgotten 1" in result.summary()
    with services.session_factory() as session:
        left = {row_id: status for row_id, status in session.execute(select(OutboxMessage.id, OutboxMessage.status))}
        root_ts = session.scalar(select(OutboxMessage.result_ts).where(OutboxMessage.id == root))
    assert left == {recent: "sent", root: "sent", waiting: "sent"}  # the reply went after the scan
    [reply] = [c for c in standin.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert root_ts and reply.args["thread_ts"] == root_ts  # its root was still there to answer

    again = run_and_deliver(runtime, "scan", clock.now + timedelta(days=1))
    assert "sent messages forgotten 1" in again.summary()  # the root, now that nothing waits on it
    with services.session_factory() as session:
        assert set(session.scalars(select(OutboxMessage.id))) == {recent, waiting}


def test_a_message_slack_refused_for_good_keeps_no_text_and_is_forgotten_after_30_days(
        runtime: Runtime, standin: SlackStandIn, clock: Clock) -> None:
    """Nothing sends a failed row again: what it was to say is not kept, only its kind,
    channel and error code (for `alliance-bot outbox`), and the scan forgets it."""
    services = runtime.services
    standin.fail_channels["U0GONE001"] = "user_disabled"
    with services.session_factory.begin() as session:
        root = outbox.enqueue(session, "dm", "U0GONE001", {"text": "CPL-7KQ2: private words"})
        reply = outbox.enqueue(session, "reply", "U0GONE001", {"text": "more private words"}, depends_on=root)
    drain_outbox(runtime)
    with services.session_factory() as session:
        failed = {r.id: (r.status, r.last_error, r.payload) for r in session.scalars(select(OutboxMessage))}
    assert failed == {root: ("failed", "user_disabled", {}), reply: ("failed", "dependency_failed", {})}

    with services.session_factory.begin() as session:
        now = database_now(session.connection())
        session.execute(update(OutboxMessage).where(OutboxMessage.id == root).values(created_at=now - timedelta(days=31)))
        session.execute(update(OutboxMessage).where(OutboxMessage.id == reply).values(created_at=now - timedelta(days=29)))
    result = run_and_deliver(runtime, "scan", clock.now)
    assert "sent messages forgotten 1" in result.summary()
    with services.session_factory() as session:
        assert set(session.scalars(select(OutboxMessage.id))) == {reply}
