"""What a therapist's weekly summary ("your week", SPEC §5) and the supervision
digest gather besides unlogged cases: the notices waiting on a therapist's cases
(with their evidence and one reflection question each), and the cases that
improved reliably (issue 13 items 2 and 12)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Mapping, Sequence, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.cases import CaseStatus
from bot.domain.improvement import SPAN, improved_reliably
from bot.domain.questions import QuestionRef, themes_for
from bot.domain.rules import Route, Rule
from bot.store.models import Case, Checkin, Flag
from bot.usecases.flags import RULE_ORDER, choose_and_record_questions, rule_title

CHUNK = 500
T = TypeVar("T")
MAX_NOTICES = 10  # cases with notices listed in one summary


@dataclass(frozen=True)
class CaseNotice:
    code: str
    kind: str
    rules: tuple[str, ...]  # rule titles, in rule order
    evidence: tuple[str, ...]
    question: QuestionRef | None


def _chunks(items: Sequence[T]) -> Iterable[list[T]]:
    for start in range(0, len(items), CHUNK):
        yield list(items[start:start + CHUNK])


def notices_for(session: Session, user_ids: Sequence[str], now: datetime,
                counts: Mapping[str, int]) -> dict[str, tuple[CaseNotice, ...]]:
    """Each therapist's active cases with open notices (route `summary`), oldest
    notice first, one question each (recorded as shown, for rotation)."""
    found: dict[str, dict[int, list[Flag]]] = {}
    cases: dict[int, Case] = {}
    for chunk in _chunks(sorted(set(user_ids))):
        rows = session.execute(
            select(Flag, Case).join(Case, Case.id == Flag.case_id)
            .where(Case.owner_id.in_(chunk), Case.status == CaseStatus.ACTIVE.value,
                   Flag.open_slot.is_not(None), Flag.route == Route.SUMMARY.value,
                   Flag.rule != Rule.NO_RECENT_CHECKIN.value)
            .order_by(Flag.opened_at, Flag.id))
        for flag, case in rows:
            found.setdefault(case.owner_id, {}).setdefault(case.id, []).append(flag)
            cases[case.id] = case
    out: dict[str, tuple[CaseNotice, ...]] = {}
    for user, by_case in found.items():
        notices = []
        for case_id, flags in list(by_case.items())[:MAX_NOTICES]:
            flags.sort(key=lambda f: RULE_ORDER.get(f.rule, len(RULE_ORDER)))
            refs = choose_and_record_questions(session, user, themes_for([f.rule for f in flags]), now, counts)
            notices.append(CaseNotice(
                code=cases[case_id].code, kind=cases[case_id].kind,
                rules=tuple(dict.fromkeys(rule_title(f.rule) for f in flags)),
                evidence=tuple(dict.fromkeys(str(e) for f in flags for e in (f.evidence or ()))),
                question=refs[0] if refs else None))
        out[user] = tuple(notices)
    return out


def improved_cases(session: Session, case_ids: Iterable[int]) -> list[int]:
    """Of these cases, the ones that improved reliably (bot.domain.improvement):
    reads only each case's first and latest SPAN check-ins."""
    ids = sorted(set(case_ids))
    improved: list[int] = []
    for chunk in _chunks(ids):
        ascending = func.row_number().over(partition_by=Checkin.case_id,
                                           order_by=(Checkin.session_number, Checkin.id)).label("up")
        descending = func.row_number().over(partition_by=Checkin.case_id,
                                            order_by=(Checkin.session_number.desc(), Checkin.id.desc())).label("down")
        ranked = (select(Checkin.case_id, Checkin.session_number, Checkin.ratings, ascending, descending)
                  .where(Checkin.case_id.in_(chunk), Checkin.attendance == "attended").subquery())
        rows = session.execute(select(ranked).where((ranked.c.up <= SPAN) | (ranked.c.down <= SPAN))
                               .order_by(ranked.c.case_id, ranked.c.session_number))
        first: dict[int, list[dict[str, int | None]]] = {}
        latest: dict[int, list[dict[str, int | None]]] = {}
        for case_id, _number, ratings, up, down in rows:
            if up <= SPAN and down <= SPAN:
                continue  # fewer than 2 × SPAN check-ins: the ends overlap
            (first if up <= SPAN else latest).setdefault(case_id, []).append(dict(ratings or {}))
        improved += [case_id for case_id in chunk if improved_reliably(first.get(case_id, []), latest.get(case_id, []))]
    return improved


def improved_codes(session: Session, case_ids: Iterable[int]) -> list[str]:
    ids = improved_cases(session, case_ids)
    if not ids:
        return []
    return sorted(session.scalars(select(Case.code).where(Case.id.in_(ids))))
