"""Therapists without a reminder time of their own follow the workspace default.

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("therapists", schema=None) as batch_op:
        batch_op.alter_column("remind_day", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("remind_time", existing_type=sa.String(length=5), nullable=True)
    # Until now everyone was created on Friday 15:00: those rows follow the default from now on.
    op.execute("UPDATE therapists SET remind_day = NULL, remind_time = NULL WHERE remind_day = 4 AND remind_time = '15:00'")


def downgrade() -> None:
    op.execute("UPDATE therapists SET remind_day = 4, remind_time = '15:00' WHERE remind_day IS NULL OR remind_time IS NULL")
    with op.batch_alter_table("therapists", schema=None) as batch_op:
        batch_op.alter_column("remind_time", existing_type=sa.String(length=5), nullable=False)
        batch_op.alter_column("remind_day", existing_type=sa.Integer(), nullable=False)
