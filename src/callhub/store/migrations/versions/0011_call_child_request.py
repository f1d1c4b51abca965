"""the child request a call opened on viewing a request (parameter 282): one a call; the
caller's calls by requester (the agent's card lists the last ones); a missed call marked
handled (when, by whom)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from callhub.store.models import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain column: SQLite adds it in place (a foreign key would rebuild the table).
    op.add_column("call", sa.Column("child_request_id", sa.Integer(), nullable=True))
    op.add_column("call", sa.Column("handled_at", UTCDateTime(timezone=True), nullable=True))
    op.add_column("call", sa.Column("handled_by", sa.Integer(), nullable=True))
    where = sa.text("requester_id IS NOT NULL")
    op.create_index(
        "ix_call_requester_id",
        "call",
        ["requester_id"],
        sqlite_where=where,
        postgresql_where=where,
    )


def downgrade() -> None:
    op.drop_index("ix_call_requester_id", table_name="call")
    with op.batch_alter_table("call") as batch:
        batch.drop_column("handled_by")
        batch.drop_column("handled_at")
        batch.drop_column("child_request_id")
