"""The check-in modal: built from a case, read back into a CheckinInput."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Sequence

from slack_sdk.models.blocks import (
    CheckboxesElement,
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.cases import describe_thread
from bot.domain.checkin_input import (
    ABSENT,
    CheckinInput,
    check_note_length,
    parse_client_score,
    parse_rating,
    parse_session_date,
    parse_session_number,
)
from bot.domain.checkins import NOTE_MAX_LENGTH, Rupture, RuptureKind, TherapistFlag
from bot.domain.errors import UserError
from bot.slack.ids import Action, Block, Callback

MAX_CASE_OPTIONS = 100
RATING_OPTIONS = [Option(value=str(n), text=f"{n}" + (" · very weak" if n == 0 else " · very strong" if n == 10 else "")) for n in range(11)]
ABSENT_OPTION = Option(value="-", text="absent")
MEMBER_RATING_OPTIONS = [*RATING_OPTIONS, ABSENT_OPTION]


@dataclass(frozen=True)
class CaseChoice:
    code: str
    kind: str
    members: tuple[str, ...]
    threads: tuple[str, ...]
    next_session: int


class FieldErrors(Exception):
    """Inline errors for `response_action: errors`, keyed by block_id."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _case_picker(cases: Sequence[CaseChoice], selected: CaseChoice | None) -> InputBlock:
    options = [Option(value=c.code, text=f"{c.code} · {c.kind}") for c in cases[:MAX_CASE_OPTIONS]]
    initial = next((o for o in options if selected and o.value == selected.code), None)
    return InputBlock(
        block_id=Block.CASE,
        label="Case",
        dispatch_action=True,
        element=StaticSelectElement(action_id=Action.CASE_PICKED, placeholder="Pick a case", options=options,
                                    initial_option=initial),
    )


def _rating_block(thread: str) -> InputBlock:
    return InputBlock(
        block_id=Block.rating(thread),
        label=describe_thread(thread)[:2000],
        hint="0 = no alliance at all, 10 = as strong as it gets",
        element=StaticSelectElement(action_id=Action.VALUE, placeholder="0–10",
                                    options=RATING_OPTIONS if thread in ("unit", "collective") else MEMBER_RATING_OPTIONS),
    )


def _optional_blocks(case: CaseChoice, today: date) -> list[Any]:
    member_options = [Option(value=m, text=m) for m in case.members]
    blocks: list[Any] = [
        InputBlock(block_id=Block.SESSION, label="Session number", optional=True,
                   hint=f"Leave empty for session {case.next_session}.",
                   element=PlainTextInputElement(action_id=Action.VALUE, placeholder=str(case.next_session), max_length=3)),
        InputBlock(block_id=Block.SESSION_DATE, label="Session date", optional=True,
                   hint="Stored with the check-in; never posted to a channel.",
                   element=DatePickerElement(action_id=Action.VALUE, initial_date=today.isoformat())),
    ]
    for member in case.members:
        blocks.append(InputBlock(
            block_id=Block.client_score(member), label=f"Client-reported alliance, {member} (0–40)", optional=True,
            element=PlainTextInputElement(action_id=Action.VALUE, placeholder="e.g. 34", max_length=2)))
    blocks.append(InputBlock(
        block_id=Block.RUPTURE, label="Rupture seen", optional=True,
        element=StaticSelectElement(action_id=Action.VALUE, placeholder="None", options=[
            Option(value=k.value, text=k.value.capitalize()) for k in RuptureKind])))
    if len(case.members) > 1:
        blocks.append(InputBlock(
            block_id=Block.RUPTURE_WITH, label="Rupture with", optional=True,
            element=CheckboxesElement(action_id=Action.VALUE, options=member_options)))
    blocks.append(InputBlock(
        block_id=Block.FLAGS, label="In this session I…", optional=True,
        element=CheckboxesElement(action_id=Action.VALUE, options=[
            Option(value=f.value, text=f.description) for f in TherapistFlag])))
    blocks.append(InputBlock(
        block_id=Block.NOTE, label="Private note", optional=True,
        hint="Encrypted; only this case's therapists see it. No names, dates or contact details.",
        element=PlainTextInputElement(action_id=Action.VALUE, multiline=True, max_length=NOTE_MAX_LENGTH)))
    return blocks


def build_checkin_modal(cases: Sequence[CaseChoice], selected: CaseChoice | None, today: date) -> dict[str, Any]:
    blocks: list[Any] = []
    if len(cases) > 1 or selected is None:
        blocks.append(_case_picker(cases, selected))
    if selected is None:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="Pick a case to rate each thread of the alliance.")]))
    else:
        blocks.append(SectionBlock(block_id="case_heading", text=MarkdownTextObject(
            text=f"*{selected.code}* · {selected.kind} · session {selected.next_session}")))
        blocks += [_rating_block(thread) for thread in selected.threads]
        blocks += _optional_blocks(selected, today)
    view = View(
        type="modal", callback_id=Callback.CHECKIN, title=PlainTextObject(text="Alliance check-in"),
        submit=PlainTextObject(text="Save") if selected else None, close=PlainTextObject(text="Cancel"),
        private_metadata=json.dumps({"code": selected.code if selected else None}), blocks=blocks,
    )
    return view.to_dict()


def _value(state: dict[str, Any], block_id: str) -> Any:
    return state.get(block_id, {}).get(Action.VALUE, {})


def selected_code(view: dict[str, Any]) -> str | None:
    state = view.get("state", {}).get("values", {})
    picked = state.get(Block.CASE, {}).get(Action.CASE_PICKED, {}).get("selected_option")
    if picked:
        return str(picked["value"])
    metadata = json.loads(view.get("private_metadata") or "{}")
    code = metadata.get("code")
    return str(code) if code else None


def read_checkin_submission(view: dict[str, Any], case: CaseChoice, today: date) -> CheckinInput:
    """Every field checked; all problems reported at once, each on its field."""
    state = view.get("state", {}).get("values", {})
    errors: dict[str, str] = {}
    ratings: dict[str, int | None] = {}
    for thread in case.threads:
        option = _value(state, Block.rating(thread)).get("selected_option")
        try:
            if option is None:
                raise UserError(f"Rate {thread} from 0 to 10 (or pick absent).")
            value = str(option["value"])
            ratings[thread] = None if value == ABSENT else parse_rating(value, thread)
        except UserError as error:
            errors[Block.rating(thread)] = error.message
    parsed: dict[str, Any] = {}

    def attempt(block_id: str, key: str, parse: Any, raw: Any) -> None:
        if raw in (None, ""):
            return
        try:
            parsed[key] = parse(raw)
        except UserError as error:
            errors[block_id] = error.message

    attempt(Block.SESSION, "session_number", parse_session_number, _value(state, Block.SESSION).get("value"))
    attempt(Block.SESSION_DATE, "session_date", lambda raw: parse_session_date(raw, today),
            _value(state, Block.SESSION_DATE).get("selected_date"))
    client: dict[str, int] = {}
    for member in case.members:
        raw = _value(state, Block.client_score(member)).get("value")
        if raw not in (None, ""):
            try:
                client[member] = parse_client_score(str(raw), member)
            except UserError as error:
                errors[Block.client_score(member)] = error.message
    # Choices are checked against what was offered: a forged submission can put any text here.
    kind_option = _value(state, Block.RUPTURE).get("selected_option")
    kind = RuptureKind.NONE
    if kind_option:
        try:
            kind = RuptureKind(str(kind_option.get("value")))
        except ValueError:
            errors[Block.RUPTURE] = "Pick one of the offered kinds of rupture."
    with_whom = tuple(str(o.get("value")) for o in _value(state, Block.RUPTURE_WITH).get("selected_options") or [])
    if any(member not in case.members for member in with_whom):
        errors[Block.RUPTURE_WITH] = "Pick members of this case."
        with_whom = ()
    if kind is RuptureKind.NONE and with_whom:
        errors[Block.RUPTURE_WITH] = "Pick withdrawal or confrontation above, or clear this."
    if len(case.members) == 1 and kind is not RuptureKind.NONE:
        with_whom = case.members
    flags: frozenset[TherapistFlag] = frozenset()
    try:
        flags = frozenset(TherapistFlag(str(o.get("value")))
                          for o in _value(state, Block.FLAGS).get("selected_options") or [])
    except ValueError:
        errors[Block.FLAGS] = "Pick from the offered options."
    attempt(Block.NOTE, "note", check_note_length, _value(state, Block.NOTE).get("value"))
    if errors:
        raise FieldErrors(errors)
    return CheckinInput(ratings=ratings, rupture=Rupture(kind=kind, members=with_whom), flags=flags,
                        client_scores=client or None, **parsed)
