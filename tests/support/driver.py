"""Drives the running app the way Slack does, and reads back what it answered."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from tests.support import slack_requests as sr
from tests.support.slack_standin import SlackStandIn


@dataclass
class Reply:
    """What the person who typed a command saw: the ack body or a response_url post."""

    answer: sr.Answer
    payload: dict[str, Any] | None

    @property
    def text(self) -> str:
        if not self.payload:
            return ""
        parts = [self.payload.get("text") or ""]
        for block in self.payload.get("blocks") or []:
            parts.append((block.get("text") or {}).get("text", ""))
        return "\n".join(parts)

    @property
    def ephemeral(self) -> bool:
        return bool(self.payload) and self.payload.get("response_type", "ephemeral") == "ephemeral"


def rating_values(ratings: dict[str, int]) -> dict[str, Any]:
    return {f"rating:{thread}": {"value": {"type": "static_select", "selected_option": {"value": str(value)}}}
            for thread, value in ratings.items()}


def text_value(value: str) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": value}}


class SlackDriver:
    def __init__(self, base_url: str, standin: SlackStandIn, settle: Callable[[], None] | None = None) -> None:
        self.base_url = base_url
        self._settle = settle
        self.events_url = f"{base_url}/slack/events"
        self.standin = standin

    def settle(self) -> None:
        """Wait until the outbox has delivered what is due (retries included)."""
        if self._settle is not None:
            self._settle()

    def post(self, body: bytes, content_type: str, **sign: Any) -> sr.Answer:
        return sr.post(self.events_url, body, sr.signed_headers(body, content_type, **sign))

    def send_command(self, user_id: str, text: str, **sign: Any) -> tuple[sr.Answer, str, str]:
        trigger = self.standin.new_trigger()
        response_url = self.standin.response_url()
        body = sr.command_body(text, user_id, trigger, response_url)
        return self.post(body, "application/x-www-form-urlencoded", **sign), trigger, response_url

    def command(self, user_id: str, text: str, timeout: float = 5.0) -> Reply:
        """Send `/alliance text` and wait for what the user sees."""
        answer, _, response_url = self.send_command(user_id, text)
        assert answer.status == 200, answer
        assert answer.seconds < 3.0, f"acknowledged after {answer.seconds:.2f}s"
        payload = answer.json()
        if payload:
            return Reply(answer, payload)
        path = response_url.removeprefix(self.standin.base)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for call in list(self.standin.responses):
                if call.method == path:
                    return Reply(answer, call.args)
            time.sleep(0.01)
        raise AssertionError(f"no reply to `/alliance {text}`; calls: {self.standin.methods()}")

    def open_modal(self, user_id: str, text: str = "") -> dict[str, Any]:
        before = len(self.standin.calls_to("views.open"))
        answer, trigger, _ = self.send_command(user_id, text)
        assert answer.status == 200 and answer.seconds < 3.0, answer
        call = self.standin.wait_for("views.open", before + 1)[-1]
        assert call.args["trigger_id"] == trigger
        view = dict(call.args["view"])
        view.setdefault("id", "V0MODAL01")
        return view

    def submit(self, user_id: str, view: dict[str, Any], values: dict[str, Any], view_id: str = "V0MODAL01",
               view_hash: str = "h1") -> sr.Answer:
        payload = sr.view_submission(user_id, view, values, view_id=view_id, view_hash=view_hash)
        answer = self.post(sr.interaction_body(payload), "application/x-www-form-urlencoded")
        assert answer.seconds < 3.0, f"view submission acknowledged after {answer.seconds:.2f}s"
        return answer

    def interact(self, payload: dict[str, Any]) -> sr.Answer:
        answer = self.post(sr.interaction_body(payload), "application/x-www-form-urlencoded")
        assert answer.seconds < 3.0
        return answer

    def event(self, event: dict[str, Any], event_id: str, retry_num: int | None = None) -> sr.Answer:
        body = sr.event_body(event, event_id)
        headers = sr.signed_headers(body, "application/json")
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        return sr.post(self.events_url, body, headers)
