"""The weekly reminder DM: its text and blocks, and queueing it once in the
outbox (under its dedupe key, `reminder:USER:WEEK`); the deliverer sends it.

Blocks come from small builder functions (plain dicts in Block Kit's shape):
a sweep builds thousands of them, and slack_sdk's model classes cost more
than the rest of the sweep. The stand-in in the tests checks every one of
them with slack_sdk's models."""

from __future__ import annotations

from typing import Any, Sequence

from bot.store import outbox
from bot.jobs.due_reminders import SNOOZED_KIND, DueReminder, chunked, clear_snoozes_in
from bot.slack.services import Services
from bot.slack.blocks import SECTION_LIMIT, fallback
from bot.slack.question_text import render_questions
from bot.slack.ids import Action, Block
from bot.slack.templating import Mrkdwn, render

MAX_LISTED = 20  # cases with their own buttons; 2 blocks each keeps a message under 50 blocks
QUEUE_BATCH = 200  # reminders queued per commit (SQLite has one writer: keep each transaction short)

Blocks = list[dict[str, Any]]


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _button(text: str, action_id: str, value: str, **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": text, "emoji": True},
            "action_id": action_id, "value": value, **extra}


def _confirm_pause(code: str) -> dict[str, Any]:
    return {"title": {"type": "plain_text", "text": "Pause this case?"},
            "text": {"type": "mrkdwn", "text": f"No reminders for {code} until you log it or reopen it."},
            "confirm": {"type": "plain_text", "text": "Pause"},
            "deny": {"type": "plain_text", "text": "Cancel"}}


def _case_actions(code: str) -> dict[str, Any]:
    return {"type": "actions", "block_id": f"{Block.REMINDER_ACTIONS}:{code}", "elements": [
        _button("Log now", Action.LOG_NOW, code, style="primary"),
        _button("Pause case", Action.PAUSE_CASE, code, confirm=_confirm_pause(code)),
    ]}


def _notice_items(reminder: DueReminder) -> list[dict[str, Any]]:
    """Each notice with its one question rendered for its case and kind."""
    items = []
    for notice in reminder.notices:
        question = render_questions([notice.question], member=None, case_code=notice.code,
                                    kind=notice.kind)[0] if notice.question else None
        items.append({"code": notice.code, "rules": ", ".join(notice.rules),
                      "evidence": [Mrkdwn(f"`{e}`") for e in notice.evidence[:4]], "question": question})
    return items


def reminder_message(reminder: DueReminder) -> tuple[str, Blocks]:
    """"Your week": the notices on the therapist's cases (one section, each with its
    evidence and one question), then the fallback text naming every case without
    a check-in and their blocks (a section and a row of buttons per case, up to
    MAX_LISTED, then a summary line), the cases that improved, and Snooze."""
    cases = list(reminder.cases)
    context = {"snoozed": reminder.key.startswith(SNOOZED_KIND + ":"), "count": len(cases), "more": cases,
               "notices": _notice_items(reminder), "improved": list(reminder.improved),
               "no_shows": list(reminder.no_shows)}
    intro = render("messages/reminder.j2", part="intro", cases=[], **context)
    lines = render("messages/reminder.j2", part="cases", cases=cases, **context).splitlines() if cases else []
    if len(lines) != len(cases):
        raise ValueError("messages/reminder.j2 must render one line per case")
    notices = render("messages/reminder.j2", part="notices", cases=[], **context) if reminder.notices else ""
    improved = render("messages/reminder.j2", part="improved", cases=[], **context) if reminder.improved else ""
    text = "\n".join([intro, notices, *(f"• {line}" for line in lines), improved])
    blocks: Blocks = [_section(intro + ("\n" + render("messages/reminder.j2", part="actions", cases=[], **context)
                                        if cases else ""))]
    if notices:
        blocks.append(_section(notices[:SECTION_LIMIT]))
    for case, line in list(zip(cases, lines))[:MAX_LISTED]:
        blocks += [_section(line), _case_actions(case.code)]
    rest = cases[MAX_LISTED:]
    if rest:
        blocks.append(_section(render("messages/reminder.j2", part="more", cases=[], **{**context, "more": rest})))
    if improved:
        blocks.append(_section(improved[:SECTION_LIMIT]))
    blocks.append({"type": "actions", "block_id": Block.REMINDER_ACTIONS.value, "elements": [
        _button("Snooze to next working day", Action.SNOOZE, "snooze")]})
    return fallback(text), blocks


def queue_reminders(services: Services, reminders: Sequence[DueReminder]) -> tuple[list[int], int]:
    """Queue each reminder once: rendered first, then a batch per transaction (one
    INSERT for the batch, keys in order), with the snoozes they serve cleared in
    it. The ids queued, and how many were queued already (by an earlier run, or
    another process's sweep)."""
    queued: list[int] = []
    already = 0
    for batch in chunked(sorted(reminders, key=lambda reminder: reminder.key), QUEUE_BATCH):
        messages = []
        for reminder in batch:
            text, blocks = reminder_message(reminder)
            messages.append(outbox.Keyed(reminder.user_id, {"text": text, "blocks": blocks}, reminder.key))
        with services.session_factory.begin() as session:
            ids = outbox.enqueue_many(session, "dm", messages)
            clear_snoozes_in(session, [(r.user_id, r.snoozed_until) for r in batch if r.snoozed_until is not None])
        queued += [ids[r.key] for r in batch if r.key in ids]
        already += len(batch) - len(ids)
    return queued, already
