"""Reflection question texts: the theme templates under ``templates/questions/``.

Each ``<theme>.j2`` holds one question per line; the pure domain
(``bot.domain.questions``) picks ``QuestionRef``s and this module turns them
into mrkdwn lines.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

from bot.domain.questions import KINDS, THEMES, QuestionRef
from bot.slack.templating import render


def _template_name(theme: str) -> str:
    return f"questions/{theme}.j2"


def _render_theme(theme: str, *, member: str | None, case_code: str, kind: str = "couple") -> list[str]:
    text = render(_template_name(theme), member=member, case_code=case_code, kind=kind)
    return [line.strip() for line in text.splitlines() if line.strip()]


@lru_cache(maxsize=1)
def _cached_counts() -> tuple[tuple[str, int], ...]:
    """Per theme, the number of questions every case kind has (the smallest)."""
    return tuple(
        (theme, min(len(_render_theme(theme, member=None, case_code="CASE", kind=kind)) for kind in KINDS))
        for theme in THEMES
    )


def question_counts() -> dict[str, int]:
    """How many questions each theme's template holds (cached)."""
    return dict(_cached_counts())


def clear_cache() -> None:
    """Forget cached counts (for tests that point at other templates)."""
    _cached_counts.cache_clear()


def render_questions(
    refs: Sequence[QuestionRef], *, member: str | None, case_code: str, kind: str = "couple"
) -> list[str]:
    """The text of each chosen question, in the order of ``refs``.

    ``member`` is the label of the member most involved (or None); ``case_code``
    the case's code. Raises ValueError for a ref outside its theme's questions.
    """
    rendered: dict[str, list[str]] = {}
    texts: list[str] = []
    for ref in refs:
        if ref.theme not in rendered:
            rendered[ref.theme] = _render_theme(ref.theme, member=member, case_code=case_code, kind=kind)
        lines = rendered[ref.theme]
        if not 0 <= ref.index < len(lines):
            raise ValueError(f"no question {ref.key} (theme has {len(lines)})")
        texts.append(lines[ref.index])
    return texts
