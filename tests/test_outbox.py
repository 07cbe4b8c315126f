"""Issue 11: the outbox, end to end — signed requests to the served app, Slack's
failures played by the stand-in, the deliverer driven by the test."""

from __future__ import annotations

import re
import threading
import time
from typing import Any
import pytest
from sqlalchemy import select

from bot.runtime.bootstrap import Runtime
from bot.slack.outbox_delivery import METADATA_EVENT
from bot.store import outbox
from bot.store.models import Flag, OutboxMessage
from tests.conftest import ADMIN, SUPERVISION_CHANNEL
from tests.support.driver import SlackDriver
from tests.support.outbox import drain_outbox, test_deliverer
from tests.support.slack_standin import Call, SlackStandIn

THERAPIST = "U0THERA01"
SPLIT_TWICE = ("8 8 8 8", "8 4 8 8", "8 4 8 8")  # a split held twice goes to supervision

pytestmark = pytest.mark.manual_outbox


def new_case(slack: SlackDriver, runtime: Runtime) -> str:
    reply = slack.command(THERAPIST, "new couple")
    match = re.search(r"\bCPL-[0-9A-Z]{4}\b", reply.text)
    assert match, reply.text
    drain_outbox(runtime)
    slack.standin.clear()
    return match.group(0)


def log_all(slack: SlackDriver, code: str, sessions: tuple[str, ...]) -> None:
    for number, ratings in enumerate(sessions, start=1):
        reply = slack.command(THERAPIST, f"log {code} {ratings} session={number}")
        assert f"Logged session {number}" in reply.text, reply.text  # stored, and said so in the ack


def roots_in(standin: SlackStandIn, channel: str) -> list[Call]:
    return [c for c in standin.calls_to("chat.postMessage")
            if c.args["channel"] == channel and "thread_ts" not in c.args and "Stall warning" in c.args["text"]]


def posted_roots(standin: SlackStandIn, channel: str) -> list[dict[str, Any]]:
    """Warning roots Slack holds in a channel (refused calls left nothing there)."""
    return [m for m in standin.messages.get(channel, []) if "thread_ts" not in m and "Stall warning" in m["text"]]


def rows(runtime: Runtime) -> list[OutboxMessage]:
    with runtime.services.session_factory() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_stored_check_in_has_its_warning_queued_before_the_ack(slack: SlackDriver, runtime: Runtime) -> None:
    code = new_case(slack, runtime)
    log_all(slack, code, SPLIT_TWICE[:2])
    queued = [r for r in rows(runtime) if r.status == outbox.PENDING]
    assert [r.kind for r in queued] == ["post"] and queued[0].channel == THERAPIST  # nothing sent yet
    assert slack.standin.calls_to("chat.postMessage") == []
    drain_outbox(runtime)
    [root] = roots_in(slack.standin, THERAPIST)
    assert root.args["metadata"] == {"event_type": METADATA_EVENT, "event_payload": {"outbox_id": queued[0].id}}
    with runtime.services.session_factory() as session:
        flags = list(session.scalars(select(Flag)))
    assert flags and all(f.message_ts and f.root_outbox_id is None for f in flags)  # the ts was written back
    assert all(r.status == outbox.SENT and r.payload == {} for r in rows(runtime))  # no message kept once sent


def test_a_check_in_before_its_root_is_delivered_replies_under_it(slack: SlackDriver, runtime: Runtime) -> None:
    """The second check-in finds the root still queued: it queues an edit and a reply
    that wait for it, rather than a second root."""
    code = new_case(slack, runtime)
    log_all(slack, code, ("8 8 8 8", "8 4 8 8"))
    slack.command(THERAPIST, f"log {code} 8 4 8 8 session=3")  # still in the DM route? it moves to supervision
    drain_outbox(runtime)
    dm_roots = roots_in(slack.standin, "U0THERA01")
    assert len(dm_roots) == 1
    dm = "D" + THERAPIST[1:]
    replies = [c for c in slack.standin.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert replies and all(c.args["channel"] == dm for c in replies)
    assert {c.args["thread_ts"] for c in replies} == {posted_roots(slack.standin, dm)[0]["ts"]}


def test_a_warning_slack_answers_500_twice_arrives_without_another_check_in(slack: SlackDriver,
                                                                              runtime: Runtime) -> None:
    code = new_case(slack, runtime)
    log_all(slack, code, SPLIT_TWICE)
    drain_outbox(runtime)  # the DM root first
    slack.standin.clear()
    # The next warning for the channel fails twice with HTTP 500, then Slack recovers.
    with runtime.services.session_factory.begin() as session:
        outbox.enqueue(session, "post", SUPERVISION_CHANNEL, {"text": "Stall warning (probe)"})
    slack.standin.http_errors["chat.postMessage"] = 2
    started = time.monotonic()
    deliverer = test_deliverer(runtime).start(poll_seconds=0.05)  # as `serve` runs it
    try:
        deadline = started + 60
        while not roots_in(slack.standin, SUPERVISION_CHANNEL) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        deliverer.stop()
    assert len(roots_in(slack.standin, SUPERVISION_CHANNEL)) == 1, "arrived once, with no further check-in"
    assert time.monotonic() - started < 60
    assert slack.standin.http_errors["chat.postMessage"] == 0


def test_not_in_channel_holds_the_warning_tells_therapist_and_admins_then_posts_it(
        slack: SlackDriver, runtime: Runtime) -> None:
    standin = slack.standin
    first, second = new_case(slack, runtime), new_case(slack, runtime)
    standin.fail_channels[SUPERVISION_CHANNEL] = "not_in_channel"
    for code in (first, second):
        log_all(slack, code, SPLIT_TWICE)
    drain_outbox(runtime, recheck_seconds=30)
    held = [r for r in rows(runtime) if r.status == outbox.HELD]
    assert [(r.channel, r.last_error) for r in held] == [(SUPERVISION_CHANNEL, "not_in_channel")] * 2
    # The therapist has each warning by DM meanwhile; the admins are told once, how to fix it.
    to_therapist = [c for c in roots_in(standin, THERAPIST) if "for supervision" in c.args["text"]
                    or "Split alliance" in c.args["text"]]
    fallbacks = [c for c in to_therapist if c.args["metadata"]["event_payload"]["outbox_id"] not in
                 {r.id for r in held} and any(code in c.args["text"] for code in (first, second))]
    assert len(fallbacks) >= 2
    held_dms = [r for r in rows(runtime) if (r.dedupe_key or "").startswith("held-dm:")]
    assert sorted(r.dedupe_key for r in held_dms) == sorted(f"held-dm:{r.id}" for r in held)
    assert all(r.status == outbox.SENT for r in held_dms)
    to_admin = [c for c in standin.calls_to("chat.postMessage") if c.args["channel"] == ADMIN]
    assert len(to_admin) == 1 and "/invite @Alliance" in to_admin[0].args["text"]
    assert posted_roots(standin, SUPERVISION_CHANNEL) == []

    # The channel works again: the held warnings go out (a re-probe, or `config supervision`), once each.
    del standin.fail_channels[SUPERVISION_CHANNEL]
    assert outbox.recheck_held(runtime.engine, SUPERVISION_CHANNEL) == 2
    drain_outbox(runtime, recheck_seconds=30)
    posted = posted_roots(standin, SUPERVISION_CHANNEL)
    assert len(posted) == 2 and all(any(code in m["text"] for m in posted) for code in (first, second))
    assert len([c for c in standin.calls_to("chat.postMessage") if c.args["channel"] == ADMIN]) == 1
    assert [r for r in rows(runtime) if r.status not in (outbox.SENT,)] == []
    with runtime.services.session_factory() as session:
        supervised = list(session.scalars(select(Flag).where(Flag.route == "supervision")))
    assert supervised and all(f.channel_id == SUPERVISION_CHANNEL and f.message_ts for f in supervised)


def test_a_send_that_outlasts_its_lease_keeps_its_claim_and_goes_once(runtime: Runtime, standin: SlackStandIn) -> None:
    """A slow send (a big export's upload) renews its claim while it runs, so another
    process polling meanwhile does not take it over and send it a second time."""
    with runtime.services.session_factory.begin() as session:
        row_id = outbox.enqueue(session, "dm", "U0SLOW001", {"text": "slow to send"})
    standin.delay_calls["chat.postMessage"] = [2.5]
    first = test_deliverer(runtime, lease_seconds=0.9, client_timeout=10, worker="first")
    second = test_deliverer(runtime, lease_seconds=0.9, client_timeout=10, worker="second")
    sender = threading.Thread(target=first.drain_once)
    try:
        sender.start()
        while sender.is_alive() and [r.status for r in rows(runtime)] != [outbox.SENDING]:
            time.sleep(0.01)  # the first has claimed it
        deadline = time.monotonic() + 3.5
        while sender.is_alive() and time.monotonic() < deadline:
            assert second.drain_once() == 0  # never due to it: the claim is renewed
            time.sleep(0.1)
        sender.join(5)
    finally:
        first.stop()
        second.stop()
    assert len([c for c in standin.calls_to("chat.postMessage") if c.args["channel"] == "U0SLOW001"]) == 1
    [row] = [r for r in rows(runtime) if r.id == row_id]
    assert (row.status, row.attempts, row.claimed_by) == (outbox.SENT, 1, row.claimed_by)
    assert (row.claimed_by or "").startswith("first:")


def test_a_post_that_timed_out_after_slack_took_it_is_not_posted_again(slack: SlackDriver, runtime: Runtime) -> None:
    standin = slack.standin
    code = new_case(slack, runtime)
    log_all(slack, code, SPLIT_TWICE[:2])
    standin.delay_calls["chat.postMessage"] = [2.5]  # Slack posts it, then answers after the client gave up
    drain_outbox(runtime, client_timeout=1)
    [root] = roots_in(standin, THERAPIST)
    assert standin.calls_to("conversations.history"), "the retry looked for the first attempt's post"
    [row] = [r for r in rows(runtime) if r.kind == "post"]
    dm = "D" + THERAPIST[1:]
    assert (row.status, row.attempts, row.result_channel) == (outbox.SENT, 2, dm)
    assert [m["ts"] for m in posted_roots(standin, dm)] == [row.result_ts]
    with runtime.services.session_factory() as session:
        assert {f.message_ts for f in session.scalars(select(Flag))} == {row.result_ts}
    assert root.args["metadata"]["event_payload"]["outbox_id"] == row.id


def test_a_claim_expires_by_the_database_clock_and_is_not_sent_twice(slack: SlackDriver, runtime: Runtime) -> None:
    """A sender that died after Slack took its post: the row is taken over only once
    its claim expired (database time), and the taker finds the post instead of repeating it."""
    with runtime.services.session_factory.begin() as session:
        row_id = outbox.enqueue(session, "post", SUPERVISION_CHANNEL, {"text": "Stall warning (probe)"})
    [dead] = outbox.claim(runtime.engine, "dead-process", 10, lease_seconds=0.5)
    runtime.services.client.chat_postMessage(channel=SUPERVISION_CHANNEL, text="Stall warning (probe)",
                                             metadata={"event_type": METADATA_EVENT, "event_payload": {"outbox_id": row_id}})
    alive = test_deliverer(runtime)
    try:
        assert alive.drain_once() == 0  # still claimed: nothing to take
        time.sleep(0.6)
        assert alive.drain_once() == 1
    finally:
        alive.stop()
    assert len(slack.standin.calls_to("chat.postMessage")) == 1
    [row] = rows(runtime)
    assert (row.status, row.claimed_by != dead.token) == (outbox.SENT, True)
    outbox.mark_sent(runtime.engine, dead, SUPERVISION_CHANNEL, "1.1")  # the dead one's claim is gone
    assert rows(runtime)[0].result_ts != "1.1"


def test_two_deliverers_share_the_work_in_order_and_send_each_row_once(slack: SlackDriver, runtime: Runtime) -> None:
    channels = [f"C0SHARE{n:02d}" for n in range(6)]
    with runtime.services.session_factory.begin() as session:
        for n in range(60):
            outbox.enqueue(session, "post", channels[n % 6], {"text": f"message {n}"})
    deliverers = [test_deliverer(runtime, worker=f"w{n}") for n in range(2)]
    threads = [threading.Thread(target=d.drain, args=(30.0,)) for d in deliverers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for deliverer in deliverers:
        deliverer.stop()
    posts = slack.standin.calls_to("chat.postMessage")
    ids = [c.args["metadata"]["event_payload"]["outbox_id"] for c in posts]
    assert sorted(ids) == list(range(1, 61)), "each row exactly once"
    for channel in channels:
        in_channel = [c.args["metadata"]["event_payload"]["outbox_id"] for c in posts if c.args["channel"] == channel]
        assert in_channel == sorted(in_channel), "a channel's messages in the order they were queued"
    assert {r.claimed_by.split(":")[0] for r in rows(runtime) if r.claimed_by} <= {"w0", "w1"}


def test_error_codes_are_codes(slack: SlackDriver, runtime: Runtime) -> None:
    """Slack's answer may quote what was sent; only its code is kept and logged."""
    with runtime.services.session_factory.begin() as session:
        outbox.enqueue(session, "dm", THERAPIST, {"text": "hello"})
    slack.standin.fail_methods["chat.postMessage"] = "invalid_arguments B cried in session"
    drain_outbox(runtime)
    [row] = rows(runtime)
    assert (row.status, row.last_error) == (outbox.FAILED, "invalid_arguments")



def test_healthz_stays_up_while_the_outbox_is_behind_and_reports_its_depth(slack: SlackDriver,
                                                                         runtime: Runtime) -> None:
    import json
    import urllib.request

    with runtime.services.session_factory.begin() as session:
        for n in range(3):
            outbox.enqueue(session, "dm", THERAPIST, {"text": f"message {n}"})
    with urllib.request.urlopen(f"{slack.base_url}/healthz", timeout=5) as response:
        assert response.status == 200
        health = json.loads(response.read())
    assert health["ok"] and health["outbox"] == {"pending": 3, "sending": 0, "held": 0, "failed": 0}


def test_the_outbox_command_shows_counts_ages_and_codes_never_text(slack: SlackDriver, runtime: Runtime,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from bot.runtime.cli import main

    with runtime.services.session_factory.begin() as session:
        outbox.enqueue(session, "dm", THERAPIST, {"text": "B cried in session"})
        outbox.enqueue(session, "post", SUPERVISION_CHANNEL, {"text": "Stall warning B cried"})
    slack.standin.fail_channels[SUPERVISION_CHANNEL] = "not_in_channel"
    drain_outbox(runtime, recheck_seconds=30)
    with runtime.services.session_factory.begin() as session:
        outbox.enqueue(session, "dm", THERAPIST, {"text": "B cried again"})
        outbox.enqueue(session, "dm", THERAPIST, {"text": "Your week: B cried"},
                       dedupe_key=f"reminder:{THERAPIST}:2026-W47")
        outbox.enqueue(session, "upload", "U0SUPER01", {"upload": "export", "user": "U0SUPER01"})
    monkeypatch.setenv("DATABASE_URL", runtime.settings.database_url)
    assert main(["outbox"]) == 0
    shown = capsys.readouterr().out
    assert "cried" not in shown
    lines = {tuple(line.split()[:4]) for line in shown.splitlines()[1:]}
    assert ("post", SUPERVISION_CHANNEL, "held", "1") in lines and ("dm", THERAPIST, "pending", "1") in lines
    assert any("not_in_channel" in line for line in shown.splitlines())
    # What each row is, in one word: a reminder (its dedupe key's first word), an export (the upload's kind).
    labelled = {(line.split()[0], line.split()[-1]) for line in shown.splitlines()[1:]}
    assert {("dm", "reminder"), ("upload", "export"), ("dm", "-")} <= labelled, shown


def test_a_flag_joining_a_root_still_queued_waits_for_its_row_and_the_dm_note_links_it(
        slack: SlackDriver, runtime: Runtime) -> None:
    """Issue 13's one conversation per case, with the outbox: a flag that joins the
    case's supervision root while that root is still queued is tied to its row (not
    to a made-up ts), and learns the root's ts when it is sent; the DM's note that
    the warning moved links the supervision thread once Slack has it."""
    code = new_case(slack, runtime)
    sessions = ["8 7 8 8", "8 7 8 8 flags=tension", "8 4 7 7 flags=tension", "8 4 7 7", "8 4 7 7 flags=tension"]
    for number, ratings in enumerate(sessions, start=1):
        reply = slack.command(THERAPIST, f"log {code} {ratings} session={number}")
        assert f"Logged session {number}" in reply.text, reply.text
        if number <= 3:
            drain_outbox(runtime)  # the DM warning is out; the supervision root (session 4) is not
    [root_row] = [r for r in rows(runtime) if r.kind == "post" and r.channel == SUPERVISION_CHANNEL]
    assert root_row.status == outbox.PENDING
    with runtime.services.session_factory() as session:
        supervised = list(session.scalars(select(Flag).where(Flag.route == "supervision", Flag.open_slot.is_not(None))))
    assert "recurring_tension" in {f.rule for f in supervised}  # it joined at session 5
    assert all(f.root_outbox_id == root_row.id and f.message_ts is None for f in supervised)
    drain_outbox(runtime)
    [root] = roots_in(slack.standin, SUPERVISION_CHANNEL)
    with runtime.services.session_factory() as session:
        supervised = list(session.scalars(select(Flag).where(Flag.route == "supervision", Flag.open_slot.is_not(None))))
    ts = {f.message_ts for f in supervised}
    assert len(ts) == 1 and None not in ts and all(f.root_outbox_id is None for f in supervised)
    moved = [c for c in slack.standin.calls_to("chat.postMessage")
             if c.args.get("thread_ts") and "now goes to supervision" in c.args["text"]]
    assert moved and all(f"archives/{SUPERVISION_CHANNEL}/p" in c.args["text"] for c in moved)
    assert "alliance.invalid" not in " ".join(c.args.get("text", "") for c in slack.standin.calls_to("chat.postMessage"))


def test_a_moved_note_names_the_case_when_slack_gives_no_permalink(slack: SlackDriver, runtime: Runtime) -> None:
    code = new_case(slack, runtime)
    log_all(slack, code, SPLIT_TWICE[:2])
    drain_outbox(runtime)
    slack.command(THERAPIST, f"log {code} {SPLIT_TWICE[2]} session=3")  # it moves to supervision
    slack.standin.fail_methods["chat.getPermalink"] = "message_not_found"
    drain_outbox(runtime)
    [moved] = [c for c in slack.standin.calls_to("chat.postMessage")
               if c.args.get("thread_ts") and "now goes to supervision" in c.args["text"]]
    assert f"its {code} thread" in moved.args["text"] and "alliance.invalid" not in moved.args["text"]
