"""Listener functions called directly, with recording stand-ins for ack/respond/client."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext

from bot.runtime.bootstrap import Runtime
from handlers.checkin_modal import submit_checkin
from handlers.commands import handle_alliance, open_checkin
from handlers.errors import acknowledged, hand_over, later, reported
from tests.support.driver import rating_values
from tests.support.outbox import drain_outbox
from tests.support.slack_requests import view_submission

THERAPIST = "U0THERA01"


class Recorder:
    """Records calls in order, across ack, respond and client methods."""

    def __init__(self) -> None:
        self.log: list[tuple[str, dict[str, Any]]] = []
        self.response: Any = None

    def ack(self, **kwargs: Any) -> None:
        self.log.append(("ack", kwargs))
        self.response = kwargs or {"empty": True}

    def respond(self, **kwargs: Any) -> None:
        self.log.append(("respond", kwargs))

    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> dict[str, Any]:
            self.log.append((name, kwargs))
            return {"ok": True, "view": {"id": "V1", "hash": "h"}, "channel": "D1", "ts": "1.1"}

        return call

    def names(self) -> list[str]:
        return [name for name, _ in self.log]


class FakeAck:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.response: Any = None

    def __call__(self, **kwargs: Any) -> None:
        self.recorder.ack(**kwargs)
        self.response = self.recorder.response


def command(text: str, user: str = THERAPIST) -> dict[str, Any]:
    return {"text": text, "user_id": user, "trigger_id": "1.2.3", "response_url": "http://127.0.0.1:9/r", "command": "/alliance"}


def run(runtime: Runtime, text: str) -> Recorder:
    """The command's ack part, then its later part (the modal form's) as Bolt runs
    it: with what the ack part handed over, in a copy of the context."""
    recorder = Recorder()
    context = BoltContext()
    body = command(text)
    handle_alliance(runtime.services, FakeAck(recorder), body, context)  # type: ignore[arg-type]
    later(open_checkin(runtime.services))(body=body, context=context.to_copyable(), client=recorder,
                                          respond=recorder.respond)
    drain_outbox(runtime)  # what the command queued (a DM, warnings) is sent
    return recorder


def test_help_is_the_acknowledgement_itself(runtime: Runtime) -> None:
    recorder = run(runtime, "help")
    assert recorder.names() == ["ack"]
    assert "/alliance log" in recorder.log[0][1]["text"]


def test_a_parse_error_is_acknowledged_with_its_reason(runtime: Runtime) -> None:
    recorder = run(runtime, "log nonsense")
    assert recorder.names() == ["ack"]
    assert "is not a case code" in recorder.log[0][1]["text"]


def test_the_modal_opens_right_after_the_ack(runtime: Runtime) -> None:
    created = run(runtime, "new couple")
    code = created.log[-1][1]["text"].split("*")[1]
    recorder = run(runtime, code)
    assert recorder.names() == ["ack", "views_open"]
    opened = recorder.log[1][1]
    assert opened["trigger_id"] == "1.2.3"
    assert [b["block_id"] for b in opened["view"]["blocks"] if b["block_id"].startswith("rating:")] == [
        "rating:A", "rating:B", "rating:unit", "rating:collective"]


def test_work_is_stored_then_acknowledged_with_the_reply(runtime: Runtime) -> None:
    # Changed with issue 11: the acknowledgement itself carries the reply; nothing
    # depends on response_url, and the case exists before Slack hears "got it".
    recorder = run(runtime, "new family members=3")
    assert recorder.names() == ["ack"]
    assert "FAM-" in recorder.log[0][1]["text"] and recorder.log[0][1]["response_type"] == "ephemeral"


def test_submission_errors_are_inline(runtime: Runtime) -> None:
    code = run(runtime, "new couple").log[-1][1]["text"].split("*")[1]
    recorder = Recorder()
    view = {"type": "modal", "callback_id": "checkin_modal", "private_metadata": f'{{"code": "{code}"}}',
            "blocks": [{"type": "input", "block_id": "rating:A"}]}
    body = view_submission(THERAPIST, view, rating_values({"A": 8}))
    submit_checkin(runtime.services, FakeAck(recorder), body, recorder)  # type: ignore[arg-type]
    assert recorder.names() == ["ack"]
    errors = recorder.log[0][1]["errors"]
    assert set(errors) == {"rating:B", "rating:unit", "rating:collective"}


def test_reported_acknowledges_an_early_failure_with_one_line() -> None:
    recorder = Recorder()

    @reported
    def listener(ack: Any, body: Any, respond: Any, client: Any) -> None:
        raise RuntimeError("boom")

    listener(ack=FakeAck(recorder), body=command("x"), respond=recorder.respond, client=recorder)
    assert recorder.names() == ["ack"]
    text = recorder.log[0][1]["text"]
    assert "Something went wrong on our side" in text and "boom" not in text


def test_a_button_failure_is_told_after_the_acknowledgement() -> None:
    """A button's ack carries no text: the failure is told by the later part (after
    the HTTP answer), and what the failed part handed over is not acted on."""
    recorder = Recorder()
    stepped: list[Any] = []

    def ack_part(ack: Any, body: Any, context: Any) -> None:
        hand_over(context, "half done")
        raise RuntimeError("boom")

    parts = acknowledged(ack_part, lambda body, handed, client, respond: stepped.append(handed))
    context = BoltContext()
    body = {"type": "block_actions", "user": {"id": THERAPIST}, "response_url": "http://127.0.0.1:9/r"}
    parts["ack"](ack=FakeAck(recorder), body=body, context=context)
    assert recorder.names() == ["ack"] and recorder.log[0][1] == {}
    [after] = parts["lazy"]
    after(body=body, context=context.to_copyable(), client=recorder, respond=recorder.respond)
    assert recorder.names() == ["ack", "respond"] and stepped == []
    assert "Something went wrong on our side" in recorder.log[1][1]["text"]


def test_a_later_part_without_anything_handed_over_does_nothing() -> None:
    recorder = Recorder()
    stepped: list[Any] = []
    after = later(lambda body, handed, client, respond: stepped.append(handed))
    after(body={"type": "block_actions"}, context=BoltContext(), client=recorder, respond=recorder.respond)
    assert stepped == [] and recorder.names() == []


def test_reported_replies_after_a_late_failure() -> None:
    recorder = Recorder()

    @reported
    def listener(ack: Any, body: Any, respond: Any, client: Any) -> None:
        ack()
        raise RuntimeError("boom")

    listener(ack=FakeAck(recorder), body=command("x"), respond=recorder.respond, client=recorder)
    assert recorder.names() == ["ack", "respond"]
    assert "Nothing was saved" in recorder.log[1][1]["text"]


def test_every_command_of_the_grammar_has_a_handler() -> None:
    import typing

    from bot.domain import grammar
    from handlers.commands.table import SUBCOMMANDS as COMMANDS

    answered_inline = {grammar.OpenCheckin, grammar.Help}
    assert set(typing.get_args(grammar.Command)) == set(COMMANDS) | answered_inline
