"""The clients' own four-item form (issue 16): which items, how a submission is
read, and the total. Pure: the wording lives in templates/client_form/."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

ITEMS = ("heard", "goals", "approach", "overall")  # felt heard and respected; worked on what they wanted; fit; overall
SAFETY = "safety"  # couples and families only: how safe it felt to speak openly with the others in the room
SCALE = tuple(range(0, 11))
MAX_TOTAL = 10 * len(ITEMS)  # 40


@dataclass(frozen=True)
class FormAnswer:
    items: tuple[int, ...]  # in ITEMS order
    safety: int | None

    @property
    def total(self) -> int:
        return sum(self.items)


@dataclass(frozen=True)
class FormProblems:
    """Items left unanswered or answered with something that is not 0-10."""

    missing: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.missing)


def asked_items(with_safety: bool) -> tuple[str, ...]:
    return ITEMS + (SAFETY,) if with_safety else ITEMS


def _score(raw: str | None) -> int | None:
    if raw is None:
        return None
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 2:
        return None
    value = int(raw)
    return value if value in SCALE else None


def read_answer(form: Mapping[str, str], with_safety: bool) -> FormAnswer | FormProblems:
    """Each asked item must be a whole number 0-10; anything else is named back."""
    values = {key: _score(form.get(key)) for key in asked_items(with_safety)}
    missing = tuple(key for key, value in values.items() if value is None)
    if missing:
        return FormProblems(missing)
    items = tuple(values[key] or 0 for key in ITEMS)
    return FormAnswer(items=items, safety=values[SAFETY] if with_safety else None)
