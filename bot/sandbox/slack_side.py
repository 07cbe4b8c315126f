"""The sandbox's Slack, towards Alliance: what a person does on the page becomes
the signed request Slack would send to Alliance's `/slack/events` (slash
command, block_actions, view_submission, view_closed, message and
app_home_opened events), and Alliance's acknowledgement is applied the way Slack
applies it (an ephemeral reply, `response_action` on a modal)."""

from __future__ import annotations

import itertools
import logging
import time
from typing import Any

from bot.sandbox import signed
from bot.sandbox.people import SUPERVISION_CHANNEL, SUPERVISION_NAME, person
from bot.sandbox.slack_api import SlackStandIn
from bot.sandbox.workspace import BOT_ID, BOT_USER, Responder, dm_channel

logger = logging.getLogger(__name__)
COMMAND = "/alliance"
ACK_SECONDS = 3.0


class SlackSide:
    def __init__(self, standin: SlackStandIn, events_url: str, signing_secret: str) -> None:
        self.standin = standin
        self.workspace = standin.workspace
        self.events_url = events_url
        self.secret = signing_secret
        self._events = itertools.count(1)

    def _post(self, body: bytes, content_type: str) -> signed.Answer:
        return signed.post(self.events_url, body, signed.signed_headers(body, content_type, self.secret), timeout=15)

    def _interaction(self, payload: dict[str, Any]) -> signed.Answer:
        return self._post(signed.interaction_body(payload), "application/x-www-form-urlencoded")

    @staticmethod
    def _failed(answer: signed.Answer) -> str | None:
        if answer.status != 200:
            return f'Alliance answered HTTP {answer.status} ("dispatch_failed")'
        if answer.seconds > ACK_SECONDS:
            return f'Alliance took {answer.seconds:.1f} s to acknowledge ("operation_timeout")'
        return None

    # -- slash command -------------------------------------------------------------
    def command(self, user: str, channel: str, text: str) -> str | None:
        """`/alliance text` typed in `channel`; returns a problem line, or None."""
        trigger = self.standin.new_trigger(user)
        response_url = self.standin.response_url("command", Responder(user=user, channel=channel))
        name = SUPERVISION_NAME if channel == SUPERVISION_CHANNEL else "directmessage"
        body = signed.command_body(text, user, trigger, response_url, channel_id=channel, channel_name=name,
                                   user_name=person(user).label.lower().replace(" ", "-"))
        answer = self._post(body, "application/x-www-form-urlencoded")
        problem = self._failed(answer)
        if problem:
            self.workspace.post_ephemeral(channel, user, {"text": f"{COMMAND} failed: {problem}"})
            return problem
        reply = answer.json() if answer.body else None
        if isinstance(reply, dict) and (reply.get("text") or reply.get("blocks")):
            message = {"text": reply.get("text") or "", "blocks": reply.get("blocks")}
            if reply.get("response_type") == "in_channel":
                self.workspace.post(channel, dict(message, ts=self.workspace.next_ts(), user=BOT_USER, bot_id=BOT_ID))
            else:
                self.workspace.post_ephemeral(channel, user, message)
        return None

    # -- interactions ----------------------------------------------------------------
    def message_action(self, user: str, channel: str, ts: str, action: dict[str, Any]) -> str | None:
        """A button, select or overflow in a message (ephemeral ones included)."""
        stored = self.workspace.find(channel, ts)
        if stored is None:
            return "That message is gone."
        message = {k: v for k, v in stored.items() if k not in ("ephemeral_for", "replies", "channel")}
        trigger = self.standin.new_trigger(user)
        response_url = self.standin.response_url(
            "action", Responder(user=user, channel=channel, original_ts=ts, thread_ts=stored.get("thread_ts")))
        payload = signed.block_actions(user, [self._action(action)], message=message, channel_id=channel,
                                       response_url=response_url, trigger_id=trigger)
        payload["container"]["is_ephemeral"] = bool(stored.get("ephemeral_for"))
        payload["channel"]["name"] = SUPERVISION_NAME if channel == SUPERVISION_CHANNEL else "directmessage"
        return self._failed(self._interaction(payload))

    def view_action(self, user: str, view_id: str, action: dict[str, Any], values: dict[str, Any]) -> str | None:
        """An element in a modal (e.g. a select with dispatch_action) or in App Home."""
        opened = self.workspace.views.get(view_id)
        if opened is None:
            return "That view is gone."
        trigger = self.standin.new_trigger(user)
        payload = signed.block_actions(user, [self._action(action)], view=self._view_payload(opened.id, values),
                                       trigger_id=trigger)
        return self._failed(self._interaction(payload))

    def submit(self, user: str, view_id: str, values: dict[str, Any]) -> str | None:
        opened = self.workspace.views.get(view_id)
        if opened is None:
            return "That modal is gone."
        view = self._view_payload(view_id, values)
        payload = signed.view_submission(user, view, values, view_id=view_id, view_hash=opened.hash)
        answer = self._interaction(payload)
        problem = self._failed(answer)
        if problem:
            self.workspace.set_errors(view_id, {"": f"We had some trouble connecting: {problem}"})
            return problem
        reply = answer.json() if answer.body else None
        action = (reply or {}).get("response_action") if isinstance(reply, dict) else None
        if action == "errors":
            self.workspace.set_errors(view_id, dict(reply.get("errors") or {}))  # type: ignore[union-attr]
        elif action == "update":
            self.workspace.update_view(view_id, dict(reply["view"]), None)  # type: ignore[index]
        elif action == "push":
            self.workspace.open_modal(user, dict(reply["view"]), push=True)  # type: ignore[index]
        elif action == "clear":
            self.workspace.close_modal(user, view_id, everything=True)
        else:
            self.workspace.close_modal(user, view_id)
        return None

    def close(self, user: str, view_id: str) -> str | None:
        opened = self.workspace.views.get(view_id)
        if opened is None:
            return None
        self.workspace.close_modal(user, view_id)
        if not opened.view.get("notify_on_close"):
            return None
        payload = {"type": "view_closed", "team": {"id": signed.TEAM_ID, "domain": "clinic"},
                   "user": {"id": user, "team_id": signed.TEAM_ID}, "api_app_id": "A0ALLIANCE",
                   "token": "legacy-verification-token", "view": self._view_payload(view_id, {}),
                   "is_cleared": False, "is_enterprise_install": False}
        return self._failed(self._interaction(payload))

    def _view_payload(self, view_id: str, values: dict[str, Any]) -> dict[str, Any]:
        opened = self.workspace.views[view_id]
        return dict(opened.view, id=view_id, hash=opened.hash, team_id=signed.TEAM_ID, app_id="A0ALLIANCE",
                    bot_id=BOT_ID, state={"values": values}, type=opened.view.get("type", opened.kind),
                    root_view_id=view_id, previous_view_id=None)

    @staticmethod
    def _action(action: dict[str, Any]) -> dict[str, Any]:
        return dict(action, action_ts=f"{time.time():.6f}")

    # -- events --------------------------------------------------------------------------
    def _event(self, event: dict[str, Any]) -> str | None:
        event_id = f"Ev{int(time.time())}{next(self._events):06d}"
        body = signed.event_body(event, event_id)
        return self._failed(self._post(body, "application/json"))

    def message(self, user: str, channel: str, text: str, thread_ts: str | None = None) -> str | None:
        """A person writes in a channel or a thread; Alliance gets the `message` event."""
        ts = self.workspace.next_ts() or f"{time.time():.6f}"
        message: dict[str, Any] = {"ts": ts, "user": user, "text": text}
        if thread_ts:
            message["thread_ts"] = thread_ts
        self.workspace.post(channel, message)
        event = dict(message, type="message", channel=channel, event_ts=ts, team=signed.TEAM_ID,
                     channel_type="channel" if channel.startswith("C") else "im",
                     blocks=[{"type": "rich_text", "block_id": "typed", "elements": [
                         {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}]}])
        return self._event(event)

    def home_opened(self, user: str) -> str | None:
        home = self.workspace.home(user)
        event: dict[str, Any] = {"type": "app_home_opened", "user": user, "channel": dm_channel(user), "tab": "home",
                                 "event_ts": f"{time.time():.6f}"}
        if home is not None:
            event["view"] = dict(home.view, id=home.id, hash=home.hash)
        return self._event(event)


