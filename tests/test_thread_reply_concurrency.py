"""Replies arriving together in one warning's thread are all counted: on PostgreSQL
two deliveries that each inserted their reply (a share lock on the flag, through the
foreign key) and then asked for the flag's row lock used to deadlock, and the loser
was lost after Slack had been told 200."""

from __future__ import annotations

import sqlite3
import threading
import time

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.runtime.bootstrap import Runtime
from bot.store.models import Flag, FlagReply
from bot.usecases.threads import record_thread_reply
from tests.conftest import SUPERVISION_CHANNEL
from tests.support.driver import SlackDriver
from tests.test_home_and_threads import make_cases, open_flag, reply_event

ROOT = "1700000000.000100"
SENDERS = 8


def test_replies_delivered_at_the_same_moment_are_each_counted_once(runtime: Runtime) -> None:
    flag_id = open_flag(runtime, make_cases(runtime, 1)[0], ts=ROOT)
    start = threading.Barrier(SENDERS)
    failures: list[BaseException] = []

    def deliver(index: int) -> None:
        try:
            start.wait()
            with runtime.services.session_factory.begin() as session:
                record_thread_reply(session, event_id=f"Ev0TOGETHER{index:02d}", channel_id=SUPERVISION_CHANNEL,
                                    thread_ts=ROOT, message_ts=f"1700000001.{index:06d}", user_id=f"U0PEER{index:03d}",
                                    now=runtime.services.now())
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            failures.append(error)

    threads = [threading.Thread(target=deliver, args=(index,)) for index in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert failures == []
    with runtime.services.session_factory() as session:
        flag = session.get(Flag, flag_id)
        assert flag is not None
        assert session.scalar(select(func.count()).select_from(FlagReply)) == SENDERS
        assert (flag.status, flag.reply_count, len(flag.participants)) == ("discussing", SENDERS, SENDERS)


def test_a_reply_that_meets_a_held_lock_is_counted_once_the_lock_lifts(slack: SlackDriver, runtime: Runtime,
                                                                       database_url: str) -> None:
    """Slack was told 200 before the reply is counted, so a lock wait that ran out
    (1.2 s) is tried again in the listener rather than the reply being lost."""
    flag_id = open_flag(runtime, make_cases(runtime, 1)[0], ts=ROOT)
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(str(url.database), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE flags SET updated_at = updated_at")  # a write of its own: the lock is real
    else:
        import psycopg

        holder = psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
        holder.execute("LOCK TABLE flags IN ACCESS EXCLUSIVE MODE")
    try:
        assert slack.event(reply_event("1700000001.000200"), "Ev0LOCKED01").status == 200
        time.sleep(1.6)  # longer than one lock wait: the first try has failed
    finally:
        holder.rollback()
        holder.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with runtime.services.session_factory() as session:
            flag = session.get(Flag, flag_id)
            assert flag is not None
            if flag.reply_count:
                break
        time.sleep(0.05)
    with runtime.services.session_factory() as session:
        flag = session.get(Flag, flag_id)
        assert flag is not None and (flag.status, flag.reply_count) == ("discussing", 1)
