"""A clinic's real week (issue 14): attendance on check-ins, a cadence per case.

`checkins.attendance` is `attended` for a rated session, `cancelled` or `no_show`
for one that did not happen (no ratings). `cases.cadence_weeks` is how many weeks
apart the case's sessions are (1 weekly, 2 fortnightly, 4 monthly), counted from
the Monday `cases.cadence_anchor`.

Revision ID: 0006
Revises: 0004 (0003 → 0005 → 0004_outbox → 0006: re-chained when main met the outbox branch)
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"  # 0003 → 0005 → 0004_outbox → 0006 (re-chained when main met the outbox branch)
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attendance", sa.String(length=12), nullable=False, server_default="attended"))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cadence_weeks", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("cadence_anchor", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("cadence_anchor")
        batch_op.drop_column("cadence_weeks")
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_column("attendance")
