"""`/alliance forget CASE` (asks first) and `/alliance export` (CSV by DM)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, ConfirmObject

from bot.domain import grammar
from bot.domain.cases import normalize_case_code
from bot.domain.errors import UserError
from bot.slack.services import Services
from bot.slack.blocks import CommandResult, Reply, ephemeral, fallback, text_blocks
from bot.slack.exports import queue_export
from bot.slack.ids import Action, Block
from bot.slack.warning_outbox import queue_removed_notices
from bot.slack.templating import render
from bot.usecases import export as export_uc
from bot.usecases import forget as forget_uc
from handlers.errors import acknowledged, hand_over, replace_prompt

logger = logging.getLogger(__name__)



def forget_buttons(code: str) -> ActionsBlock:
    confirm = ConfirmObject(
        title=f"Forget {code}?",
        text=f"Everything recorded about {code} is deleted for good.",
        confirm="Forget it",
        deny="Keep it",
        style="danger",
    )
    return ActionsBlock(block_id=Block.FORGET_ACTIONS, elements=[
        ButtonElement(text=f"Forget {code}", action_id=Action.FORGET_CONFIRM, value=code, style="danger",
                      confirm=confirm),
        ButtonElement(text="Keep it", action_id=Action.FORGET_CANCEL, value=code),
    ])


def ask_to_forget(services: Services, user_id: str, command: grammar.ForgetCase) -> CommandResult:
    return CommandResult(ask_to_forget_reply(services, user_id, command))


def ask_to_forget_reply(services: Services, user_id: str, command: grammar.ForgetCase) -> Reply:
    """The confirmation step: what will be deleted, and a button that asks again."""
    now = services.now()
    with services.session_factory.begin() as session:
        actor = services.roles.actor(session, user_id, now)
        preview = forget_uc.preview_forget(session, actor, command.code)
    text = render("messages/forget_confirm.j2", code=preview.code, checkins=preview.checkins,
                  flags=preview.flags, notes=preview.notes)
    return {"response_type": "ephemeral", "text": fallback(text),
            "blocks": text_blocks(text) + [forget_buttons(preview.code).to_dict()]}


def clicked_code(body: dict[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    code = normalize_case_code(str(actions[0].get("value") or ""))
    if code is None:
        raise UserError("That button no longer points at a case; type `/alliance forget CODE` again.")
    return code


def confirm_forget(services: Services, ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """Delete (access checked again, for whoever clicked), then say so in place of the question."""
    code = clicked_code(body)
    now = services.now()
    with services.session_factory.begin() as session:
        actor = services.roles.actor(session, body["user"]["id"], now)
        forgotten = forget_uc.forget_case(session, actor, code, now)
        edited = queue_removed_notices(session, forgotten.thread_roots)  # sent once it is gone for good
    text = render("messages/case_forgotten.j2", code=forgotten.code, checkins=forgotten.checkins,
                  flags=forgotten.flags, roots=edited)
    ack()
    hand_over(context, ephemeral(text))


def cancel_forget(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    code = clicked_code(body)
    ack()
    hand_over(context, ephemeral(f"Kept {code}; nothing was deleted."))


def export(services: Services, user_id: str, command: grammar.Export) -> CommandResult:
    return CommandResult(export_reply(services, user_id, command))


def export_reply(services: Services, user_id: str, command: grammar.Export) -> Reply:
    """Supervisors and admins: the CSV is queued for their DM (bot/slack/exports.py
    renders and uploads it, checking access again), and the reply says so at once."""
    now = services.now()
    with services.session_factory.begin() as session:
        actor = services.roles.actor(session, user_id, now)
        size = export_uc.export_size(session, actor)  # refuses anyone else
        queue_export(session, user_id)
    return ephemeral(render("messages/export_sent.j2", checkins=size.checkins, flags=size.flags, cases=size.cases))


def register(app: App, services: Services) -> None:
    def forget_confirmed(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        confirm_forget(services, ack, body, context)

    app.action(Action.FORGET_CONFIRM)(**acknowledged(forget_confirmed, replace_prompt))
    app.action(Action.FORGET_CANCEL)(**acknowledged(cancel_forget, replace_prompt))
