"""Which reflection questions a warning carries (SPEC §6).

Pure domain: standard library only. The question texts live in Jinja templates
(``templates/questions/<theme>.j2``, one question per line); here a question is
just a ``QuestionRef`` (theme, line index), so choosing and rotating them needs
no templates, only how many questions each theme has and when this therapist
last saw each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Collection, Mapping, Sequence

from bot.domain.question_themes import (
    KINDS,
    MISSING,
    RESISTANCE,
    RUPTURE,
    SPLIT,
    STALLED,
    THEMES,
    THERAPIST,
    WEAK_UNIT,
)
from bot.domain.rule_registry import REGISTRY

__all__ = ["KINDS", "MISSING", "RESISTANCE", "RUPTURE", "SPLIT", "STALLED", "THEMES", "THERAPIST", "WEAK_UNIT",
           "QuestionRef", "choose_questions", "target_count", "themes_by_rule", "themes_for"]


def themes_by_rule() -> dict[str, tuple[str, ...]]:
    """Rule slug -> its question themes, from the rule registry."""
    return {e.slug: e.themes for e in REGISTRY}


# Themes added by what the therapist ticked on the check-in (TherapistFlag values).
THEMES_BY_FLAG: dict[str, tuple[str, ...]] = {
    "resistance": (RESISTANCE,),
}


def themes_for(rule_slugs: Sequence[str], therapist_flags: Collection[str] = ()) -> list[str]:
    """The themes for the rules that fired, in rule order, then flag-driven themes.

    Deduplicated, first occurrence wins. Unknown rule slugs and flags add nothing,
    so a new rule without questions still gets its warning.
    """
    themes: list[str] = []
    by_rule = themes_by_rule()
    for slug in rule_slugs:
        themes.extend(by_rule.get(str(slug), ()))
    for flag in sorted(str(f) for f in therapist_flags):
        themes.extend(THEMES_BY_FLAG.get(flag, ()))
    return list(dict.fromkeys(themes))


@dataclass(frozen=True)
class QuestionRef:
    """One question: the ``index``-th line of theme ``theme``'s template."""

    theme: str
    index: int

    @property
    def key(self) -> str:
        return f"{self.theme}:{self.index}"

    @classmethod
    def from_key(cls, key: str) -> QuestionRef:
        theme, sep, index = key.rpartition(":")
        if not sep or not theme or not index.isdigit():
            raise ValueError(f"not a question key: {key!r}")
        return cls(theme, int(index))


def _least_recently_shown(
    theme: str, count: int, last_shown: Mapping[str, datetime]
) -> list[QuestionRef]:
    """A theme's questions, never-shown first (by index), then oldest-shown first."""

    def order(ref: QuestionRef) -> tuple[int, datetime | int, int]:
        shown = last_shown.get(ref.key)
        return (0, 0, ref.index) if shown is None else (1, shown, ref.index)

    return sorted((QuestionRef(theme, i) for i in range(count)), key=order)


def target_count(theme_count: int, k_min: int = 2, k_max: int = 4) -> int:
    """How many questions a warning with ``theme_count`` themes should carry.

    One more than the number of themes, kept within [k_min, k_max]: a single
    rule gets two questions, two themes three, three or more the maximum.
    """
    return max(k_min, min(k_max, theme_count + 1))


def choose_questions(
    themes: Sequence[str],
    counts: Mapping[str, int],
    last_shown: Mapping[str, datetime],
    k_min: int = 2,
    k_max: int = 4,
) -> list[QuestionRef]:
    """Pick ``k_min``..``k_max`` questions for a warning, rotated per therapist.

    Round-robin over ``themes`` (in the given order, duplicates and themes without
    questions skipped), taking from each theme its least recently shown question
    (never-shown first, ties by index). ``counts`` maps theme to its number of
    questions; ``last_shown`` maps ``QuestionRef.key`` to when this therapist last
    saw that question. Returns fewer than ``k_min`` only when fewer exist.
    Deterministic: same inputs, same answer.
    """
    if not 0 <= k_min <= k_max:
        raise ValueError(f"need 0 <= k_min <= k_max, got {k_min}, {k_max}")
    queues = [
        _least_recently_shown(theme, counts[theme], last_shown)
        for theme in dict.fromkeys(themes)
        if counts.get(theme, 0) > 0
    ]
    target = target_count(len(queues), k_min, k_max)
    chosen: list[QuestionRef] = []
    depth = 0
    while len(chosen) < target and any(depth < len(q) for q in queues):
        for queue in queues:
            if depth < len(queue) and len(chosen) < target:
                chosen.append(queue[depth])
        depth += 1
    return chosen
