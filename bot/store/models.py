"""The tables, as typed SQLAlchemy 2 models. Timestamps are aware UTC."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from bot.domain.cases import CaseStatus

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always hands back an aware datetime (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware one")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Therapist(Base):
    __tablename__ = "therapists"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tz: Mapped[str | None] = mapped_column(String(64))
    tz_checked_at: Mapped[datetime | None]
    is_workspace_admin: Mapped[bool | None]
    # Their own weekly reminder (Monday=0, "HH:MM"); NULL follows the workspace default.
    remind_day: Mapped[int | None] = mapped_column(Integer)
    remind_time: Mapped[str | None] = mapped_column(String(5))
    reminders_on: Mapped[bool] = mapped_column(default=True)
    away_until: Mapped[date | None] = mapped_column(Date)
    snoozed_until: Mapped[datetime | None]
    created_at: Mapped[datetime]


class AwayPeriod(Base):
    """Days a therapist was away: no reminders, and silence is not counted."""

    __tablename__ = "away_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[str] = mapped_column(ForeignKey("therapists.user_id", ondelete="CASCADE"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    member_labels: Mapped[list[Any]]
    owner_id: Mapped[str] = mapped_column(ForeignKey("therapists.user_id"), index=True)
    status: Mapped[str] = mapped_column(String(8), default=CaseStatus.ACTIVE.value, index=True)
    created_at: Mapped[datetime]
    last_checkin_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # Issue 14: sessions every `cadence_weeks` weeks (1, 2 or 4), counted from the Monday `cadence_anchor`.
    cadence_weeks: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    cadence_anchor: Mapped[date | None] = mapped_column(Date)

    shares: Mapped[list["CaseShare"]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class CaseShare(Base):
    __tablename__ = "case_shares"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    added_by: Mapped[str] = mapped_column(String(32))
    added_at: Mapped[datetime]


class Checkin(Base):
    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("case_id", "session_number"),
        Index("ix_checkins_case_id_created_at", "case_id", "created_at"),
        Index("ix_checkins_therapist_id_created_at", "therapist_id", "created_at"),  # calibration: by rater
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    therapist_id: Mapped[str] = mapped_column(String(32))
    session_number: Mapped[int]
    session_date: Mapped[date | None] = mapped_column(Date)
    ratings: Mapped[dict[str, Any]]
    client_scores: Mapped[dict[str, Any]]
    rupture_kind: Mapped[str] = mapped_column(String(16), default="none")
    rupture_members: Mapped[list[Any]]
    therapist_flags: Mapped[list[Any]]
    note_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    submission_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime]
    # Issue 16: each member's own answer to "how safe did it feel to speak openly" (0-10).
    client_safety: Mapped[dict[str, Any] | None]
    # Issue 14: `attended`, or `cancelled` / `no_show` for a session that did not happen (no ratings).
    attendance: Mapped[str] = mapped_column(String(12), default="attended", server_default="attended")
    # The mean of the ratings that are not null (absent members), NULL when none is: what
    # calibration reads (bot/store/ratings.py); set from `ratings` on every insert and update.
    mean_rating: Mapped[float | None] = mapped_column(Float)


def mean_of(ratings: dict[str, Any] | None) -> float | None:
    """The mean of a check-in's ratings that are not null; None when none is."""
    values = [float(v) for v in (ratings or {}).values() if v is not None]
    return sum(values) / len(values) if values else None


@event.listens_for(Checkin, "before_insert")
@event.listens_for(Checkin, "before_update")
def _keep_mean_rating(_mapper: Any, _connection: Any, checkin: Checkin) -> None:
    checkin.mean_rating = mean_of(checkin.ratings)


class Flag(Base):
    """A detected stall. `open_slot` is 1 while open and NULL once resolved, so the
    unique constraint allows one open flag per case and rule, and any number closed."""

    __tablename__ = "flags"
    __table_args__ = (UniqueConstraint("case_id", "rule", "open_slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    open_slot: Mapped[int | None] = mapped_column(Integer, default=1)
    severity: Mapped[int] = mapped_column(Integer, default=1)
    route: Mapped[str] = mapped_column(String(12))
    evidence: Mapped[list[Any]]
    quiet_checkins: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    acknowledged_by: Mapped[str | None] = mapped_column(String(32))
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(String(16))
    resolved_by: Mapped[str | None] = mapped_column(String(32))
    resolution_note_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32), index=True)
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    last_reply_at: Mapped[datetime | None]
    participants: Mapped[list[Any]]
    # The outbox row posting this flag's warning root, while it waits to be delivered
    # (channel_id/message_ts are set, and this cleared, when it is).
    root_outbox_id: Mapped[int | None] = mapped_column(Integer, index=True)


class FlagReply(Base):
    """A reply in a flag's thread: who and when, never the text."""

    __tablename__ = "flag_replies"
    __table_args__ = (UniqueConstraint("flag_id", "message_ts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str] = mapped_column(String(32))
    replied_at: Mapped[datetime]


class RepairPlan(Base):
    __tablename__ = "repair_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(24))
    due_on: Mapped[date | None] = mapped_column(Date)
    note_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    reminded_at: Mapped[datetime | None]


class QuestionShown(Base):
    """When a therapist last saw a reflection question, for rotation."""

    __tablename__ = "questions_shown"

    therapist_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    question_key: Mapped[str] = mapped_column(String(48), primary_key=True)
    shown_at: Mapped[datetime]


class WorkspaceSetting(Base):
    __tablename__ = "workspace_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))
    updated_by: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime]


class AuditEntry(Base):
    """Who did what, when, to which case code: never scores, notes or text."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(48))
    case_code: Mapped[str | None] = mapped_column(String(8))
    detail: Mapped[str | None] = mapped_column(Text)


class SchedulerLease(Base):
    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]


class ProcessedEvent(Base):
    """Events API deliveries already handled, so a redelivery counts once."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)


class OutboxMessage(Base):
    """Something Alliance must send, written in the transaction that causes it and
    delivered afterwards by whichever process runs next (bot/store/outbox.py).
    Times that decide who may send when are the database's own (its clock)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))  # post / reply / update / dm / upload
    channel: Mapped[str] = mapped_column(String(32), index=True)  # a channel ID, or a user ID for a DM
    payload: Mapped[dict[str, Any]]
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    depends_on: Mapped[int | None] = mapped_column(Integer, index=True)  # waits for that row's ts
    status: Mapped[str] = mapped_column(String(8), default="pending")  # pending/sending/sent/failed/held
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(40))  # an error code, never text
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    result_channel: Mapped[str | None] = mapped_column(String(32))
    result_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]


class RatingLink(Base):
    """A client rating link for one session: a member's own (single use) or the
    clinic tablet's kiosk link (member NULL). Only a hash of the token is kept."""

    __tablename__ = "rating_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    checkin_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("checkins.id", ondelete="CASCADE"), index=True)
    member: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ClientAnswer(Base):
    """One member's own answer for one session, by member label only."""

    __tablename__ = "client_answers"
    __table_args__ = (UniqueConstraint("checkin_id", "member"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("checkins.id", ondelete="CASCADE"))
    member: Mapped[str] = mapped_column(String(32))
    items: Mapped[list[Any]]
    total: Mapped[int] = mapped_column(Integer)
    safety: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[datetime]


class SeenRequest(Base):
    """Signed requests already answered (kept 10 minutes, twice Slack's replay
    window): a replay is answered from here and dispatched no more. The body may
    hold private text, so it is stored encrypted."""

    __tablename__ = "seen_requests"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of timestamp and signature
    request_ts: Mapped[int] = mapped_column(BigInteger)  # X-Slack-Request-Timestamp
    status: Mapped[str] = mapped_column(String(8))  # pending (in flight), answered
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_headers: Mapped[list[Any] | None]
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(index=True)
