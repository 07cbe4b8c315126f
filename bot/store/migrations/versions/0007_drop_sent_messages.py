"""One mechanism for everything Alliance sends (issue 11): reminders, plan-due
replies and the digest go through the outbox, so the sent-message ledger goes.

Its recent reminder and digest keys move into the outbox as sent rows (no message,
only their dedupe key and where they landed), so a sweep right after the upgrade
does not send this week's reminders or digest a second time. Plan-due replies need
no carrying over: their plan's `reminded_at` already says so.

Revision ID: 0007
Revises: 0008 (0006 → 0008 → 0007: 0008, the check-ins' mean rating, landed on main first)
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0008"  # 0006 → 0008 → 0007 (re-chained: 0008 landed on main first)
branch_labels = None
depends_on = None

CARRIED = {"reminder": "dm", "reminder-snoozed": "dm", "digest": "post", "digest-chart": "upload"}
KEEP = timedelta(days=30)  # older keys are past every grace window (and the outbox keeps sent rows 30 days)

_sent = sa.table("sent_messages", sa.column("key", sa.String), sa.column("status", sa.String),
                 sa.column("claimed_at", sa.DateTime(timezone=True)), sa.column("sent_at", sa.DateTime(timezone=True)),
                 sa.column("channel_id", sa.String), sa.column("message_ts", sa.String))
_outbox = sa.table("outbox", sa.column("kind", sa.String), sa.column("channel", sa.String),
                   sa.column("payload", sa.JSON), sa.column("dedupe_key", sa.String), sa.column("status", sa.String),
                   sa.column("attempts", sa.Integer), sa.column("result_channel", sa.String),
                   sa.column("result_ts", sa.String), sa.column("created_at", sa.DateTime(timezone=True)),
                   sa.column("sent_at", sa.DateTime(timezone=True)))


def upgrade() -> None:
    bind = op.get_bind()
    since = datetime.now(timezone.utc) - KEEP
    taken = set(bind.execute(sa.select(_outbox.c.dedupe_key).where(_outbox.c.dedupe_key.is_not(None))).scalars())
    rows = []
    for key, claimed_at, sent_at, channel_id, message_ts in bind.execute(
            sa.select(_sent.c.key, _sent.c.claimed_at, _sent.c.sent_at, _sent.c.channel_id, _sent.c.message_ts)
            .where(_sent.c.claimed_at >= since)):
        parts = str(key).split(":")
        if parts[0] not in CARRIED or len(parts) < 3 or key in taken:
            continue
        at = sent_at or claimed_at
        rows.append({"kind": CARRIED[parts[0]], "channel": (channel_id or parts[1])[:32], "payload": {},
                     "dedupe_key": key, "status": "sent", "attempts": 1, "result_channel": channel_id,
                     "result_ts": message_ts, "created_at": claimed_at, "sent_at": at})
    if rows:
        op.bulk_insert(_outbox, rows)
    op.drop_table("sent_messages")


def downgrade() -> None:
    op.create_table(
        "sent_messages",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sent_messages")),
    )
