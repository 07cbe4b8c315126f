"""The stall warning's blocks: what they show, escaping, and Slack's limits."""

from __future__ import annotations

from typing import Any

from bot.domain.questions import QuestionRef
from bot.domain.rules import Rule
from bot.slack.question_text import render_questions
from bot.slack.ids import Action, Block
from bot.slack.warnings import thread_note_text, warning_blocks, warning_message
from bot.domain.messages import MessageRef
from bot.usecases.flags import NoteKind, RuleView, ThreadNote, ThreadTrend, WarningContent
from tests.support.slack_standin import MESSAGE_BLOCK_LIMIT, check_blocks

THERAPIST = "U0THERA01"


def rule(flag_id: int, slug: Rule, *evidence: str, status: str = "open", quiet: int = 0,
         route: str = "dm", resolution: str | None = None) -> RuleView:
    return RuleView(flag_id=flag_id, rule=slug.value, title=slug.title, evidence=evidence, route=route,
                    status=status, firing=status != "resolved" and quiet == 0, quiet_checkins=quiet,
                    resolution=resolution)


def content(*rules: RuleView, member: str | None = "B", status: str = "open",
            trends: tuple[ThreadTrend, ...] | None = None,
            questions: tuple[QuestionRef, ...] = (QuestionRef("split", 0), QuestionRef("rupture", 1),
                                                   QuestionRef("split", 1))) -> WarningContent:
    default_trends = (ThreadTrend("A", (8, 8, 8)), ThreadTrend("B", (8, 7, 4)),
                      ThreadTrend("unit", (8, 8, 6)), ThreadTrend("collective", (8, 8, 7)))
    return WarningContent(case_code="CPL-7KQ2", therapist_id=THERAPIST, session_number=3, status=status,
                          rules=rules, trends=default_trends if trends is None else trends, questions=questions,
                          member=member, close_after=2)


def all_text(blocks: list[dict[str, Any]]) -> str:
    parts = []
    for block in blocks:
        parts.append((block.get("text") or {}).get("text", ""))
        parts += [e.get("text", "") for e in block.get("elements", []) if block["type"] == "context"]
    return "\n".join(parts)


SPLIT_AND_DROP = (rule(7, Rule.SPLIT_ALLIANCE, "A 8 vs B 4 (gap 4)", "gap 0 → 1 → 4"),
                  rule(8, Rule.ALLIANCE_DROP, "B 8 → 7 → 4", "unit 8 → 8 → 6"))


def test_a_warning_shows_case_therapist_rules_evidence_trends_questions_and_buttons() -> None:
    warning = content(*SPLIT_AND_DROP)
    blocks = warning_blocks(warning)
    assert check_blocks(blocks, MESSAGE_BLOCK_LIMIT, "warning") == []
    text = all_text(blocks)
    assert "*CPL-7KQ2*" in text and f"<@{THERAPIST}>" in text
    assert "*Split alliance*" in text and "*Alliance drop*" in text
    assert "`A 8 vs B 4 (gap 4)`" in text and "`B 8 → 7 → 4`" in text
    assert "`B          ▇▆▄` 4 ↓" in text and "`A          ▇▇▇` 8 →" in text
    assert "Status: *open*" in text
    questions = render_questions(warning.questions, member="B", case_code="CPL-7KQ2")
    assert all(f"• {q}" in text for q in questions) and 2 <= len(questions) <= 4
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert actions["block_id"] == Block.WARNING_ACTIONS
    assert [(e["action_id"], e["text"]["text"], e["value"]) for e in actions["elements"]] == [
        (Action.ACKNOWLEDGE, "Acknowledge", "7"), (Action.PLAN_REPAIR, "Plan repair", "7"), (Action.RESOLVE, "Resolve", "7")]
    message = warning_message(warning)
    assert "Split alliance" in message["text"] and "CPL-7KQ2" in message["text"]


def test_every_rule_is_named_verbatim() -> None:
    rules = [rule(i, slug, "evidence") for i, slug in enumerate(Rule, start=1)]
    text = all_text(warning_blocks(content(*rules)))
    for slug in Rule:
        assert f"*{slug.title}*" in text


def test_the_state_of_each_rule_and_of_the_warning() -> None:
    quiet = rule(8, Rule.ALLIANCE_DROP, "B 8 → 7 → 4", quiet=1)
    closed = rule(9, Rule.LOW_ALLIANCE, "B 4", status="resolved", resolution="auto")
    held = rule(7, Rule.SPLIT_ALLIANCE, "A 8 vs B 4 (gap 4)", route="supervision", status="discussing")
    text = all_text(warning_blocks(content(held, quiet, closed, status="discussing")))
    assert "*Split alliance* · for supervision · fired at session 3" in text
    assert "*Alliance drop* · did not fire at session 3 · closes itself after 2 quiet check-ins in a row" in text
    assert "*Low alliance* · closed itself" in text and "Status: *discussing*" in text


def test_a_resolved_warning_has_no_buttons() -> None:
    done = rule(7, Rule.STALLED, "case mean 6 → 6 → 6 → 6", status="resolved", resolution="auto")
    blocks = warning_blocks(content(done, status="resolved"))
    assert check_blocks(blocks, MESSAGE_BLOCK_LIMIT, "warning") == []
    assert "actions" not in [b["type"] for b in blocks] and "Status: *resolved*" in all_text(blocks)


def test_member_labels_are_escaped_everywhere() -> None:
    label = "P<1>&"
    risky = rule(7, Rule.LOW_ALLIANCE, f"{label} 8 → 4")
    warning = content(risky, member=label, trends=(ThreadTrend(label, (8, 4)),))
    text = all_text(warning_blocks(warning))
    assert "P&lt;1&gt;&amp;" in text and "<1>" not in text
    assert text.count("P&lt;1&gt;&amp;") >= 3  # evidence, trend and a question naming the member


def test_a_big_family_warning_stays_within_slack_limits() -> None:
    members = [f"M{i}" for i in range(8)]
    trends = tuple(ThreadTrend(m, tuple(range(8))) for m in members + ["unit", "collective"])
    long_evidence = tuple(f"{m} 9 → 8 → {'7' * 400}" for m in members * 2)
    rules = [rule(i, slug, *long_evidence) for i, slug in enumerate(Rule, start=1)]
    questions = tuple(QuestionRef(theme, 0) for theme in ("split", "rupture", "stalled", "therapist"))
    blocks = warning_blocks(content(*rules, trends=trends, questions=questions, member=None))
    assert check_blocks(blocks, MESSAGE_BLOCK_LIMIT, "warning") == []
    assert len(blocks) <= MESSAGE_BLOCK_LIMIT and blocks[-1]["type"] == "actions"
    assert all(len((b.get("text") or {}).get("text", "")) <= 3000 for b in blocks)


def test_thread_notes_say_a_flag_closed_or_moved() -> None:
    message = MessageRef("D0THERA01", "1700000001.000100")
    closed = thread_note_text(ThreadNote(message, NoteKind.CLOSED, "Alliance drop", 2), "C0SUPERV1")
    assert closed == "*Alliance drop* has not fired for 2 check-ins in a row, so this flag closed itself."
    moved = thread_note_text(ThreadNote(message, NoteKind.ESCALATED, "Split alliance", 2), "C0SUPERV1")
    assert "*Split alliance*" in moved and "<#C0SUPERV1>" in moved
    assert "<#" not in thread_note_text(ThreadNote(message, NoteKind.ESCALATED, "Split alliance", 2), None)
