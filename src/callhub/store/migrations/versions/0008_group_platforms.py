"""the API platforms each group may log in as (a platform no group names stays open)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "group_platform",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["user_group.id"]),
        sa.PrimaryKeyConstraint("group_id", "platform"),
    )
    op.create_index("ix_group_platform_platform", "group_platform", ["platform"])


def downgrade() -> None:
    op.drop_index("ix_group_platform_platform", table_name="group_platform")
    op.drop_table("group_platform")
