"""Client rating links (issue 16): issued per session, opened by a client, spent
by one answer. A link carries nothing about the client: it is a random token
whose SHA-256 alone is stored. Revoked with the case (close, forget, retention)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.access import Actor, Permission
from bot.domain.client_form import FormAnswer
from bot.domain.errors import UserError
from bot.store.models import Case, Checkin, ClientAnswer, RatingLink
from bot.usecases import audit
from bot.usecases.cases import find_case
from bot.usecases.checkins import RecordedCheckin

TOKEN_BYTES = 16  # 128 bits from secrets.token_urlsafe
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
CLIENT_ACTOR = "client"  # the audit log's actor for a client's own answer (no identity is kept)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def well_formed(token: str) -> bool:
    return bool(_TOKEN_SHAPE.fullmatch(token))


@dataclass(frozen=True)
class IssuedLinks:
    code: str
    session_number: int
    members: tuple[tuple[str, str], ...]  # (member, token), in member order
    kiosk: str | None  # the tablet's token; None when every member has answered already
    expires_at: datetime
    already_answered: tuple[str, ...] = ()


def issue_links(session: Session, case: Case, checkin: Checkin, actor_id: str, now: datetime,
                hours: int) -> IssuedLinks:
    """A fresh link per member still without a client total for this session, and a
    kiosk link for the tablet. Earlier unspent links for the session stop working."""
    session.execute(delete(RatingLink).where(RatingLink.checkin_id == checkin.id))
    answered = tuple(m for m in case.member_labels if m in (checkin.client_scores or {}))
    expires = now + timedelta(hours=hours)
    issued: list[tuple[str, str]] = []
    for member in case.member_labels:
        if member in answered:
            continue
        token = secrets.token_urlsafe(TOKEN_BYTES)
        session.add(RatingLink(token_hash=token_hash(token), case_id=case.id, checkin_id=checkin.id, member=member,
                               created_by=actor_id, created_at=now, expires_at=expires))
        issued.append((member, token))
    kiosk = secrets.token_urlsafe(TOKEN_BYTES) if issued else None
    if kiosk is not None:
        session.add(RatingLink(token_hash=token_hash(kiosk), case_id=case.id, checkin_id=checkin.id, member=None,
                               created_by=actor_id, created_at=now, expires_at=expires))
    session.flush()
    audit.record(session, actor_id, "rating_links_created", now, case_code=case.code,
                 detail=f"session {checkin.session_number}: {len(issued)} member link(s)"
                        f"{' and a kiosk link' if kiosk else ''}, valid {hours} h")
    return IssuedLinks(code=case.code, session_number=checkin.session_number, members=tuple(issued), kiosk=kiosk,
                       expires_at=expires, already_answered=answered)


def issue_for_checkin(session: Session, checkin_id: int, actor_id: str, now: datetime, hours: int) -> IssuedLinks | None:
    checkin = session.get(Checkin, checkin_id)
    if checkin is None:
        return None
    case = session.get(Case, checkin.case_id)
    if case is None or case.status == "closed":
        return None
    return issue_links(session, case, checkin, actor_id, now, hours)


def latest_for_links(session: Session, actor: Actor, code: str) -> tuple[Case, Checkin]:
    """`/alliance rate CASE`: the case's newest check-in, which links would be for
    (the same checks as `issue_for_latest`, making nothing)."""
    case = find_case(session, actor, code, Permission.LOG_CHECKIN)
    if case.status == "closed":
        raise UserError(f"{code} is closed. Reopen it first: `/alliance reopen {code}`.")
    checkin = session.scalar(select(Checkin).where(Checkin.case_id == case.id, Checkin.attendance == "attended")
                             .order_by(Checkin.session_number.desc()).limit(1))  # a missed session has nothing to rate
    if checkin is None:
        raise UserError(f"{code} has no check-in yet; rating links belong to a session. Log one first.")
    return case, checkin


def issue_for_latest(session: Session, actor: Actor, code: str, now: datetime, hours: int) -> IssuedLinks:
    """`/alliance rate CASE`: links for the case's newest check-in."""
    case, checkin = latest_for_links(session, actor, code)
    return issue_links(session, case, checkin, actor.user_id, now, hours)


def revoke_case_links(session: Session, case_id: int) -> int:
    """Every link of the case stops working at once (close, forget, retention)."""
    ids = list(session.scalars(select(RatingLink.id).where(RatingLink.case_id == case_id)))
    if ids:
        session.execute(delete(RatingLink).where(RatingLink.id.in_(ids)))
    return len(ids)


@dataclass(frozen=True)
class OpenLink:
    """What a valid link opens: who may still answer, and whether to ask the safety item."""

    token_hash: str
    kiosk: bool
    members: tuple[str, ...]  # a member link: its member; a kiosk: those who have not answered
    with_safety: bool  # couples and families: several people in the room


def _usable(session: Session, token: str, now: datetime, lock: bool = False) -> tuple[RatingLink, Case, Checkin] | None:
    if not well_formed(token):
        return None
    query = select(RatingLink).where(RatingLink.token_hash == token_hash(token))
    link = session.scalar(query.with_for_update() if lock else query)
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    case, checkin = session.get(Case, link.case_id), session.get(Checkin, link.checkin_id)
    if case is None or checkin is None or case.status == "closed":
        return None
    return link, case, checkin


def _waiting(session: Session, link: RatingLink, case: Case, checkin: Checkin) -> tuple[str, ...]:
    answered = set(session.scalars(select(ClientAnswer.member).where(ClientAnswer.checkin_id == checkin.id)))
    answered |= set(checkin.client_scores or {})
    candidates = list(case.member_labels) if link.member is None else [link.member]
    return tuple(m for m in candidates if m not in answered)


def open_link(session: Session, token: str, now: datetime) -> OpenLink | None:
    """The link's form, or None: unknown, forged, expired, spent or revoked alike."""
    found = _usable(session, token, now)
    if found is None:
        return None
    link, case, checkin = found
    waiting = _waiting(session, link, case, checkin)
    if not waiting:
        return None
    return OpenLink(token_hash=link.token_hash, kiosk=link.member is None, members=waiting,
                    with_safety=len(case.member_labels) >= 2)


@dataclass(frozen=True)
class Answered:
    recorded: RecordedCheckin  # the session whose stall rules run again
    remaining: tuple[str, ...]  # a kiosk's members still to answer


def submit_answer(session: Session, token: str, member: str | None, answer: FormAnswer,
                  now: datetime) -> Answered | None:
    """Store one member's answer as their client total for the session, once.
    None when the link (or that member's turn on a kiosk) is no longer valid."""
    found = _usable(session, token, now, lock=True)
    if found is None:
        return None
    link, case, checkin = found
    waiting = _waiting(session, link, case, checkin)
    who = link.member if link.member is not None else member
    if who is None or who not in waiting:
        return None
    if answer.safety is not None and len(case.member_labels) < 2:
        answer = FormAnswer(items=answer.items, safety=None)
    try:
        with session.begin_nested():
            session.add(ClientAnswer(checkin_id=checkin.id, member=who, items=list(answer.items), total=answer.total,
                                     safety=answer.safety, answered_at=now))
            session.flush()
    except IntegrityError:
        return None  # answered a moment ago through the other link
    checkin.client_scores = {**(checkin.client_scores or {}), who: answer.total}
    if answer.safety is not None:
        checkin.client_safety = {**(checkin.client_safety or {}), who: answer.safety}
    remaining = tuple(m for m in waiting if m != who)
    if link.member is not None or not remaining:
        link.used_at = now
    audit.record(session, CLIENT_ACTOR, "client_rating_answered", now, case_code=case.code,
                 detail=f"session {checkin.session_number}, member {who}, by {'kiosk' if link.member is None else 'link'}")
    recorded = RecordedCheckin(checkin_id=checkin.id, case_id=case.id, code=case.code,
                               session_number=checkin.session_number, ratings=dict(checkin.ratings),
                               reevaluation=True)
    return Answered(recorded=recorded, remaining=remaining if link.member is None else ())
