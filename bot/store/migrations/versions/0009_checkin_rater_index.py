"""Check-ins are found by who rated them, newest first (`ix_checkins_therapist_id_created_at`):
calibration reads a therapist's last 200 check-ins at evaluations where it could change a
warning, and through the cases they own it sorted every check-in of theirs first, so its
cost grew with their history (bench part 2).

Revision ID: 0009
Revises: 0007
"""
from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_checkins_therapist_id_created_at", "checkins", ["therapist_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_checkins_therapist_id_created_at", table_name="checkins")
