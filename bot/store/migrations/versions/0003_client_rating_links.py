"""Client rating links and the clients' own answers (issue 16).

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_safety", sa.JSON(), nullable=True))

    op.create_table(
        "rating_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("checkin_id", _ID, nullable=False),
        sa.Column("member", sa.String(length=32), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_rating_links_case_id_cases"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["checkin_id"], ["checkins.id"], name=op.f("fk_rating_links_checkin_id_checkins"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_rating_links_token_hash")),
    )
    with op.batch_alter_table("rating_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rating_links_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rating_links_checkin_id"), ["checkin_id"], unique=False)

    op.create_table(
        "client_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checkin_id", _ID, nullable=False),
        sa.Column("member", sa.String(length=32), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("safety", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["checkin_id"], ["checkins.id"], name=op.f("fk_client_answers_checkin_id_checkins"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_answers")),
        sa.UniqueConstraint("checkin_id", "member", name=op.f("uq_client_answers_checkin_id_member")),
    )


def downgrade() -> None:
    op.drop_table("client_answers")
    with op.batch_alter_table("rating_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rating_links_checkin_id"))
        batch_op.drop_index(batch_op.f("ix_rating_links_case_id"))
    op.drop_table("rating_links")
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_column("client_safety")
