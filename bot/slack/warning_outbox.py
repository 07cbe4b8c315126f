"""Stall warnings into the outbox, in the transaction that stores the check-in.

`evaluate_checkin` runs the case's stall rules (a few milliseconds) and queues
what they decided: new roots, edits of roots already there, one reply per root.
A check-in that is stored therefore always has its warnings queued, and whatever
evaluates a case again later (a client's answer, the daily scan) calls the same
function in its own transaction. The deliverer sends them (bot/slack/outbox_delivery.py).

Routing: a supervision warning goes to the supervision channel (the one set with
`/alliance config supervision`, else ALLIANCE_SUPERVISION_CHANNEL) and carries the
therapist's DM version, which goes out meanwhile if that channel cannot be reached;
without a channel it goes to the therapist's DM.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from bot.domain.audience import audience_of_channel
from bot.domain.messages import MessageRef, pending_outbox_id, pending_ref
from bot.domain.rules import Route
from bot.settings import Settings
from bot.slack.blocks import fallback, text_blocks
from bot.slack.question_text import question_counts
from bot.slack.warnings import checkin_update_text, thread_note_text, warning_message
from bot.store import outbox
from bot.usecases import config as config_uc
from bot.usecases import flags as flags_uc
from bot.usecases.audience_views import update_for, warning_for
from bot.usecases.flags import FlagPlan, NoteKind, WarningContent, WarningPost

logger = logging.getLogger(__name__)

REMOVED_TEXT = "A case was removed from Alliance."


def evaluate_checkin(session: Session, settings: Settings, case_id: int, checkin_id: int,
                     now: Any, reevaluation: bool = False) -> FlagPlan | None:
    """Reconcile the case's flags after this check-in and queue the messages.
    `reevaluation`: the same check-in again (a client's answer joined it), which
    counts no new quiet check-in."""
    plan = flags_uc.reconcile_flags(session, case_id, checkin_id, now, question_counts(), count_quiet=not reevaluation)
    if plan is None:
        return None
    queue_flag_plan(session, plan, config_uc.supervision_channel(session, settings))
    queued = bool(plan.posts or plan.edits or plan.notes)
    # Every check-in is evaluated: one that changes nothing is a debug line, not one per /alliance log.
    logger.log(logging.INFO if plan.fired or queued else logging.DEBUG,
               "stall rules for %s after session %d: %s fired; %d new, %d edited, %d thread notes queued",
               plan.case_code, plan.session_number, ", ".join(plan.fired) or "none", len(plan.posts),
               len(plan.edits), len(plan.notes))
    return plan


def warning_payload(content: WarningContent, channel: str) -> dict[str, Any]:
    return warning_message(warning_for(content, audience_of_channel(channel)))


def root_target(message: MessageRef) -> tuple[dict[str, Any], int | None]:
    """A root already delivered is named by its ts; one still queued by its row."""
    outbox_id = pending_outbox_id(message)
    return ({} if outbox_id is not None else {"ts": message.message_ts}), outbox_id


def queue_post(session: Session, post: WarningPost, supervision_channel: str | None) -> MessageRef:
    """A new warning root; its flags learn their row. Returns where it is queued."""
    dm = post.dm_to or post.content.therapist_id  # the one who logged the session (README: co-therapy)
    channel = supervision_channel if post.route is Route.SUPERVISION and supervision_channel else dm
    if post.route is Route.SUPERVISION and not supervision_channel:
        logger.warning("no supervision channel is configured; the %s warning goes to the therapist's DM",
                       post.content.case_code)
    payload = warning_payload(post.content, channel)
    if channel != dm:
        payload["dm_fallback"] = {"channel": dm, **warning_payload(post.content, dm)}
    row_id = outbox.enqueue(session, "post", channel, payload)
    assert row_id is not None
    flags_uc.record_root_queued(session, post.flag_ids, channel, row_id)
    return pending_ref(channel, row_id)


def queue_flag_plan(session: Session, plan: FlagPlan, supervision_channel: str | None) -> None:
    """New roots first, then edits of existing ones, then one reply per existing
    root: the check-in update with that root's notes (closed, moved) folded in.
    An escalation note links to the case's supervision thread: the deliverer asks
    Slack for its permalink when it sends the note (see `THREAD_LINK`)."""
    landed: dict[int, MessageRef] = {}
    for post in plan.posts:
        queued = queue_post(session, post, supervision_channel)
        for flag_id in post.flag_ids:
            landed[flag_id] = queued
    for edit in plan.edits:
        where, parent = root_target(edit.message)
        outbox.enqueue(session, "update", edit.message.channel_id,
                       {**where, **warning_payload(edit.content, edit.message.channel_id)}, depends_on=parent)
    notes: dict[MessageRef, list[str]] = {}
    links: dict[MessageRef, MessageRef] = {}
    for note in plan.notes:
        target = note.target or (landed.get(note.flag_id) if note.flag_id is not None else None)
        if target is not None and note.kind is NoteKind.ESCALATED:
            links.setdefault(note.message, target)
        notes.setdefault(note.message, []).append(
            thread_note_text(note, supervision_channel, THREAD_LINK if target is not None else None))
    replies: list[tuple[MessageRef, str]] = []
    for update in plan.updates:
        shown = update_for(update, audience_of_channel(update.message.channel_id))
        replies.append((update.message, "\n".join([checkin_update_text(shown), *notes.pop(update.message, [])])))
    replies.extend((message, "\n".join(texts)) for message, texts in notes.items())
    for message, text in replies:
        queue_reply(session, message, text, links.get(message), plan.case_code)


THREAD_LINK = "https://alliance.invalid/thread-link"  # stands for the linked root's permalink until the reply is sent


def queue_reply(session: Session, message: MessageRef, text: str, link_to: MessageRef | None = None,
                case_code: str | None = None) -> int | None:
    """A short reply under a warning root (delivered, or still queued). With
    `link_to`, the text's THREAD_LINK becomes that root's permalink at send time
    (the reply waits for a queued root when its own root is already delivered),
    or plain words naming the case when Slack gives no permalink."""
    where, parent = root_target(message)
    payload: dict[str, Any] = {"text": fallback(text)}
    if "ts" in where:
        payload["thread_ts"] = where["ts"]
    if link_to is not None:
        link_row = pending_outbox_id(link_to)
        payload["link"] = ({"outbox_id": link_row} if link_row is not None
                           else {"channel": link_to.channel_id, "ts": link_to.message_ts})
        payload["link"]["fallback"] = f"its {case_code} thread" if case_code else "its thread"
        if parent is None and link_row is not None:
            parent = link_row  # sent once the supervision root is (its permalink exists then)
    return outbox.enqueue(session, "reply", message.channel_id, payload, depends_on=parent)


def queue_root_refresh(session: Session, flag_id: int) -> int | None:
    """Re-render the warning root a flag belongs to (after its status changed) as
    an edit in the outbox. None when the flag has no root (delivered or queued)."""
    loaded = flags_uc.load_warning(session, flag_id, question_counts())
    if loaded is None:
        return None
    message, content = loaded
    if message is None:
        return None
    where, parent = root_target(message)
    return outbox.enqueue(session, "update", message.channel_id,
                          {**where, **warning_payload(content, message.channel_id)}, depends_on=parent)


def queue_dm(session: Session, user_id: str, text: str, dedupe_key: str | None = None) -> int | None:
    """A DM (to a user ID; Slack opens the conversation)."""
    return outbox.enqueue(session, "dm", user_id, {"text": fallback(text), "blocks": text_blocks(text)},
                          dedupe_key=dedupe_key)


def queue_removed_notices(session: Session, roots: tuple[MessageRef, ...]) -> int:
    """Each thread root of a deleted case is edited to say only that a case was
    removed; queued in the deleting transaction. Returns how many."""
    for root in roots:
        outbox.enqueue(session, "update", root.channel_id,
                       {"ts": root.message_ts, "text": REMOVED_TEXT, "blocks": text_blocks(REMOVED_TEXT)})
    return len(roots)
