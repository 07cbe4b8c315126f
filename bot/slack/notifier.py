"""Sending stall warnings: one message per case and route, edited on repeats.

A warning goes to the therapist's DM or to the supervision channel (the one set
with `/alliance config supervision`, else ALLIANCE_SUPERVISION_CHANNEL; with
neither, or when posting there fails, to the DM, and the log says so). A Slack
failure is logged and the flag stays unposted, so the next check-in posts it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.store.db import SessionFactory
from bot.domain.audience import audience_of_channel
from bot.domain.rules import Route
from bot.slack.blocks import fallback, text_blocks
from bot.slack.question_text import question_counts
from bot.slack.pacing import DEFAULT_PACER, ChannelPacer
from bot.slack.warnings import checkin_update_text, thread_note_text, warning_message
from bot.usecases import flags as flags_uc
from bot.domain.messages import MessageRef
from bot.usecases.audience_views import update_for, warning_for
from bot.usecases.flags import FlagPlan, WarningContent, WarningPost


logger = logging.getLogger(__name__)

SLACK_FAILURES = (SlackApiError, OSError)


@dataclass(frozen=True)
class Posted:
    """Where a new warning root landed, for `flags.record_warning_posted`."""

    flag_ids: tuple[int, ...]
    message: MessageRef


def _error(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error"))
    return type(error).__name__


def _post(client: WebClient, channel: str, content: WarningContent, pacer: ChannelPacer = DEFAULT_PACER) -> MessageRef:
    pacer.wait_turn(channel)  # one message a second per channel, shared with the scheduled jobs
    response = client.chat_postMessage(channel=channel, **warning_message(warning_for(content, audience_of_channel(channel))))
    return MessageRef(str(response["channel"]), str(response["ts"]))


def post_warning(client: WebClient, post: WarningPost, supervision_channel: str | None,
                 pacer: ChannelPacer = DEFAULT_PACER) -> MessageRef | None:
    """Post a new warning root; returns where it landed, or None when Slack refused."""
    dm = post.dm_to or post.content.therapist_id  # the one who logged the session (README: co-therapy)
    if post.route is Route.SUPERVISION:
        if supervision_channel:
            try:
                return _post(client, supervision_channel, post.content, pacer)
            except SLACK_FAILURES as error:
                logger.error("could not post a %s warning to the supervision channel (%s); sending it by DM",
                             post.content.case_code, _error(error))
        else:
            logger.warning("no supervision channel is configured; the %s warning goes to the therapist's DM",
                           post.content.case_code)
    try:
        return _post(client, dm, post.content, pacer)
    except SLACK_FAILURES as error:
        logger.error("could not post the %s warning (%s); it will be posted at the next check-in",
                     post.content.case_code, _error(error))
        return None


def update_warning(client: WebClient, message: MessageRef, content: WarningContent) -> bool:
    """Edit a warning root in place (chat.update) to show its current state."""
    try:
        shown = warning_for(content, audience_of_channel(message.channel_id))
        client.chat_update(channel=message.channel_id, ts=message.message_ts, **warning_message(shown))
        return True
    except SLACK_FAILURES as error:
        logger.error("could not update the %s warning (%s)", content.case_code, _error(error))
        return False


def refresh_warning(client: WebClient, session_factory: SessionFactory, flag_id: int) -> bool:
    """Re-render the warning root a flag belongs to (after its status changed) and
    edit it in place. False when the flag has no posted warning or Slack refused."""
    with session_factory.begin() as session:
        loaded = flags_uc.load_warning(session, flag_id, question_counts())
    if loaded is None:
        return False
    message, content = loaded
    if message is None:
        return False
    return update_warning(client, message, content)


def permalink(client: WebClient, message: MessageRef) -> str | None:
    """A message's https permalink (chat.getPermalink), or None when Slack has none."""
    try:
        link = client.chat_getPermalink(channel=message.channel_id, message_ts=message.message_ts).get("permalink")
    except SLACK_FAILURES as error:
        logger.warning("no permalink for a warning root: %s", _error(error))
        return None
    return link if isinstance(link, str) and link.startswith("https://") else None


def reply_in_thread(client: WebClient, message: MessageRef, text: str, pacer: ChannelPacer = DEFAULT_PACER) -> bool:
    """A short reply under a warning root; a Slack failure is logged, never raised."""
    try:
        pacer.wait_turn(message.channel_id)
        client.chat_postMessage(channel=message.channel_id, thread_ts=message.message_ts, text=fallback(text))
        return True
    except SLACK_FAILURES as error:
        logger.error("could not reply in a warning's thread (%s)", _error(error))
        return False


def deliver_flag_plan(client: WebClient, plan: FlagPlan, supervision_channel: str | None,
                      pacer: ChannelPacer = DEFAULT_PACER) -> list[Posted]:
    """New roots first, then edits of existing ones, then one reply per existing
    root: the check-in update with that root's notes (closed, moved) folded in."""
    posted: list[Posted] = []
    for post in plan.posts:
        message = post_warning(client, post, supervision_channel, pacer)
        if message is not None:
            posted.append(Posted(post.flag_ids, message))
    for edit in plan.edits:
        update_warning(client, edit.message, edit.content)
    notes: dict[MessageRef, list[str]] = {}
    landed = {flag_id: item.message for item in posted for flag_id in item.flag_ids}
    for note in plan.notes:
        target = note.target or (landed.get(note.flag_id) if note.flag_id is not None else None)
        notes.setdefault(note.message, []).append(
            thread_note_text(note, supervision_channel, permalink(client, target) if target else None))
    for update in plan.updates:
        shown = update_for(update, audience_of_channel(update.message.channel_id))
        reply_in_thread(client, update.message, "\n".join([checkin_update_text(shown), *notes.pop(update.message, [])]), pacer)
    for message, texts in notes.items():
        reply_in_thread(client, message, "\n".join(texts), pacer)
    return posted


REMOVED_TEXT = "A case was removed from Alliance."


def announce_removed(client: WebClient, roots: tuple[MessageRef, ...]) -> int:
    """Edit each thread root to say only that a case was removed. Call after the
    deletion committed. Returns how many were edited; failures are logged, not raised."""
    edited = 0
    for root in roots:
        try:
            client.chat_update(channel=root.channel_id, ts=root.message_ts, text=REMOVED_TEXT,
                               blocks=text_blocks(REMOVED_TEXT))
            edited += 1
        except SlackApiError as error:
            logger.warning("could not edit a removed case's thread root in %s: %s",
                           root.channel_id, error.response.get("error"))
    return edited
