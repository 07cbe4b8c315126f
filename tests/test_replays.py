"""Issue 11, item 4: the same signed request sent again within Slack's 5-minute
window is answered as the first time and takes effect once (end to end, signed
requests against the stand-in, SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any, Callable

import pytest
from sqlalchemy import select, update

from bot.runtime.bootstrap import Runtime
from bot.slack.ids import Action, Block, Callback
from bot.store import seen_requests as seen
from bot.store.models import AuditEntry, Case, Checkin, RepairPlan, SeenRequest
from tests.conftest import SUPERVISOR
from tests.support import slack_requests as sr
from tests.support.driver import SlackDriver
from tests.support.rows import count
from tests.test_checkins_e2e import THERAPIST, create_case
from tests.test_flag_workflow import Warning, opened_modal, radio, text, thread_replies, wait_until, warning  # noqa: F401
from tests.test_stalls_e2e import followups  # noqa: F401 - fixture
from tests.support.outbox import run_and_deliver

FORM = "application/x-www-form-urlencoded"
COPIES = 3


def send_copies(slack: SlackDriver, body: bytes, copies: int = COPIES) -> list[sr.Answer]:
    """One signed request, then the very same bytes and headers again."""
    headers = sr.signed_headers(body, FORM)
    return [sr.post(slack.events_url, body, headers) for _ in range(copies)]


def same_answers(answers: list[sr.Answer]) -> sr.Answer:
    first = answers[0]
    assert first.status == 200, first
    assert [(a.status, a.body) for a in answers] == [(first.status, first.body)] * len(answers)
    return first


def command_copies(slack: SlackDriver, user: str, text_: str) -> tuple[list[sr.Answer], str]:
    response_url = slack.standin.response_url()
    body = sr.command_body(text_, user, slack.standin.new_trigger(), response_url)
    return send_copies(slack, body), response_url.removeprefix(slack.standin.base)


def replies_on(slack: SlackDriver, path: str) -> list[dict[str, Any]]:
    return [c.args for c in list(slack.standin.responses) if c.method == path]


def rows(runtime: Runtime, model: Any, *where: Any) -> int:
    with runtime.services.session_factory() as session:
        return count(session, model, *where)


def settle(check: Callable[[], bool], linger: float = 0.5) -> None:
    """Wait for the work after the acknowledgement, then a little longer, so a wrongly
    doubled dispatch would have had the time to land."""
    wait_until(check)
    time.sleep(linger)


def test_a_replayed_log_stores_one_check_in(slack: SlackDriver, runtime: Runtime) -> None:
    code = create_case(slack)
    answers, path = command_copies(slack, THERAPIST, f"log {code} 8 7 8 8")
    first = same_answers(answers)  # the reply is in the acknowledgement (issue 11), the same each time
    settle(lambda: rows(runtime, Checkin) > 0)
    assert rows(runtime, Checkin) == 1
    assert "Logged session 1" in first.json()["text"] and replies_on(slack, path) == []


def test_a_replayed_new_creates_one_case(slack: SlackDriver, runtime: Runtime) -> None:
    answers, path = command_copies(slack, THERAPIST, "new couple")
    first = same_answers(answers)
    settle(lambda: rows(runtime, Case) > 0)
    assert rows(runtime, Case) == 1
    assert "Created" in first.json()["text"] and replies_on(slack, path) == []
    slack.settle()
    assert len([c for c in slack.standin.calls_to("chat.postMessage") if c.args["channel"] == THERAPIST]) == 1


def test_a_replayed_export_exports_once(slack: SlackDriver, runtime: Runtime) -> None:
    code = create_case(slack)
    slack.command(THERAPIST, f"log {code} 8 7 8 8")
    answers, path = command_copies(slack, SUPERVISOR, "export")
    first = same_answers(answers)
    settle(lambda: bool(slack.standin.calls_to("files.completeUploadExternal")), linger=1.0)
    assert rows(runtime, AuditEntry, AuditEntry.action == "export") == 1
    assert len(slack.standin.calls_to("files.completeUploadExternal")) == 1
    assert first.json()["text"] and replies_on(slack, path) == []


def test_a_replayed_plan_repair_button_and_submission_take_effect_once(slack: SlackDriver, runtime: Runtime,
                                                                       warning: Warning) -> None:  # noqa: F811
    trigger = slack.standin.new_trigger()
    payload = sr.block_actions(THERAPIST, [warning.button(Action.PLAN_REPAIR)],
                               message={"ts": warning.ts, "blocks": warning.root.args["blocks"]},
                               channel_id=warning.root.args["channel"], trigger_id=trigger,
                               response_url=slack.standin.response_url("button"))
    same_answers(send_copies(slack, sr.interaction_body(payload)))
    view = opened_modal(slack, trigger, Callback.PLAN_REPAIR)
    time.sleep(0.5)
    assert len([c for c in slack.standin.calls_to("views.open") if c.args["trigger_id"] == trigger]) == 1

    due = (runtime.services.now() + timedelta(days=2)).date()
    values = {Block.PLAN_ACTION: radio("raise_in_session"),
              Block.PLAN_DUE: {"value": {"type": "datepicker", "selected_date": due.isoformat()}},
              Block.PLAN_NOTE: text("ask about the week in between")}
    submission = sr.interaction_body(sr.view_submission(THERAPIST, view, values))
    answer = same_answers(send_copies(slack, submission))
    assert not answer.json()  # closed, each time
    settle(lambda: bool(thread_replies(slack, warning)))
    assert rows(runtime, RepairPlan) == 1
    assert len(thread_replies(slack, warning)) == 1


def test_copies_sent_at_once_take_effect_once(slack: SlackDriver, runtime: Runtime) -> None:
    code = create_case(slack)
    response_url = slack.standin.response_url()
    body = sr.command_body(f"log {code} 8 7 8 8", THERAPIST, slack.standin.new_trigger(), response_url)
    headers = sr.signed_headers(body, FORM)
    answers: list[sr.Answer] = []
    barrier = threading.Barrier(6)

    def send() -> None:
        barrier.wait()
        answers.append(sr.post(slack.events_url, body, headers))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert [a.status for a in answers] == [200] * 6 and all(a.seconds < 3.0 for a in answers)
    settle(lambda: rows(runtime, Checkin) > 0)
    assert rows(runtime, Checkin) == 1
    logged = [a for a in answers if "Logged session 1" in (a.json() or {}).get("text", "")]
    assert len(logged) >= 1 and all(a.body in (logged[0].body, "") for a in answers)  # a copy in flight: empty 200


def test_a_replay_gets_the_first_answer_which_is_stored_sealed(slack: SlackDriver, runtime: Runtime) -> None:
    body = sr.command_body("help", THERAPIST, slack.standin.new_trigger(), slack.standin.response_url())
    answer = same_answers(send_copies(slack, body))
    said = answer.json()["text"]  # the help text, in the acknowledgement itself
    assert "/alliance" in said
    with runtime.services.session_factory() as session:
        [row] = session.scalars(select(SeenRequest)).all()
    assert row.response_status == 200 and row.response_body
    assert b"alliance" not in row.response_body.lower() and said.encode()[:20] not in row.response_body
    assert runtime.services.cipher.decrypt(row.response_body, seen.BODY_CONTEXT) == answer.body


def test_a_request_signed_differently_is_not_a_replay(slack: SlackDriver, runtime: Runtime) -> None:
    """The same text sent twice by a person is two requests (Slack signs each anew)."""
    code = create_case(slack)
    slack.command(THERAPIST, f"log {code} 8 7 8 8 session=1")
    slack.command(THERAPIST, f"log {code} 8 7 8 8 session=2")  # same day: sessions named
    wait_until(lambda: rows(runtime, Checkin) == 2)


def test_forged_requests_are_not_remembered(slack: SlackDriver, runtime: Runtime) -> None:
    before = rows(runtime, SeenRequest)
    body = sr.command_body("new couple", THERAPIST, slack.standin.new_trigger(), slack.standin.response_url())
    for _ in range(5):
        forged = sr.post(slack.events_url, body, sr.signed_headers(body, FORM, secret="not-the-signing-secret"))
        assert forged.status == 401
    assert rows(runtime, SeenRequest) == before


def test_rows_older_than_ten_minutes_are_purged_by_the_database_clock(runtime: Runtime, slack: SlackDriver) -> None:
    slack.command(THERAPIST, "help")
    slack.command(THERAPIST, "help")
    engine = runtime.engine
    settle(lambda: rows(runtime, SeenRequest, SeenRequest.status == seen.ANSWERED) == 2)  # the recorder, and its purge, done
    with runtime.services.session_factory.begin() as session:
        [old, fresh] = session.scalars(select(SeenRequest.key).order_by(SeenRequest.created_at)).all()
        created = session.scalar(select(SeenRequest.created_at).where(SeenRequest.key == old))
        assert created is not None
        session.execute(update(SeenRequest).where(SeenRequest.key == old)
                        .values(created_at=created - seen.KEEP - timedelta(seconds=5)))
    assert seen.purge(engine) == 1
    with runtime.services.session_factory() as session:
        assert session.scalars(select(SeenRequest.key)).all() == [fresh]


def backdate_claim(runtime: Runtime, key: str, by: timedelta) -> None:
    with runtime.services.session_factory.begin() as session:
        created = session.scalar(select(SeenRequest.created_at).where(SeenRequest.key == key))
        assert created is not None
        session.execute(update(SeenRequest).where(SeenRequest.key == key).values(created_at=created - by))


def test_a_claim_never_answered_is_taken_over_once_it_is_stale_and_only_then(runtime: Runtime) -> None:
    """For a Socket Mode event whose first delivery died (bot/runtime/socket_mode.py):
    a fresh claim is not taken, a stale one is taken by exactly one copy, an answered
    one never, by the database's clock."""
    engine, stale = runtime.engine, timedelta(seconds=10)
    assert seen.claim(engine, "k-pending", 1700000000) and seen.claim(engine, "k-answered", 1700000000)
    seen.record(engine, runtime.services.cipher, "k-answered", seen.Answer(200, [], b""))
    assert not seen.take_over(engine, "k-pending", stale)  # its first copy may still answer
    for key in ("k-pending", "k-answered"):
        backdate_claim(runtime, key, timedelta(seconds=30))
    assert not seen.take_over(engine, "k-answered", stale)
    assert not seen.take_over(engine, "k-missing", stale)
    assert seen.take_over(engine, "k-pending", stale)
    assert not seen.take_over(engine, "k-pending", stale), "taken over again at once: the claim was not renewed"


def test_the_daily_scan_purges_old_rows(runtime: Runtime, slack: SlackDriver) -> None:
    slack.command(THERAPIST, "help")
    with runtime.services.session_factory.begin() as session:
        for row in session.scalars(select(SeenRequest)).all():
            row.created_at -= timedelta(minutes=11)
    run_and_deliver(runtime, "scan", runtime.services.now())
    assert rows(runtime, SeenRequest) == 0


def test_an_answer_sealed_under_a_rotated_key_answers_empty_and_dispatches_nothing(runtime: Runtime) -> None:
    from dataclasses import replace

    from bot.runtime.replays import first_answer
    from bot.store.crypto import NoteCipher, generate_key

    key = seen.request_key("1700000000", "v0=abc")
    assert seen.claim(runtime.engine, key, 1700000000)
    seen.record(runtime.engine, runtime.services.cipher, key, seen.Answer(200, [], b'{"text": "private"}'))
    assert not seen.claim(runtime.engine, key, 1700000000)  # still a replay…
    assert first_answer(runtime.engine, runtime.services, key) == seen.Answer(200, [], b'{"text": "private"}')
    rotated = replace(runtime.services, cipher=NoteCipher.from_text(generate_key()))
    assert first_answer(runtime.engine, rotated, key) is None  # …answered empty under the new key


def test_claims_and_answers_are_one_statement_each_that_does_not_wait_for_the_flush(runtime: Runtime) -> None:
    """PostgreSQL: one autocommitted statement each, whose own transaction does not wait
    for the WAL flush (the statement turns synchronous_commit off for itself). The claim
    runs on the pooled connection's driver, which SQLAlchemy's events do not see."""
    from sqlalchemy import event, text

    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's own statements")
    statements: list[str] = []

    def seen_statement(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    key = seen.request_key("1700000000", "v0=flush")
    event.listen(runtime.engine, "before_cursor_execute", seen_statement)
    try:
        assert seen.claim(runtime.engine, key, 1700000000)
        seen.record(runtime.engine, runtime.services.cipher, key, seen.Answer(200, [], b"{}"))
    finally:
        event.remove(runtime.engine, "before_cursor_execute", seen_statement)
    claim_sql, _, defaults = seen._claim_sql(runtime.engine.dialect)
    assert len(statements) == 1 and "set_config" in statements[0] and "set_config" in claim_sql, statements
    pooled = runtime.engine.raw_connection()
    try:
        assert pooled.driver_connection.autocommit is False  # the claim gave its connection back as it found it
    finally:
        pooled.close()
    claim = {**defaults, "key": seen.request_key("1700000001", "v0=flush"), "request_ts": 1}
    record = {"request_key": key, "new_status": seen.ANSWERED, "new_response_status": 200, "new_response_headers": [],
              "new_response_body": None}
    for run in (lambda c: c.exec_driver_sql(claim_sql, claim), lambda c: c.execute(seen._PG_RECORD, record)):
        with runtime.engine.begin() as connection:  # the setting holds for the statement's transaction only
            run(connection)
            assert connection.execute(text("SHOW synchronous_commit")).scalar_one() == "off"
        with runtime.engine.connect() as connection:
            assert connection.execute(text("SHOW synchronous_commit")).scalar_one() == "on"


def recorded_batches(monkeypatch: pytest.MonkeyPatch, before: Callable[[], object] = lambda: None) -> list[int]:
    """The size of each batch of answers stored from now on (`before` runs ahead of each)."""
    batches: list[int] = []
    real = seen.record_many

    def counted(engine: Any, cipher: Any, answers: Any) -> None:
        before()
        batches.append(len(answers))
        real(engine, cipher, answers)

    monkeypatch.setattr(seen, "record_many", counted)
    return batches


def claimed_keys(runtime: Runtime, count: int, signature: str) -> list[str]:
    keys = [seen.request_key(str(1700000000 + i), signature) for i in range(count)]
    for i, key in enumerate(keys):
        assert seen.claim(runtime.engine, key, 1700000000 + i)
    return keys


def test_answers_are_stored_off_the_requests_thread_a_batch_per_transaction(
        runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.runtime.replays import ReplayGuard, first_answer

    guard = ReplayGuard(runtime.services)
    release = threading.Event()
    batches = recorded_batches(monkeypatch, before=lambda: release.wait(5))  # a busy database
    keys = claimed_keys(runtime, 20, "v0=batch")
    started = time.monotonic()
    for key in keys:
        guard.answers.add(key, seen.Answer(200, [("Content-Type", "application/json")], b'{"text": "Logged"}'))
    assert time.monotonic() - started < 0.5  # adding never waits for the database
    assert first_answer(runtime.engine, runtime.services, keys[0]) is None or release.is_set()  # not stored yet
    release.set()
    assert guard.answers.flush(5)
    assert sum(batches) == 20 and len(batches) <= 2  # all of them, in one or two transactions
    assert [first_answer(runtime.engine, runtime.services, key) for key in keys] == [
        seen.Answer(200, [("Content-Type", "application/json")], b'{"text": "Logged"}')] * 20


def test_answers_arriving_one_by_one_share_a_transaction(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """A busy server's answers come a few milliseconds apart: the recorder waits a moment
    for more (LINGER_SECONDS) instead of a transaction for each."""
    from bot.runtime.replays import ReplayGuard

    guard = ReplayGuard(runtime.services)
    batches = recorded_batches(monkeypatch)
    keys = claimed_keys(runtime, 10, "v0=linger")
    for key in keys:
        guard.answers.add(key, seen.Answer(200, [], b"{}"))
        time.sleep(0.003)
    assert guard.answers.flush(5)
    assert sum(batches) == 10 and len(batches) <= 2, batches


def test_events_are_left_to_their_event_id_check(slack: SlackDriver, runtime: Runtime) -> None:
    """Events API deliveries (every message in the channels Alliance is in) add no row."""
    event = {"type": "message", "channel": "C0SUPERV1", "channel_type": "channel", "user": SUPERVISOR,
             "text": "hello", "ts": "1700000300.000100", "event_ts": "1700000300.000100"}
    assert slack.event(event, "Ev0NOROW01").status == 200
    assert rows(runtime, SeenRequest) == 0
