"""Cases, check-ins and flags written straight through the use cases (or, for
flags, as rows), at chosen times, for the scheduling tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.access import Actor
from bot.domain.cases import CaseKind
from bot.domain.checkin_input import CheckinInput
from bot.store.models import Flag
from bot.slack.services import Services
from bot.usecases import cases as case_uc
from bot.usecases import checkins as checkin_uc
from bot.usecases.therapists import ensure_therapist

SUPERVISION_CHANNEL = "C0SUPERV1"


def make_case(services: Services, owner: str, at: datetime, kind: CaseKind = CaseKind.COUPLE) -> str:
    with services.session_factory.begin() as session:
        case = case_uc.create_case(session, Actor(user_id=owner), kind, kind.default_members, (), at)
        return case.code


def log_checkin(services: Services, owner: str, code: str, at: datetime, rating: int = 8) -> None:
    with services.session_factory.begin() as session:
        case = case_uc.load_case(session, code)
        assert case is not None
        ratings = {thread: rating for thread in case_uc.case_threads(case)}
        checkin_uc.record_checkin(session, Actor(user_id=owner), code, CheckinInput(ratings=ratings), at,
                                  services.cipher, today=at.date())


def set_status(services: Services, code: str, status: str) -> None:
    with services.session_factory.begin() as session:
        case = case_uc.load_case(session, code)
        assert case is not None
        case.status = status


def add_therapist(services: Services, user_id: str, at: datetime, **fields: Any) -> None:
    with services.session_factory.begin() as session:
        therapist = ensure_therapist(session, user_id, at)
        for name, value in fields.items():
            setattr(therapist, name, value)


def add_flag(services: Services, code: str, rule: str, opened_at: datetime, *, status: str = "open",
             channel_id: str | None = SUPERVISION_CHANNEL, message_ts: str | None = None,
             resolved_at: datetime | None = None) -> int:
    with services.session_factory.begin() as session:
        case = case_uc.load_case(session, code)
        assert case is not None
        flag = Flag(case_id=case.id, rule=rule, status=status, open_slot=None if status == "resolved" else 1,
                    severity=2, route="supervision", evidence=["A 8 → 8 → 4"], opened_at=opened_at,
                    updated_at=opened_at, channel_id=channel_id,
                    message_ts=message_ts or f"{int(opened_at.timestamp())}.000200",
                    resolved_at=resolved_at, participants=[])
        session.add(flag)
        session.flush()
        return flag.id

