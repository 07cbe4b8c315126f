"""Nothing lost, nothing doubled: forged and stale requests, the database going
away mid-submission, and redeliveries of modals and events."""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator

import pytest

from bot.runtime.bootstrap import Runtime
from bot.store.db import make_engine, make_session_factory
from bot.store.models import Case, Checkin, Flag, FlagReply
from handlers.errors import DATABASE_DOWN
from tests.support import slack_requests as sr
from tests.support.driver import SlackDriver, rating_values, text_value
from tests.support.rows import count, rows_mentioning, table_counts
from tests.test_checkins_e2e import THERAPIST, create_case

RATINGS = {"A": 9, "B": 6, "unit": 7, "collective": 8}
CLOSED_PORT_URL = "postgresql://alliance@127.0.0.1:1/alliance"


@contextmanager
def database_down(runtime: Runtime) -> Iterator[None]:
    """Point the running app at a database that refuses connections; restore after."""
    working = runtime.services.session_factory
    engine = make_engine(CLOSED_PORT_URL, connect_args={"connect_timeout": 1})
    runtime.services.session_factory = make_session_factory(engine)
    try:
        yield
    finally:
        runtime.services.session_factory = working
        engine.dispose()


def rows(runtime: Runtime) -> dict[str, int]:
    with runtime.services.session_factory() as session:
        return table_counts(session)


@pytest.mark.parametrize("forgery", ["wrong secret", "5 minutes old", "5 minutes ahead"])
def test_forged_or_stale_requests_are_refused_and_change_nothing(slack: SlackDriver, runtime: Runtime,
                                                                 forgery: str) -> None:
    sign: dict[str, object] = {
        "wrong secret": {"secret": "not-the-signing-secret"},
        "5 minutes old": {"timestamp": int(time.time()) - 305},
        "5 minutes ahead": {"timestamp": int(time.time()) + 305},
    }[forgery]
    code = create_case(slack)
    before = rows(runtime)
    for text in ("new couple", f"log {code} 8 7 8 8", f"forget {code}"):
        answer, _, _ = slack.send_command(THERAPIST, text, **sign)
        assert answer.status == 401, answer
    view = slack.open_modal(THERAPIST, code)
    payload = sr.view_submission(THERAPIST, view, rating_values(RATINGS))
    body = sr.interaction_body(payload)
    answer = slack.post(body, "application/x-www-form-urlencoded", **sign)
    assert answer.status == 401
    assert rows(runtime) == before


def test_unsigned_and_garbled_signature_headers_are_refused(slack: SlackDriver, runtime: Runtime) -> None:
    body = sr.command_body("new couple", THERAPIST, slack.standin.new_trigger(), slack.standin.response_url())
    good = sr.signed_headers(body, "application/x-www-form-urlencoded")
    for broken in ({"X-Slack-Request-Timestamp": "soon"}, {"X-Slack-Request-Timestamp": "-1"},
                   {"X-Slack-Signature": "v0=\u00e9\u00e9"}, {"X-Slack-Signature": ""}):
        answer = sr.post(slack.events_url, body, {**good, **broken})
        assert answer.status == 401, (broken, answer)
    unsigned = sr.post(slack.events_url, body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert unsigned.status == 401
    with runtime.services.session_factory() as session:
        assert count(session, Case) == 0
    assert slack.standin.responses == []


def test_database_down_keeps_the_modal_open_then_saves_once(slack: SlackDriver, runtime: Runtime) -> None:
    code = create_case(slack)
    view = slack.open_modal(THERAPIST, code)
    values = {**rating_values(RATINGS), "note": text_value("steady session")}

    with database_down(runtime):
        answer = slack.submit(THERAPIST, view, values)
        body = answer.json()
        assert answer.status == 200 and body["response_action"] == "errors", body
        assert list(body["errors"].values()) == [DATABASE_DOWN]
        assert slack.standin.calls_to("chat.postMessage") == []
        reply = slack.command(THERAPIST, f"log {code} 8 7 8 8")
        assert reply.text.startswith("Not saved") and "try again" in reply.text

    again = slack.submit(THERAPIST, view, values)  # the same values, still in the open modal
    assert again.status == 200 and again.body in ("", "null"), again.body
    with runtime.services.session_factory() as session:
        assert count(session, Checkin) == 1


def test_a_modal_submitted_twice_counts_once(slack: SlackDriver, runtime: Runtime) -> None:
    code = create_case(slack)
    view = slack.open_modal(THERAPIST, code)
    first = slack.submit(THERAPIST, view, rating_values(RATINGS))
    second = slack.submit(THERAPIST, view, rating_values(RATINGS))
    assert first.status == second.status == 200
    with runtime.services.session_factory() as session:
        assert count(session, Checkin) == 1
    deadline = time.monotonic() + 5  # the DMs arrive after the acks, beside any warning
    texts: list[str] = []
    while time.monotonic() < deadline and not any("nothing was stored twice" in t for t in texts):
        texts = [c.args["text"] for c in slack.standin.calls_to("chat.postMessage") if c.args["channel"] == THERAPIST]
        time.sleep(0.02)
    assert any("nothing was stored twice" in t for t in texts), texts


def test_an_event_delivered_twice_counts_once(slack: SlackDriver, runtime: Runtime) -> None:
    code = create_case(slack)
    now = runtime.services.now()
    root = "1700000100.000100"
    with runtime.services.session_factory.begin() as session:
        case = session.query(Case).filter_by(code=code).one()
        session.add(Flag(case_id=case.id, rule="Split alliance", status="open", open_slot=1, route="supervision",
                         evidence=[], opened_at=now, updated_at=now, participants=[], channel_id="C0SUPERV1",
                         message_ts=root))
    said = "I wonder whether B feels heard"
    event = {"type": "message", "channel": "C0SUPERV1", "channel_type": "channel", "user": "U0SUPER01",
             "text": said, "ts": "1700000200.000100", "thread_ts": root, "event_ts": "1700000200.000100"}
    assert slack.event(event, "Ev0REPLY01").status == 200
    assert slack.event(event, "Ev0REPLY01", retry_num=1).status == 200
    assert slack.event(event, "Ev0REPLY01", retry_num=2).status == 200
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        with runtime.services.session_factory() as session:
            if count(session, FlagReply):
                break
        time.sleep(0.05)
    time.sleep(0.2)  # give a wrongly doubled delivery the time to land
    with runtime.services.session_factory() as session:
        assert count(session, FlagReply) == 1
        assert session.query(Flag.reply_count).scalar() == 1
        assert rows_mentioning(session, said) == [], "who and when, never what"
