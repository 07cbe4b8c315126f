"""The *Plan repair* and *Resolve* modals: built for one warning root, read back
into typed entries. `private_metadata` carries the flag id and the root's
channel and ts, so the submission knows which warning it is about."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.domain.checkins import NOTE_MAX_LENGTH
from bot.domain.errors import UserError
from bot.slack.checkin_view import FieldErrors
from bot.slack.ids import Action, Block, Callback
from bot.slack.templating import escape_mrkdwn
from bot.usecases.flag_actions import Handled, PlanAction, PlanEntry, Resolution, ResolveEntry, WarningRef
from bot.domain.messages import MessageRef

NOTE_HINT = "Encrypted; only this case's therapists and you see it. Never posted in the thread. No names, dates or contact details."
# Which input block a use case's `UserError.field` belongs on.
PLAN_FIELDS = {"note": Block.PLAN_NOTE, "due": Block.PLAN_DUE, "action": Block.PLAN_ACTION}
RESOLVE_FIELDS = {"note": Block.RESOLUTION_NOTE, "resolution": Block.RESOLUTION}


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def encode_ref(ref: WarningRef) -> str:
    message = ref.message
    return json.dumps({"flag": ref.flag_id, "channel": message.channel_id if message else None,
                       "ts": message.message_ts if message else None})


def decode_ref(view: dict[str, Any]) -> WarningRef:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
        flag_id = int(data["flag"])
    except (ValueError, KeyError, TypeError):
        raise UserError("This form lost track of its warning; press the button on the warning again.") from None
    channel, ts = data.get("channel"), data.get("ts")
    return WarningRef(flag_id, MessageRef(str(channel), str(ts)) if channel and ts else None)


def _heading(handled: Handled) -> SectionBlock:
    rules = ", ".join(handled.rules)
    return SectionBlock(block_id=Block.WARNING_HEADING,
                        text=MarkdownTextObject(text=f"*{escape_mrkdwn(handled.case_code)}* · {escape_mrkdwn(rules)}"[:3000]))


def _note_block(block_id: str, label: str) -> InputBlock:
    return InputBlock(block_id=block_id, label=label, optional=True, hint=NOTE_HINT,
                      element=PlainTextInputElement(action_id=Action.VALUE, multiline=True, max_length=NOTE_MAX_LENGTH))


def build_plan_modal(ref: WarningRef, handled: Handled, default_due: date) -> dict[str, Any]:
    blocks = [
        _heading(handled),
        InputBlock(block_id=Block.PLAN_ACTION, label="What", element=RadioButtonsElement(
            action_id=Action.VALUE, options=[Option(value=a.value, text=_sentence(a.label)) for a in PlanAction])),
        InputBlock(block_id=Block.PLAN_DUE, label="By when", element=DatePickerElement(
            action_id=Action.VALUE, initial_date=default_due.isoformat())),
        _note_block(Block.PLAN_NOTE, "Private note"),
    ]
    view = View(type="modal", callback_id=Callback.PLAN_REPAIR, title=PlainTextObject(text="Plan a repair"),
                submit=PlainTextObject(text="Save plan"), close=PlainTextObject(text="Cancel"),
                private_metadata=encode_ref(ref), blocks=blocks)
    return view.to_dict()


def build_resolve_modal(ref: WarningRef, handled: Handled) -> dict[str, Any]:
    blocks = [
        _heading(handled),
        InputBlock(block_id=Block.RESOLUTION, label="How did it end", element=RadioButtonsElement(
            action_id=Action.VALUE, options=[Option(value=r.value, text=_sentence(r.label)) for r in Resolution])),
        _note_block(Block.RESOLUTION_NOTE, "Private note"),
    ]
    view = View(type="modal", callback_id=Callback.RESOLVE, title=PlainTextObject(text="Resolve the warning"),
                submit=PlainTextObject(text="Resolve"), close=PlainTextObject(text="Cancel"),
                private_metadata=encode_ref(ref), blocks=blocks)
    return view.to_dict()


def _value(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return view.get("state", {}).get("values", {}).get(block_id, {}).get(Action.VALUE, {}) or {}


def _choice(view: dict[str, Any], block_id: str) -> str | None:
    option = _value(view, block_id).get("selected_option")
    return str(option["value"]) if option else None


def read_plan_submission(view: dict[str, Any]) -> PlanEntry:
    """Every field checked, each problem on its own field. The note is checked
    for identifying details by the use case, before anything is stored."""
    errors: dict[str, str] = {}
    action = _choice(view, Block.PLAN_ACTION)
    if action not in PlanAction._value2member_map_:
        errors[Block.PLAN_ACTION] = "Pick what you plan to do."
    raw_due = _value(view, Block.PLAN_DUE).get("selected_date")
    due: date | None = None
    try:
        due = date.fromisoformat(str(raw_due)) if raw_due else None
    except ValueError:
        pass
    if due is None:
        errors[Block.PLAN_DUE] = "Pick the day it should be done by."
    if errors or action is None or due is None:
        raise FieldErrors(errors)
    return PlanEntry(action=PlanAction(action), due_on=due, note=_value(view, Block.PLAN_NOTE).get("value"))


def read_resolve_submission(view: dict[str, Any]) -> ResolveEntry:
    resolution = _choice(view, Block.RESOLUTION)
    if resolution not in Resolution._value2member_map_:
        raise FieldErrors({Block.RESOLUTION: "Pick how the warning ended."})
    return ResolveEntry(resolution=Resolution(str(resolution)), note=_value(view, Block.RESOLUTION_NOTE).get("value"))
