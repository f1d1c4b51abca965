"""who held the extension when each pop was made (a new holder sees none of the last one's)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("screen_pop") as batch:
        batch.add_column(sa.Column("holder_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("screen_pop") as batch:
        batch.drop_column("holder_id")
