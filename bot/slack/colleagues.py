"""Colleagues on a case (issue 14, item 4): who may be given one, and telling them.

`colleague_problem` asks Slack (`users.info`, through the lookup client: a second at
most) about the person before a case is shared with or transferred to them: a bot (Alliance itself included), a
deactivated account, or someone from another workspace (a Slack Connect guest)
is refused with one line. The notices to them are outbox rows, queued in the
transaction that shares or transfers the case."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.orm import Session

from bot.domain.errors import UserError
from bot.slack.blocks import fallback, text_blocks
from bot.store import outbox

logger = logging.getLogger(__name__)


def _user(client: WebClient, user_id: str) -> dict[str, object] | None:
    """Slack's profile of `user_id`; None when Slack does not know them. Slack not
    answering in time (or rate-limiting) is not an answer: the change is refused."""
    try:
        user = client.users_info(user=user_id).get("user")
    except SlackApiError as error:
        code = str(error.response.get("error"))
        logger.info("users.info refused a colleague check: %s", code)
        if code == "ratelimited" or error.response.status_code >= 500:
            raise UserError(NO_ANSWER.format(user_id=user_id)) from None
        return None
    except (SlackClientError, OSError) as error:
        logger.info("users.info did not answer a colleague check: %s", type(error).__name__)
        raise UserError(NO_ANSWER.format(user_id=user_id)) from None
    return user if isinstance(user, dict) else None


NO_ANSWER = "Slack did not say in time who <@{user_id}> is; nothing was changed. Try again in a minute."


def colleague_problem(client: WebClient, by_user: str, user_id: str) -> str | None:
    """Why `user_id` cannot be given a case by `by_user`, or None when they can."""
    if user_id == by_user:
        return None  # the case's own rules answer (already on it, or not among yours)
    user = _user(client, user_id)
    if user is None:
        return f"<@{user_id}> is not someone Slack knows in this workspace; pick them from the @ list."
    if user.get("is_bot") or user.get("is_app_user"):
        return f"<@{user_id}> is a bot or an app; a case goes to a person."
    if user.get("deleted"):
        return f"<@{user_id}> has been deactivated in this workspace."
    sharer = _user(client, by_user)
    team, own_team = user.get("team_id"), (sharer or {}).get("team_id")
    if team and own_team and team != own_team:
        return f"<@{user_id}> is outside this workspace; a case stays with people in it."
    return None


def _dm(session: Session, user_id: str, text: str) -> None:
    outbox.enqueue(session, "dm", user_id, {"text": fallback(text), "blocks": text_blocks(text)})


def queue_shared(session: Session, user_id: str, code: str, by_user: str) -> None:
    """Queued in the transaction that shares the case (the outbox sends it)."""
    _dm(session, user_id, f"<@{by_user}> shared *{code}* with you: you can see and log it "
                          f"(`/alliance history {code}`, `/alliance log {code} …`). Its weekly reminder stays "
                          "with its lead, and comes to you while they are away.")


def queue_transferred(session: Session, user_id: str, codes: list[str], by_user: str) -> None:
    """Queued in the transaction that transfers the cases (the outbox sends it)."""
    listed = ", ".join(f"*{code}*" for code in codes)
    noun = "case" if len(codes) == 1 else "cases"
    _dm(session, user_id, f"<@{by_user}> handed you {len(codes)} {noun}: {listed}. You are now the lead: "
                          "its reminders and warnings come to you (`/alliance cases`).")
