"""Block Kit for a stall warning: templates render the text, this builds the blocks.

A warning shows the case code, the therapist's mention, every rule by its SPEC
name, the evidence, a sparkline per thread, 2–4 reflection questions and the
buttons *Acknowledge*, *Plan repair* and *Resolve*. Never a note or a session date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block as SlackBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.sparkline import sparkline, trend_arrow
from bot.slack.question_text import render_questions
from bot.slack.blocks import MESSAGE_BLOCK_LIMIT, SECTION_LIMIT, fallback
from bot.slack.ids import Action, Block
from bot.slack.templating import Mrkdwn, link, mention, render
from bot.usecases.flag_actions import DuePlan, Handled, Resolved, plan_label
from bot.usecases.flags import RESOLVED, CheckinUpdate, NoteKind, ScoreChange, ThreadNote, WarningContent

BUTTONS = ((Action.ACKNOWLEDGE, "Acknowledge", None), (Action.PLAN_REPAIR, "Plan repair", "primary"),
           (Action.RESOLVE, "Resolve", None))


def _section(text: str) -> SectionBlock:
    if len(text) > SECTION_LIMIT:
        text = text[: SECTION_LIMIT - 1] + "…"
    return SectionBlock(text=MarkdownTextObject(text=text))


def warning_text(content: WarningContent) -> str:
    """The heading: case, therapist and rule names; also the notification text."""
    return render("messages/warning/heading.j2", code=content.case_code, therapist=mention(content.therapist_id),
                  titles=[rule.title for rule in content.rules])


def _trend_rows(content: WarningContent) -> list[dict[str, str]]:
    width = max((len(t.thread) for t in content.trends), default=0)
    rows = []
    for trend in content.trends:
        known = [v for v in trend.values if v is not None]
        rows.append({"label": trend.thread.ljust(width), "spark": sparkline(trend.values),
                     "latest": str(known[-1]) if known else "·", "arrow": trend_arrow(trend.values)})
    return rows


def question_lines(content: WarningContent) -> list[str]:
    """The warning's questions as mrkdwn, user text already escaped by the templates."""
    return render_questions(content.questions, member=content.member, case_code=content.case_code,
                            kind=content.kind)


def format_due(day: date) -> str:
    """A plan's due day as a thread shows it: weekday, day and month."""
    return f"{day:%a} {day.day} {day:%b}"


def status_text(content: WarningContent) -> str:
    """The status line: status, latest session, who acknowledged, the latest plan, who resolved."""
    handling = content.handling
    return render("messages/warning/status.j2", status=content.status, session=content.session_number,
                  acknowledged=mention(handling.acknowledged_by) if handling.acknowledged_by else None,
                  plan=plan_label(handling.plan_action) if handling.plan_action else None,
                  due=format_due(handling.plan_due) if handling.plan_due else "no date",
                  resolved_by=mention(handling.resolved_by) if handling.resolved_by else None)


def warning_blocks(content: WarningContent) -> list[dict[str, Any]]:
    blocks: list[SlackBlock] = [
        _section(warning_text(content)),
        ContextBlock(elements=[MarkdownTextObject(text=status_text(content))]),
    ]
    for rule in content.rules:
        blocks.append(_section(render("messages/warning/rule.j2", rule=rule, session=content.session_number,
                                      close_after=content.close_after)))
    if content.trends:
        count = max(len(t.values) for t in content.trends)
        blocks.append(_section(render("messages/warning/trends.j2", rows=_trend_rows(content), count=count)))
    questions = question_lines(content)
    if questions:
        blocks.append(DividerBlock())
        blocks.append(_section(render("messages/warning/questions.j2", questions=[Mrkdwn(q) for q in questions])))
    if content.status != RESOLVED:
        value = str(content.primary_flag_id)
        blocks.append(ActionsBlock(block_id=Block.WARNING_ACTIONS, elements=[
            ButtonElement(text=label, action_id=action_id.value, value=value, style=style)
            for action_id, label, style in BUTTONS]))
    # The actions block is last; keep it when trimming to Slack's limit.
    if len(blocks) > MESSAGE_BLOCK_LIMIT:
        blocks = blocks[: MESSAGE_BLOCK_LIMIT - 1] + blocks[-1:]
    return [block.to_dict() for block in blocks]


def warning_message(content: WarningContent) -> dict[str, Any]:
    """`text` and `blocks` for chat.postMessage / chat.update."""
    return {"text": fallback(warning_text(content)), "blocks": warning_blocks(content)}


def thread_note_text(note: ThreadNote, supervision_channel: str | None, thread_link: str | None = None) -> str:
    """A short reply in a warning's thread: it closed itself, or it moved (with a
    link to the case's supervision thread when Slack gave one)."""
    if note.kind is NoteKind.CLOSED:
        return render("messages/warning/closed.j2", title=note.rule_title, count=note.close_after)
    channel = Mrkdwn(f"<#{supervision_channel}>") if supervision_channel else None
    thread = link(thread_link, "the case's supervision thread") if thread_link else None
    return render("messages/warning/escalated.j2", title=note.rule_title, channel=channel, thread=thread)


# -- replies in a warning's thread ------------------------------------------------

def _score(change: ScoreChange) -> str:
    current = "·" if change.current is None else str(change.current)
    if change.previous is None:
        return f"{change.thread} {current}"
    return f"{change.thread} {change.previous} → {current}"


def checkin_update_text(update: CheckinUpdate) -> str:
    """A new check-in against the previous one, and whether each open rule still fires."""
    return render("messages/thread_checkin.j2", session=update.session_number,
                  scores=" · ".join(_score(change) for change in update.scores), rules=update.rules,
                  close_after=update.close_after)


def acknowledged_text(user_id: str) -> str:
    return render("messages/thread_acknowledged.j2", who=mention(user_id))


def plan_text(user_id: str, action: str, due_on: date) -> str:
    """The plan's action and due day; never its note."""
    return render("messages/thread_plan.j2", who=mention(user_id), action=plan_label(action), due=format_due(due_on))


def resolved_text(user_id: str, resolved: Resolved) -> str:
    handled: Handled = resolved.handled
    return render("messages/thread_resolved.j2", who=mention(user_id), resolution=resolved.resolution.label,
                  rules=list(handled.rules), case_closed=resolved.case_closed, code=handled.case_code)


def plan_due_text(plan: DuePlan) -> str:
    return render("messages/thread_plan_due.j2", therapist=mention(plan.therapist_id), planner=mention(plan.planned_by),
                  action=plan_label(plan.action), due=format_due(plan.due_on))
