"""Stall flags after a check-in: evaluate that one case, keep one open flag per
case and rule, and plan — as plain data — what the notifier posts, edits and
replies. Also the reflection-question rotation store (per therapist, least
recently shown first)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Collection, Iterable, Mapping, Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.cases import thread_names
from bot.domain.checkins import CheckinRecord
from bot.domain.questions import QuestionRef, choose_questions, target_count, themes_for
from bot.domain.messages import MessageRef, pending_outbox_id, pending_ref
from bot.domain.flag_book import Change, OpenFlag, book_flags
from bot.domain.rule_registry import history_needed
from bot.domain.rules import Route, Rule, evaluate
from bot.domain.thresholds import Thresholds
from bot.store.models import Case, Flag, QuestionShown, RepairPlan
from bot.usecases.cases import case_locked
from bot.usecases.checkins import as_record, recent_checkins, recent_checkins_and_open_flags
from bot.usecases.calibration import offset_and_hits, offset_for
from bot.usecases.config import thresholds_in_force

OPEN, DISCUSSING, RESOLVED = "open", "discussing", "resolved"
AUTO_RESOLUTION = "auto"
HISTORY_LIMIT = 24  # check-ins read per evaluation: the cost never grows with the database
TREND_LENGTH = 8  # check-ins a warning's sparklines show
RULE_ORDER = {rule.value: index for index, rule in enumerate(Rule)}
# *No recent check-in* belongs to the daily scan; a check-in neither raises nor counts it.
EVALUATED_RULES = frozenset(RULE_ORDER) - {Rule.NO_RECENT_CHECKIN.value}


def rule_title(slug: str) -> str:
    """A rule's SPEC name, verbatim; an unknown slug as it is."""
    return Rule(slug).title if slug in RULE_ORDER else slug


@dataclass(frozen=True)
class RuleView:
    """One flag as its warning shows it."""

    flag_id: int
    rule: str
    title: str
    evidence: tuple[str, ...]
    route: str
    status: str  # open / discussing / resolved
    firing: bool  # fired at the case's newest check-in
    quiet_checkins: int
    resolution: str | None


@dataclass(frozen=True)
class ThreadTrend:
    thread: str
    values: tuple[int | None, ...]  # oldest first


@dataclass(frozen=True)
class Handling:
    """What people did about a warning, as its root shows it: never a note."""

    acknowledged_by: str | None = None
    plan_action: str | None = None  # the latest plan's action slug
    plan_due: date | None = None
    resolved_by: str | None = None  # when every rule is resolved by a person


@dataclass(frozen=True)
class WarningContent:
    """Everything a warning message shows; never a note or a session date."""

    case_code: str
    therapist_id: str
    session_number: int  # the newest check-in's
    status: str  # open / discussing / resolved, over all its rules
    rules: tuple[RuleView, ...]
    trends: tuple[ThreadTrend, ...]
    questions: tuple[QuestionRef, ...]
    member: str | None  # the member the questions name, when one stands out
    close_after: int
    handling: Handling = field(default_factory=Handling)
    member_labels: tuple[str, ...] = ()  # the case's own labels: see bot.usecases.audience_views
    kind: str = "couple"  # individual / couple / family: the questions' wording

    @property
    def primary_flag_id(self) -> int:
        return self.rules[0].flag_id


@dataclass(frozen=True)
class WarningPost:
    """A new root message for flags that have none (new, or escalated) on one route."""

    route: Route
    flag_ids: tuple[int, ...]
    content: WarningContent
    dm_to: str | None = None  # whose DM a DM warning goes to: the one who logged the session (issue 14)


@dataclass(frozen=True)
class WarningEdit:
    message: MessageRef
    content: WarningContent


class NoteKind(StrEnum):
    CLOSED = "closed"  # the flag closed itself
    ESCALATED = "escalated"  # the flag moved to the supervision channel


@dataclass(frozen=True)
class ThreadNote:
    message: MessageRef
    kind: NoteKind
    rule_title: str
    close_after: int
    # ESCALATED: the flag that moved, and the case's supervision root when it already had
    # one (else the root this plan posts for that flag): the DM links the thread there.
    flag_id: int | None = None
    target: MessageRef | None = None


@dataclass(frozen=True)
class ScoreChange:
    thread: str
    previous: int | None  # None at a case's first check-in
    current: int | None


@dataclass(frozen=True)
class CheckinUpdate:
    """One reply per existing warning root after a check-in: the new scores
    against the previous ones and how each rule still open on it stands. The
    notifier folds that root's thread notes (closed, moved) into the same reply."""

    message: MessageRef
    session_number: int
    scores: tuple[ScoreChange, ...]
    rules: tuple[RuleView, ...]  # the root's rules still open after this check-in
    close_after: int
    member_labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class FlagPlan:
    case_code: str
    therapist_id: str
    session_number: int
    fired: tuple[str, ...]
    posts: tuple[WarningPost, ...]
    edits: tuple[WarningEdit, ...]
    notes: tuple[ThreadNote, ...]
    updates: tuple[CheckinUpdate, ...] = ()


def history_limit(thresholds: Thresholds) -> int:
    return max(HISTORY_LIMIT, history_needed(thresholds))


@dataclass(frozen=True)
class _CaseState:
    case: Case
    history: list[CheckinRecord]
    thresholds: Thresholds
    offset: float = 0.0

    @property
    def newest(self) -> CheckinRecord:
        return self.history[-1]


def _message(flag: Flag) -> MessageRef | None:
    """Where the flag's warning root is: delivered, or still waiting in the outbox."""
    if flag.channel_id and flag.message_ts:
        return MessageRef(flag.channel_id, flag.message_ts)
    if flag.channel_id and flag.root_outbox_id is not None:
        return pending_ref(flag.channel_id, flag.root_outbox_id)
    return None


def warning_root(flag: Flag) -> MessageRef | None:
    """Where a flag's warning root is (a queued one is named by its outbox row)."""
    return _message(flag)


def open_flags(session: Session, case_id: int) -> list[Flag]:
    return list(session.scalars(_OPEN_FLAGS, {"case_id": case_id}))


_OPEN_FLAGS = select(Flag).where(Flag.case_id == bindparam("case_id"), Flag.open_slot.is_not(None)).order_by(Flag.id)


def flags_on_message(session: Session, case_id: int, message: MessageRef) -> list[Flag]:
    """Every flag (open or closed) whose warning is this message, in rule order."""
    outbox_id = pending_outbox_id(message)
    where = Flag.root_outbox_id == outbox_id if outbox_id is not None else Flag.message_ts == message.message_ts
    flags = session.scalars(select(Flag).where(Flag.case_id == case_id, Flag.channel_id == message.channel_id, where))
    return sorted(flags, key=lambda f: (RULE_ORDER.get(f.rule, len(RULE_ORDER)), f.id))


def reconcile_flags(session: Session, case_id: int, checkin_id: int, now: datetime,
                    counts: Mapping[str, int], count_quiet: bool = True) -> FlagPlan | None:
    """Evaluate one case after check-in `checkin_id` and bring its flags up to date:
    a rule that fires opens a flag or updates the open one; an open flag whose rule
    did not fire counts a quiet check-in and closes itself after `flag_close_after`.
    None when the case is gone or a later session was typed after this one (its
    own follow-up evaluates). A backfilled session is evaluated in its place. Reads only this case's rows; locks the case row where the database can.
    `counts`: how many questions each theme holds (the templates know; the caller asks them).
    With `count_quiet` False (the same check-in evaluated again once a client's answer
    joined it) a rule that does not fire leaves its flag as it was."""
    case = case_locked(session, case_id) or session.scalar(select(Case).where(Case.id == case_id).with_for_update())
    if case is None:
        return None
    thresholds = thresholds_in_force(session)
    rows, any_open = recent_checkins_and_open_flags(session, case.id, history_limit(thresholds))
    place = next((i for i, row in enumerate(rows) if row.id == checkin_id), None)
    later = rows[place + 1:] if place is not None else []
    if place is None or any(row.id > checkin_id for row in later):
        return None  # a later session typed after this one: its own follow-up evaluates both
    # A backfilled session (typed after a later one) is evaluated in its place and counts as
    # nobody's quiet check-in.
    backfill = bool(later)
    # Warnings show the whole history; the rules read it up to this session.
    history = [as_record(row) for row in rows]
    evaluated = history[:place + 1]
    members = list(case.member_labels)
    # Both histories read the offset: the rules (up to this session) and the warning's focus (all of it).
    if backfill:
        offset = offset_for(session, case.owner_id, thresholds, [evaluated, history], members)
        hits = evaluate(evaluated, members, thresholds, offset)
    else:  # the rules read the whole history: each offset is evaluated once
        offset, hits = offset_and_hits(session, case.owner_id, thresholds, history, members)
    state = _CaseState(case, history, thresholds, offset)
    # Whether any is open was read with the check-ins (after this transaction's writes): most
    # cases have none, and then they are not asked for.
    waiting = {flag.rule: flag for flag in open_flags(session, case.id)} if any_open else {}
    book = {slug: OpenFlag(slug, Route(flag.route) if flag.route in set(Route) else Route.DM,
                           _message(flag) is not None, flag.quiet_checkins)
            for slug, flag in waiting.items()}
    to_post: dict[Route, list[Flag]] = defaultdict(list)
    touched: dict[MessageRef, None] = {}
    notes: list[ThreadNote] = []
    close_after = thresholds.flag_close_after
    # One case, one conversation: the case's live root per route (issue 13 item 9).
    live_root: dict[Route, MessageRef] = {}
    for waiting_flag in waiting.values():
        ref = _message(waiting_flag)
        if ref is not None:
            live_root.setdefault(book[waiting_flag.rule].route, ref)

    def place_on(flag: Flag, route: Route, post: bool, joins: bool) -> None:
        if joins and route in live_root:
            root = live_root[route]
            outbox_id = pending_outbox_id(root)  # a root still in the outbox is named by its row, not a ts
            flag.channel_id = root.channel_id
            flag.message_ts = None if outbox_id is not None else root.message_ts
            flag.root_outbox_id = outbox_id
            touched[root] = None
        elif post or joins:
            to_post[route].append(flag)

    for step in book_flags(book, hits, evaluated[-1], close_after,
                           count_quiet=count_quiet and not backfill):
        flag = waiting.get(step.rule)
        if step.change is Change.OPEN and step.hit is not None:
            hit = step.hit
            flag = Flag(case_id=case.id, rule=hit.rule.value, status=OPEN, open_slot=1, severity=int(hit.severity),
                        route=step.route.value, evidence=list(hit.evidence), quiet_checkins=0, opened_at=now,
                        updated_at=now, reply_count=0, participants=[])
            session.add(flag)
            place_on(flag, step.route, step.post, step.joins)
            continue
        if flag is None or step.change is Change.HOLD:
            continue
        posted = _message(flag)
        flag.updated_at = now
        if step.hit is not None:  # fired again: update, maybe escalate
            flag.route, flag.evidence, flag.severity = step.route.value, list(step.hit.evidence), int(step.hit.severity)
            flag.quiet_checkins = 0
            if step.change is Change.ESCALATE and posted is not None:
                session.flush()
                notes.append(ThreadNote(posted, NoteKind.ESCALATED, step.hit.rule.title, close_after,
                                        flag_id=flag.id, target=live_root.get(step.route)))
                touched[posted] = None
                # Acknowledgements belong to the thread where they happened (the DM's stays there).
                flag.channel_id = flag.message_ts = flag.root_outbox_id = None
                flag.acknowledged_by = None
                place_on(flag, step.route, True, step.joins)
            elif step.post or step.joins:
                place_on(flag, step.route, step.post, step.joins)
            elif posted is not None:
                touched[posted] = None
            continue
        flag.quiet_checkins = step.quiet
        if step.change is Change.CLOSE:
            flag.status, flag.open_slot, flag.resolution, flag.resolved_at = RESOLVED, None, AUTO_RESOLUTION, now
            if posted is not None:
                notes.append(ThreadNote(posted, NoteKind.CLOSED, rule_title(flag.rule), close_after))
        if posted is not None:
            touched[posted] = None
    session.flush()

    # Edits first: they show the questions already shown, before new posts rotate them.
    edits = []
    for message in touched:
        on_message = flags_on_message(session, case.id, message)
        if on_message:
            refs = recently_shown_questions(session, case.owner_id, _themes(state, on_message), counts)
            edits.append(WarningEdit(message, _content(state, on_message, refs, handling_of(session, on_message))))
    posts = []
    for route in Route:
        if to_post.get(route):
            refs = choose_and_record_questions(session, case.owner_id, _themes(state, to_post[route]), now, counts)
            posts.append(WarningPost(route, tuple(f.id for f in to_post[route]),
                                     _content(state, to_post[route], refs, handling_of(session, to_post[route])),
                                     dm_to=rows[place].therapist_id))
    # A backfill replies in no thread: its warnings' latest session is still the later one.
    updates = () if backfill else tuple(_checkin_update(state, edit) for edit in edits)
    return FlagPlan(case_code=case.code, therapist_id=case.owner_id, session_number=evaluated[-1].session_number,
                    fired=tuple(hit.rule.value for hit in hits), posts=tuple(posts), edits=tuple(edits),
                    notes=tuple(notes), updates=updates)


def _checkin_update(state: _CaseState, edit: WarningEdit) -> CheckinUpdate:
    """The reply a root already in place gets for this check-in."""
    previous = state.history[-2].ratings if len(state.history) > 1 else {}
    scores = tuple(ScoreChange(thread, previous.get(thread), state.newest.ratings.get(thread))
                   for thread in thread_names(list(state.case.member_labels)))
    still_open = tuple(rule for rule in edit.content.rules if rule.status != RESOLVED)
    return CheckinUpdate(edit.message, state.newest.session_number, scores, still_open, state.thresholds.flag_close_after,
                         tuple(state.case.member_labels))


def record_root_queued(session: Session, flag_ids: Iterable[int], channel_id: str, outbox_id: int) -> None:
    """These flags' warning root waits in the outbox as row `outbox_id`: a check-in
    meanwhile edits and replies to it (after it is delivered) instead of posting
    another; delivery records its ts (bot.store.outbox.mark_sent)."""
    for flag_id in flag_ids:
        flag = session.get(Flag, flag_id)
        if flag is not None:
            flag.channel_id, flag.message_ts, flag.root_outbox_id = channel_id, None, outbox_id


def record_warning_posted(session: Session, flag_ids: Iterable[int], message: MessageRef) -> None:
    """Remember where a warning was posted, so a repeat edits it instead."""
    for flag_id in flag_ids:
        flag = session.get(Flag, flag_id)
        if flag is not None:
            flag.channel_id, flag.message_ts = message.channel_id, message.message_ts


def load_warning(session: Session, flag_id: int,
                 counts: Mapping[str, int]) -> tuple[MessageRef | None, WarningContent] | None:
    """The warning a flag belongs to, as it should look now (for re-rendering the
    root after a status change): its message and content over every flag sharing
    that message. None when the flag or its case is gone."""
    flag = session.get(Flag, flag_id)
    case = session.get(Case, flag.case_id) if flag is not None else None
    if flag is None or case is None:
        return None
    thresholds = thresholds_in_force(session)
    rows = recent_checkins(session, case.id, history_limit(thresholds))
    if not rows:
        return None
    history = [as_record(row) for row in rows]
    state = _CaseState(case, history, thresholds,
                       offset_for(session, case.owner_id, thresholds, [history], list(case.member_labels)))
    message = _message(flag)
    flags = flags_on_message(session, case.id, message) if message is not None else [flag]
    refs = recently_shown_questions(session, case.owner_id, _themes(state, flags), counts)
    return message, _content(state, flags, refs, handling_of(session, flags))


def handling_of(session: Session, flags: Sequence[Flag]) -> Handling:
    """Who acknowledged, the latest plan and who resolved, over a root's flags."""
    if not flags:
        return Handling()
    acknowledged = next((f.acknowledged_by for f in flags if f.acknowledged_by), None)
    plan = session.scalar(select(RepairPlan).where(RepairPlan.flag_id.in_([f.id for f in flags]))
                          .order_by(RepairPlan.created_at.desc(), RepairPlan.id.desc()).limit(1))
    resolved_by = None
    if all(f.status == RESOLVED for f in flags):
        resolved_by = next((f.resolved_by for f in flags if f.resolved_by), None)
    return Handling(acknowledged_by=acknowledged, plan_action=plan.action if plan else None,
                    plan_due=plan.due_on if plan else None, resolved_by=resolved_by)


# -- content ------------------------------------------------------------------

def _themes(state: _CaseState, flags: Sequence[Flag]) -> list[str]:
    ordered = sorted(flags, key=lambda f: RULE_ORDER.get(f.rule, len(RULE_ORDER)))
    return themes_for([f.rule for f in ordered], [f.value for f in state.newest.flags])


def combined_status(statuses: Iterable[str]) -> str:
    """Resolved when every rule is; discussing when any is; else open."""
    seen = set(statuses)
    if seen <= {RESOLVED}:
        return RESOLVED
    return DISCUSSING if DISCUSSING in seen else OPEN


def _focus_member(state: _CaseState, flags: Sequence[Flag]) -> str | None:
    """The member the warning's rules are about: the first member a firing rule
    names (rule order), else the lowest-rated member when exactly one is lowest."""
    members = list(state.case.member_labels)
    slugs = {f.rule for f in flags if f.status != RESOLVED}
    for hit in evaluate(state.history, members, state.thresholds, state.offset):
        if hit.rule.value in slugs:
            named = [t for t in hit.threads if t in members]
            if named:
                return named[0]
    ratings = {m: state.newest.ratings[m] for m in members if m in state.newest.ratings}
    if len(ratings) < 2:
        return None
    lowest = min(ratings.values())
    at_lowest = [m for m, value in ratings.items() if value == lowest]
    return at_lowest[0] if len(at_lowest) == 1 else None


def _content(state: _CaseState, flags: Sequence[Flag], questions: Sequence[QuestionRef],
             handling: Handling | None = None) -> WarningContent:
    ordered = sorted(flags, key=lambda f: (RULE_ORDER.get(f.rule, len(RULE_ORDER)), f.id))
    rules = tuple(
        RuleView(flag_id=f.id, rule=f.rule, title=rule_title(f.rule), evidence=tuple(str(e) for e in f.evidence or ()),
                 route=f.route, status=f.status, firing=f.status != RESOLVED and f.quiet_checkins == 0,
                 quiet_checkins=f.quiet_checkins, resolution=f.resolution)
        for f in ordered
    )
    window = state.history[-TREND_LENGTH:]
    trends = tuple(ThreadTrend(thread, tuple(r.ratings.get(thread) for r in window))
                   for thread in thread_names(list(state.case.member_labels)))
    return WarningContent(case_code=state.case.code, therapist_id=state.case.owner_id,
                          session_number=state.newest.session_number, status=combined_status(f.status for f in ordered),
                          rules=rules, trends=trends, questions=tuple(questions), member=_focus_member(state, ordered),
                          kind=state.case.kind,
                          close_after=state.thresholds.flag_close_after, handling=handling or Handling(),
                          member_labels=tuple(state.case.member_labels))


# -- question rotation ----------------------------------------------------------

def _shown_rows(session: Session, therapist_id: str) -> dict[str, QuestionShown]:
    rows = session.scalars(select(QuestionShown).where(QuestionShown.therapist_id == therapist_id))
    return {row.question_key: row for row in rows}


def questions_last_shown(session: Session, therapist_id: str) -> dict[str, datetime]:
    """Question key -> when this therapist last saw it."""
    return {key: row.shown_at for key, row in _shown_rows(session, therapist_id).items()}


def choose_and_record_questions(session: Session, therapist_id: str, themes: Sequence[str],
                                now: datetime, counts: Mapping[str, int]) -> list[QuestionRef]:
    """2–4 questions for these themes, least recently shown to this therapist
    first, and remember that they were shown now."""
    rows = _shown_rows(session, therapist_id)
    refs = choose_questions(themes, counts, {key: row.shown_at for key, row in rows.items()})
    for ref in refs:
        row = rows.get(ref.key)
        if row is not None:
            row.shown_at = now
            continue
        try:
            with session.begin_nested():
                session.add(QuestionShown(therapist_id=therapist_id, question_key=ref.key, shown_at=now))
        except IntegrityError:  # another warning to this therapist recorded it meanwhile
            existing = session.get(QuestionShown, (therapist_id, ref.key))
            if existing is not None:
                existing.shown_at = now
    return refs


def recently_shown_questions(session: Session, therapist_id: str, themes: Collection[str],
                             counts: Mapping[str, int]) -> list[QuestionRef]:
    """The questions a warning with these themes showed last, for re-rendering it
    without rotating: per theme most recently shown first (never-shown after, by
    index), taken round-robin like `choose_questions`. Records nothing."""
    shown = questions_last_shown(session, therapist_id)
    queues: list[list[QuestionRef]] = []
    for theme in dict.fromkeys(themes):
        refs = sorted((QuestionRef(theme, i) for i in range(counts.get(theme, 0))), key=lambda r: r.index)
        seen = sorted((r for r in refs if r.key in shown), key=lambda r: shown[r.key], reverse=True)
        if refs:
            queues.append(seen + [r for r in refs if r.key not in shown])
    target = target_count(len(queues))
    chosen: list[QuestionRef] = []
    for depth in range(max((len(q) for q in queues), default=0)):
        for queue in queues:
            if depth < len(queue) and len(chosen) < target:
                chosen.append(queue[depth])
    return chosen
