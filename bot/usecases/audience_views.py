"""Warnings and thread replies as their audience may see them: the case's own
member labels in the therapist's DM, position letters anywhere else
(`bot.domain.audience`). The notifier passes every warning through here."""

from __future__ import annotations

from dataclasses import replace

from bot.domain.audience import Audience, member_name, relabel_text
from bot.usecases.flags import CheckinUpdate, RuleView, ScoreChange, ThreadTrend, WarningContent


def _rules(rules: tuple[RuleView, ...], labels: tuple[str, ...], audience: Audience) -> tuple[RuleView, ...]:
    return tuple(replace(rule, evidence=tuple(relabel_text(e, labels, audience) for e in rule.evidence),
                         resolution=relabel_text(rule.resolution, labels, audience) if rule.resolution else rule.resolution)
                 for rule in rules)


def warning_for(content: WarningContent, audience: Audience) -> WarningContent:
    labels = content.member_labels
    if audience is Audience.THERAPISTS or not labels:
        return content
    return replace(
        content,
        rules=_rules(content.rules, labels, audience),
        trends=tuple(ThreadTrend(member_name(t.thread, labels, audience), t.values) for t in content.trends),
        member=member_name(content.member, labels, audience) if content.member else content.member,
        member_labels=(),
    )


def update_for(update: CheckinUpdate, audience: Audience) -> CheckinUpdate:
    labels = update.member_labels
    if audience is Audience.THERAPISTS or not labels:
        return update
    return replace(
        update,
        scores=tuple(ScoreChange(member_name(s.thread, labels, audience), s.previous, s.current) for s in update.scores),
        rules=_rules(update.rules, labels, audience),
        member_labels=(),
    )
