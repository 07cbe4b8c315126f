"""Replies arriving together in one warning's thread are all counted: on PostgreSQL
two deliveries that each inserted their reply (a share lock on the flag, through the
foreign key) and then asked for the flag's row lock used to deadlock, and the loser
was lost after Slack had been told 200. Now a reply is stored before the 200, and a
delivery that could not be stored is answered 500 so that Slack sends it again."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from typing import Any, Iterator

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.runtime.bootstrap import Runtime
from bot.store.models import Flag, FlagReply, ProcessedEvent
from bot.usecases.threads import record_thread_reply
from tests.conftest import SUPERVISION_CHANNEL
from tests.support.concurrency import race
from tests.support.driver import SlackDriver
from tests.test_home_and_threads import make_cases, open_flag, reply_event

ROOT = "1700000000.000100"
SENDERS = 8


@contextmanager
def flags_locked(database_url: str) -> Iterator[None]:
    """Another connection holds a lock on the flags table (a write of its own on SQLite)."""
    url = make_url(database_url)
    holder: Any
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(str(url.database), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE flags SET updated_at = updated_at")  # a write of its own: the lock is real
    else:
        import psycopg

        holder = psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
        holder.execute("LOCK TABLE flags IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        holder.rollback()
        holder.close()


def test_replies_delivered_at_the_same_moment_are_each_counted_once(runtime: Runtime) -> None:
    flag_id = open_flag(runtime, make_cases(runtime, 1)[0], ts=ROOT)

    def deliver(index: int) -> None:
        with runtime.services.session_factory.begin() as session:
            record_thread_reply(session, event_id=f"Ev0TOGETHER{index:02d}", channel_id=SUPERVISION_CHANNEL,
                                thread_ts=ROOT, message_ts=f"1700000001.{index:06d}", user_id=f"U0PEER{index:03d}",
                                now=runtime.services.now())

    race(SENDERS, deliver)  # none of them raises
    with runtime.services.session_factory() as session:
        flag = session.get(Flag, flag_id)
        assert flag is not None
        assert session.scalar(select(func.count()).select_from(FlagReply)) == SENDERS
        assert (flag.status, flag.reply_count, len(flag.participants)) == ("discussing", SENDERS, SENDERS)


def test_a_reply_that_meets_a_held_lock_is_not_acknowledged_and_counted_when_delivered_again(
        slack: SlackDriver, runtime: Runtime, database_url: str) -> None:
    """The reply is stored before Slack is told 200. A lock wait that runs out
    (1.2 s) answers 500 within Slack's 3 seconds and leaves nothing behind, not even
    the event's claim, so Slack's next delivery is counted; the one after is not."""
    flag_id = open_flag(runtime, make_cases(runtime, 1)[0], ts=ROOT)
    with flags_locked(database_url):
        first = slack.event(reply_event("1700000001.000200"), "Ev0LOCKED01")
    assert first.status == 500 and first.seconds < 3.0, first
    with runtime.services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(ProcessedEvent)) == 0
        assert session.scalar(select(func.count()).select_from(FlagReply)) == 0
    assert slack.event(reply_event("1700000001.000200"), "Ev0LOCKED01", retry_num=1).status == 200
    assert slack.event(reply_event("1700000001.000200"), "Ev0LOCKED01", retry_num=2).status == 200
    with runtime.services.session_factory() as session:  # stored before the 200: no waiting
        flag = session.get(Flag, flag_id)
        assert flag is not None and (flag.status, flag.reply_count) == ("discussing", 1)
        assert session.scalar(select(func.count()).select_from(FlagReply)) == 1
