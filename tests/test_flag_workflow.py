"""Issue 5 end to end: a real warning in the supervision channel (four signed
`/alliance log` requests), then thread replies as events and the warning's
buttons and modals as signed interactions; what the bot sent is read back from
the Web API stand-in, what it stored from the database."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from bot.runtime.bootstrap import Runtime
from bot.store.models import AuditEntry, Case, Flag, RepairPlan
from bot.slack.ids import Action, Block, Callback
from bot.usecases.flag_actions import PLAN_NOTE_CONTEXT
from tests.conftest import SUPERVISION_CHANNEL, SUPERVISOR
from tests.support import slack_requests as sr
from tests.support.driver import SlackDriver
from tests.support.rows import rows_mentioning, table_counts
from tests.support.slack_standin import Call
from tests.test_checkins_e2e import create_case
from tests.test_stalls_e2e import DM, THERAPIST, buttons, followups, log, warnings  # noqa: F401 - fixture
from tests.support.outbox import run_and_deliver

STRANGER = "U0STRANGE1"
COLLEAGUE = "U0COLLE01"


class Warning:
    """The Split alliance warning in the supervision channel, and its case."""

    def __init__(self, code: str, ts: str, flag_id: int, root: Call) -> None:
        self.code, self.ts, self.flag_id, self.root = code, ts, flag_id, root

    def button(self, action: Action) -> dict[str, Any]:
        [found] = [b for b in buttons(self.root) if b["action_id"] == action]
        return dict(found, block_id=Block.WARNING_ACTIONS, action_ts="1.2")


@pytest.fixture
def warning(slack: SlackDriver, runtime: Runtime, followups: pytest.LogCaptureFixture) -> Warning:  # noqa: F811
    code = create_case(slack)
    # Issue 13: a split of 4 with nobody low warns by DM, and goes to supervision once it holds.
    for session, ratings in enumerate(("8 7 8 8", "8 7 8 8", "10 6 8 8", "10 6 8 8"), start=1):
        log(slack, followups, code, session, ratings)
    [root] = [c for c in warnings(slack) if c.args["channel"] == SUPERVISION_CHANNEL]
    with runtime.services.session_factory() as session:
        flag = session.scalars(select(Flag).where(Flag.channel_id == SUPERVISION_CHANNEL)).one()
        assert flag.rule == "split_alliance" and flag.message_ts
        return Warning(code, flag.message_ts, flag.id, root)


def press(slack: SlackDriver, warning: Warning, user: str, action: Action) -> tuple[str, str]:
    """Press a button on the root; returns (trigger_id, response_url)."""
    trigger, response_url = slack.standin.new_trigger(), slack.standin.response_url("button")
    payload = sr.block_actions(user, [warning.button(action)], message={"ts": warning.ts, "blocks": warning.root.args["blocks"]},
                               channel_id=SUPERVISION_CHANNEL, response_url=response_url, trigger_id=trigger)
    assert slack.interact(payload).status == 200
    return trigger, response_url


def opened_modal(slack: SlackDriver, trigger: str, callback: Callback) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for call in slack.standin.calls_to("views.open"):
            if call.args["trigger_id"] == trigger:
                assert call.args["view"]["callback_id"] == callback
                return dict(call.args["view"], id="V0FLAG001")
        time.sleep(0.01)
    raise AssertionError(f"no modal for {trigger}: {slack.standin.methods()}")


def one_line_answer(slack: SlackDriver, response_url: str) -> str:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for call in list(slack.standin.responses):
            if response_url.endswith(call.method):
                assert call.args["response_type"] == "ephemeral" and call.args["replace_original"] is False
                assert "\n" not in call.args["text"]
                return str(call.args["text"])
        time.sleep(0.01)
    raise AssertionError("no answer on the response_url")


def thread_replies(slack: SlackDriver, warning: Warning) -> list[str]:
    return [c.args["text"] for c in slack.standin.calls_to("chat.postMessage") if c.args.get("thread_ts") == warning.ts]


def root_edits(slack: SlackDriver, warning: Warning) -> list[Call]:
    return [c for c in slack.standin.calls_to("chat.update")
            if (c.args["channel"], c.args["ts"]) == (SUPERVISION_CHANNEL, warning.ts)]


def wait_until(check: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def flag_row(runtime: Runtime, flag_id: int) -> dict[str, Any]:
    with runtime.services.session_factory() as session:
        flag = session.get(Flag, flag_id)
        assert flag is not None
        return {c.key: getattr(flag, c.key) for c in Flag.__table__.columns}


def radio(value: str) -> dict[str, Any]:
    return {"value": {"type": "radio_buttons", "selected_option": {"value": value}}}


def text(value: str) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": value}}


def reply_event(warning: Warning, ts: str, user: str = COLLEAGUE) -> dict[str, Any]:
    return {"type": "message", "channel": SUPERVISION_CHANNEL, "user": user, "text": "what do we think?", "ts": ts,
            "thread_ts": warning.ts, "channel_type": "channel", "event_ts": ts}


def test_replies_in_the_thread_move_the_flag_to_discussing_once(slack: SlackDriver, runtime: Runtime,
                                                                warning: Warning) -> None:
    assert slack.event(reply_event(warning, "1800000001.000100"), "Ev0FLAGR1").status == 200
    assert slack.event(reply_event(warning, "1800000001.000100"), "Ev0FLAGR1", retry_num=1).status == 200
    wait_until(lambda: root_edits(slack, warning))
    assert "Status: *discussing*" in str(root_edits(slack, warning)[-1].args["blocks"])
    assert slack.event(reply_event(warning, "1800000002.000100", user=SUPERVISOR), "Ev0FLAGR2").status == 200
    wait_until(lambda: flag_row(runtime, warning.flag_id)["reply_count"] == 2)
    time.sleep(0.2)  # a redelivery counted late would show here
    row = flag_row(runtime, warning.flag_id)
    assert (row["status"], row["reply_count"], row["participants"]) == ("discussing", 2, [COLLEAGUE, SUPERVISOR])
    assert len(root_edits(slack, warning)) == 1  # only the move to discussing re-rendered the root


def test_the_therapist_resolves_the_warning(slack: SlackDriver, runtime: Runtime, warning: Warning) -> None:
    trigger, _ = press(slack, warning, THERAPIST, Action.RESOLVE)
    view = opened_modal(slack, trigger, Callback.RESOLVE)
    assert warning.code in str(view["blocks"]) and "Split alliance" in str(view["blocks"])
    answer = slack.submit(THERAPIST, view, {Block.RESOLUTION: radio("repaired"),
                                            Block.RESOLUTION_NOTE: text("talked it through in session")})
    assert answer.status == 200 and not answer.json()
    wait_until(lambda: root_edits(slack, warning))
    row = flag_row(runtime, warning.flag_id)
    assert (row["status"], row["open_slot"], row["resolution"], row["resolved_by"]) == ("resolved", None, "repaired", THERAPIST)
    assert row["resolved_at"] is not None and row["resolution_note_ciphertext"]
    assert thread_replies(slack, warning) == [f"<@{THERAPIST}> resolved this warning: *repaired*."]
    blocks = root_edits(slack, warning)[-1].args["blocks"]
    assert "Status: *resolved*" in str(blocks) and f"resolved by <@{THERAPIST}>" in str(blocks)
    assert "actions" not in [b["type"] for b in blocks]
    with runtime.services.session_factory() as session:
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "resolve_flag")).all()
        assert [(a.actor_id, a.case_code) for a in audit] == [(THERAPIST, warning.code)]
        assert rows_mentioning(session, "talked it through") == []  # stored encrypted only

    # Pressed again (an old copy of the message): one line, nothing opens.
    _, response_url = press(slack, warning, THERAPIST, Action.RESOLVE)
    assert "already resolved" in one_line_answer(slack, response_url)
    assert len(slack.standin.calls_to("views.open")) == 1


def test_an_unrelated_user_changes_nothing(slack: SlackDriver, runtime: Runtime, warning: Warning) -> None:
    with runtime.services.session_factory() as session:
        before_counts = table_counts(session)
    before_row = flag_row(runtime, warning.flag_id)
    calls_before = slack.standin.methods().count("chat.postMessage"), len(slack.standin.calls_to("chat.update"))
    for action in (Action.RESOLVE, Action.ACKNOWLEDGE, Action.PLAN_REPAIR):
        _, response_url = press(slack, warning, STRANGER, action)
        assert one_line_answer(slack, response_url) == (
            "Only the case's therapists, supervisors and admins can act on this warning.")
    # A forged submission of the Resolve modal is refused on the form too.
    view = {"type": "modal", "callback_id": Callback.RESOLVE, "title": {"type": "plain_text", "text": "Resolve"},
            "blocks": [{"type": "input", "block_id": Block.RESOLUTION, "label": {"type": "plain_text", "text": "How"},
                        "element": {"type": "radio_buttons", "action_id": Action.VALUE, "options": []}}],
            "private_metadata": f'{{"flag": {warning.flag_id}, "channel": "{SUPERVISION_CHANNEL}", "ts": "{warning.ts}"}}'}
    payload = slack.submit(STRANGER, view, {Block.RESOLUTION: radio("false_alarm")}).json()
    assert payload["response_action"] == "errors" and "Only the case's therapists" in payload["errors"][Block.RESOLUTION]
    time.sleep(0.2)
    assert slack.standin.calls_to("views.open") == []
    assert (slack.standin.methods().count("chat.postMessage"), len(slack.standin.calls_to("chat.update"))) == calls_before
    assert flag_row(runtime, warning.flag_id) == before_row
    with runtime.services.session_factory() as session:
        assert table_counts(session) == before_counts


def test_plan_repair_refuses_phi_then_saves_and_reminds_once(slack: SlackDriver, runtime: Runtime,
                                                            warning: Warning) -> None:
    trigger, _ = press(slack, warning, THERAPIST, Action.PLAN_REPAIR)
    view = opened_modal(slack, trigger, Callback.PLAN_REPAIR)
    due = (runtime.services.now() + timedelta(days=2)).date()
    values = {Block.PLAN_ACTION: radio("raise_in_session"),
              Block.PLAN_DUE: {"value": {"type": "datepicker", "selected_date": due.isoformat()}},
              Block.PLAN_NOTE: text("call her on 555-123-4567 first")}
    payload = slack.submit(THERAPIST, view, values).json()
    assert payload["response_action"] == "errors" and "phone number" in payload["errors"][Block.PLAN_NOTE]
    with runtime.services.session_factory() as session:
        assert session.scalars(select(RepairPlan)).all() == [] and rows_mentioning(session, "555-123") == []
    assert thread_replies(slack, warning) == [] and root_edits(slack, warning) == []

    values[Block.PLAN_NOTE] = text("ask about the week in between")
    assert not slack.submit(THERAPIST, view, values, view_hash="h2").json()
    wait_until(lambda: root_edits(slack, warning))
    weekday = f"{due:%a} {due.day} {due:%b}"
    assert thread_replies(slack, warning) == [f"<@{THERAPIST}> planned a repair: *raise it in session*, by {weekday}."]
    assert f"plan: raise it in session, by {weekday}" in str(root_edits(slack, warning)[-1].args["blocks"])
    with runtime.services.session_factory() as session:
        [plan] = session.scalars(select(RepairPlan)).all()
        assert (plan.flag_id, plan.action, plan.due_on, plan.created_by) == (warning.flag_id, "raise_in_session", due, THERAPIST)
        assert plan.note_ciphertext and runtime.services.cipher.decrypt(plan.note_ciphertext, PLAN_NOTE_CONTEXT) == (
            "ask about the week in between")
        assert rows_mentioning(session, "week in between") == []
    assert "week in between" not in str(slack.standin.calls)

    noon = datetime(due.year, due.month, due.day, 17, 0, tzinfo=timezone.utc)
    assert run_and_deliver(runtime, "scan", noon - timedelta(days=1)).queued == 0  # not due yet
    results = [run_and_deliver(runtime, "scan", moment) for moment in (noon, noon, noon + timedelta(days=1))]
    assert [r.queued for r in results] == [1, 0, 0]
    reminders = [t for t in thread_replies(slack, warning) if t.startswith("Reminder")]
    assert reminders == [f"Reminder for <@{THERAPIST}>: the repair you planned, *raise it in session*, "
                         f"is due {weekday}. When it is done, press *Resolve* on the warning, or plan the next step."]
    with runtime.services.session_factory() as session:
        assert session.scalars(select(RepairPlan.reminded_at)).one() == noon


def test_a_later_check_in_replies_once_in_each_open_thread(slack: SlackDriver, runtime: Runtime, warning: Warning,
                                                           followups: pytest.LogCaptureFixture) -> None:  # noqa: F811
    log(slack, followups, warning.code, 5, "10 6 8 8")
    [update] = thread_replies(slack, warning)
    assert update.splitlines() == ["Session 5: A 10 → 10 · B 6 → 6 · unit 8 → 8 · collective 8 → 8",
                                   "*Split alliance* still fires."]

    log(slack, followups, warning.code, 6, "8 8 8 8")  # the split did not fire: it says so, once
    assert thread_replies(slack, warning)[1].splitlines() == [
        "Session 6: A 10 → 8 · B 6 → 8 · unit 8 → 8 · collective 8 → 8",
        "*Split alliance* did not fire this time (1 of 2 quiet check-ins before it closes itself)."]


def test_acknowledge_then_case_closed(slack: SlackDriver, runtime: Runtime, warning: Warning) -> None:
    _, response_url = press(slack, warning, SUPERVISOR, Action.ACKNOWLEDGE)
    wait_until(lambda: root_edits(slack, warning))
    assert thread_replies(slack, warning) == [f"<@{SUPERVISOR}> acknowledged this warning."]
    assert f"acknowledged by <@{SUPERVISOR}>" in str(root_edits(slack, warning)[-1].args["blocks"])
    assert flag_row(runtime, warning.flag_id)["acknowledged_by"] == SUPERVISOR
    _, again = press(slack, warning, SUPERVISOR, Action.ACKNOWLEDGE)
    assert "already acknowledged" in one_line_answer(slack, again)

    # A supervisor cannot close the case from here; its therapist can.
    trigger, _ = press(slack, warning, SUPERVISOR, Action.RESOLVE)
    view = opened_modal(slack, trigger, Callback.RESOLVE)
    payload = slack.submit(SUPERVISOR, view, {Block.RESOLUTION: radio("case_closed")}).json()
    assert "Only the case's therapists can close the case" in payload["errors"][Block.RESOLUTION]
    assert flag_row(runtime, warning.flag_id)["status"] == "open"
    trigger, _ = press(slack, warning, THERAPIST, Action.RESOLVE)
    view = opened_modal(slack, trigger, Callback.RESOLVE)
    assert not slack.submit(THERAPIST, view, {Block.RESOLUTION: radio("case_closed")}, view_hash="h3").json()
    wait_until(lambda: flag_row(runtime, warning.flag_id)["status"] == "resolved")
    with runtime.services.session_factory() as session:
        case = session.scalars(select(Case).where(Case.code == warning.code)).one()
        assert case.status == "closed"
    wait_until(lambda: len(thread_replies(slack, warning)) == 2)
    assert thread_replies(slack, warning)[-1] == (
        f"<@{THERAPIST}> resolved this warning: *case closed*. {warning.code} is now closed.")


def test_a_button_on_a_forgotten_case_answers_one_line(slack: SlackDriver, runtime: Runtime, warning: Warning) -> None:
    with runtime.services.session_factory.begin() as session:
        case = session.scalars(select(Case).where(Case.code == warning.code)).one()
        session.delete(case)
    _, response_url = press(slack, warning, THERAPIST, Action.ACKNOWLEDGE)
    assert "no longer in Alliance" in one_line_answer(slack, response_url)
    assert thread_replies(slack, warning) == []


def test_a_plan_due_in_the_past_is_refused_on_its_field(slack: SlackDriver, runtime: Runtime, warning: Warning) -> None:
    trigger, _ = press(slack, warning, THERAPIST, Action.PLAN_REPAIR)
    view = opened_modal(slack, trigger, Callback.PLAN_REPAIR)
    yesterday: date = (runtime.services.now() - timedelta(days=2)).date()
    payload = slack.submit(THERAPIST, view, {
        Block.PLAN_ACTION: radio("refer"),
        Block.PLAN_DUE: {"value": {"type": "datepicker", "selected_date": yesterday.isoformat()}}}).json()
    assert payload == {"response_action": "errors", "errors": {Block.PLAN_DUE: "Pick today or a later date."}}
