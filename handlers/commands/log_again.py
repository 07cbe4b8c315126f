"""A second `/alliance log` for the same case and day is asked about before it is stored.

The "Log session N" button carries what logging needs: the case code, the ratings,
the options and the session number it would become, so pressing it stores exactly
what was typed, as an explicit `session=N`. It never carries a private note: a
button's value is sent to Slack in the clear and comes back in every click's
payload, while a note only ever exists encrypted in the database. A `log` that has
a note gets no button; it is told to send the command again with `session=N`.

Pressing twice (a double click, a replayed request) stores one check-in: the
submission key is derived from the button's value and the person who pressed it,
and a repeated key returns the stored check-in instead of a second one.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk.models.blocks import ActionsBlock, ButtonElement

from bot.domain import grammar
from bot.domain.cases import normalize_case_code
from bot.domain.errors import UserError
from bot.slack.services import Services
from bot.slack.blocks import Reply, ephemeral, fallback, text_blocks
from bot.slack.ids import Action, Block
from bot.slack.templating import render
from bot.slack.checkin_form import logged_text
from bot.slack.after_checkin import queue_after_checkin
from bot.domain.checkin_input import CheckinInput, parse_log_options, parse_ratings
from bot.store.models import Case
from bot.usecases import cases as case_uc
from bot.usecases import checkins as checkin_uc
from bot.usecases.checkins import SameDay
from handlers.errors import acknowledged, hand_over, replace_prompt

logger = logging.getLogger(__name__)

VALUE_LIMIT = 2000  # Slack's limit on a button's value
STALE = "That button no longer holds a check-in; type the `/alliance log` command again."


def day_label(same_day: SameDay) -> str:
    return f"{same_day.day:%a} {same_day.day.day} {same_day.day:%b}"


def button_value(command: grammar.LogCheckin, session_number: int) -> str:
    """What the button needs to log, never the note (see the module's docstring)."""
    options = {key: value for key, value in command.options.items() if key not in ("note", "session")}
    return json.dumps({"code": command.code, "ratings": list(command.ratings), "options": options,
                       "session": session_number}, separators=(",", ":"), sort_keys=True)


def ask_to_log_again(command: grammar.LogCheckin, same_day: SameDay) -> Reply:
    value = button_value(command, same_day.next_session)
    with_note = "note" in command.options or len(value) > VALUE_LIMIT
    text = render("messages/log_again.j2", code=same_day.code, day=day_label(same_day),
                  earlier=same_day.earlier_session, next=same_day.next_session, with_note=with_note)
    if with_note:
        return ephemeral(text)
    buttons = ActionsBlock(block_id=Block.LOG_AGAIN_ACTIONS, elements=[
        ButtonElement(text=f"Log session {same_day.next_session}", action_id=Action.LOG_AGAIN, value=value,
                      style="primary"),
        ButtonElement(text="Don't log it", action_id=Action.LOG_AGAIN_CANCEL, value=same_day.code),
    ])
    return {"response_type": "ephemeral", "text": fallback(text), "blocks": text_blocks(text) + [buttons.to_dict()]}


def read_button(value: str) -> grammar.LogCheckin:
    """The command a Log button holds, checked again like anything typed."""
    try:
        data = json.loads(value)
        code = normalize_case_code(str(data["code"]))
        ratings = tuple(str(r) for r in data["ratings"])
        options = {str(k): str(v) for k, v in dict(data["options"]).items() if k in grammar.LOG_KEYS and k != "note"}
        session_number = int(data["session"])
    except (ValueError, KeyError, TypeError):
        raise UserError(STALE) from None
    if code is None or not ratings:
        raise UserError(STALE)
    return grammar.LogCheckin(code=code, ratings=ratings, options={**options, "session": str(session_number)})


def submission_key(value: str, user_id: str) -> str:
    digest = hashlib.sha256(f"{user_id}\n{value}".encode()).hexdigest()[:48]
    return f"log-again:{digest}"


def log_again(services: Services, ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    user_id = body["user"]["id"]
    value = str((body.get("actions") or [{}])[0].get("value") or "")
    command = read_button(value)
    recorded = store_log(services, user_id, command, submission_key=submission_key(value, user_id))
    if isinstance(recorded, SameDay):  # cannot happen: asking is off here
        raise UserError(STALE)
    ack()  # stored, with its warnings queued; the ephemeral prompt is replaced after the acknowledgement
    hand_over(context, ephemeral(logged_text(recorded)))


def cancel_log_again(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    code = normalize_case_code(str((body.get("actions") or [{}])[0].get("value") or "")) or "The case"
    ack()
    hand_over(context, ephemeral(f"Nothing was logged; {code} is as it was."))


def store_log(services: Services, user_id: str, command: grammar.LogCheckin, ask_same_day: bool = False,
              submission_key: str | None = None) -> checkin_uc.RecordedCheckin | checkin_uc.SameDay:
    """Validate and store a `log` command, all or nothing, through one use-case call."""
    now = services.now()
    with services.session_factory.begin() as session:
        actor, therapist = services.roles.actor_and_profile(session, user_id, now)
        today = services.today_for(therapist.tz)

        def read(case: Case) -> CheckinInput:
            ratings = parse_ratings(case.code, case_uc.case_threads(case), command.ratings)
            options = parse_log_options(command.options, list(case.member_labels), today)
            return CheckinInput(ratings=ratings, **options)  # type: ignore[arg-type]

        outcome = checkin_uc.log_checkin_or_ask(session, actor, command.code, read, now, services.cipher,
                                                submission_key=submission_key, today=today, ask_same_day=ask_same_day)
        if isinstance(outcome, checkin_uc.RecordedCheckin):
            queue_after_checkin(session, services, user_id, outcome, now)  # its warnings and links, queued with it
        return outcome


def register(app: App, services: Services) -> None:
    def log_again_pressed(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        log_again(services, ack, body, context)

    app.action(Action.LOG_AGAIN)(**acknowledged(log_again_pressed, replace_prompt))
    app.action(Action.LOG_AGAIN_CANCEL)(**acknowledged(cancel_log_again, replace_prompt))
