"""Questions fit the case kind (SPEC §6, issue 13): individual, couple and family
wordings with the same number of questions per theme, and no couple words for
an individual or a family."""

from __future__ import annotations

import re

import pytest

from bot.domain.questions import KINDS, THEMES, QuestionRef
from bot.slack.question_text import question_counts, render_questions
from bot.slack.templating import render


@pytest.mark.parametrize("theme", THEMES)
def test_every_kind_has_at_least_six_questions_and_the_same_count(theme: str) -> None:
    counts = {kind: len([l for l in render(f"questions/{theme}.j2", member="B", case_code="C-7", kind=kind)
                         .splitlines() if l.strip()]) for kind in KINDS}
    assert min(counts.values()) >= 6 and len(set(counts.values())) == 1, counts
    assert question_counts()[theme] == counts["couple"]


@pytest.mark.parametrize("kind", ["individual", "family"])
def test_individual_and_family_questions_never_say_partner_or_couple(kind: str) -> None:
    for theme, count in question_counts().items():
        for text in render_questions([QuestionRef(theme, i) for i in range(count)], member="B",
                                     case_code="C-7", kind=kind):
            assert not re.search(r"partner|couple", text, re.IGNORECASE), (theme, text)


def test_family_questions_name_the_member_the_rule_is_about() -> None:
    texts = render_questions([QuestionRef("split", 0)], member="C", case_code="C-7", kind="family")
    assert "C feel heard" in texts[0]
