"""Each check-in keeps the mean of its ratings (`checkins.mean_rating`), so that
calibration reads a number per check-in instead of parsing hundreds of JSON rows at
every evaluation (bench/log_path.py). Filled here for the rows already stored; kept
up to date by the model on every insert and update (bot/store/models.py); NULL when
every member was absent (and, for a row written around the model, computed from the
JSON when read: bot/store/ratings.py).

Revision ID: 0008
Revises: 0006 (0007 is taken by the branch that drops sent_messages: whichever lands second
re-chains onto the other)
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"  # see the docstring: 0007 is another branch's
branch_labels = None
depends_on = None

_FILL = {
    "postgresql": "UPDATE checkins SET mean_rating = (SELECT avg(r.value::float8) FROM json_each_text(checkins.ratings) "
                  "AS r WHERE r.value IS NOT NULL)",
    "sqlite": "UPDATE checkins SET mean_rating = (SELECT avg(r.value) FROM json_each(checkins.ratings) AS r "
              "WHERE r.value IS NOT NULL)",
}


def upgrade() -> None:
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mean_rating", sa.Float(), nullable=True))
    op.execute(_FILL[op.get_bind().dialect.name])


def downgrade() -> None:
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_column("mean_rating")
