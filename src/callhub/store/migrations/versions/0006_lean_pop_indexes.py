"""lean pop indexes: a pop writes fewer index pages

A pop writes a call and a screen pop; every index on them is one more page written per
pop, and copied again at the next checkpoint. Dropped: the call's number (searched with
"contains", which no index serves) and direction (two values), and the pop's creation
time (pops are read by extension, in seq order, which the extension's index holds).
The call's request and transfer and the pop's request are indexed only where set.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PARTIAL = (
    ("ix_call_request_id", "call", "request_id"),
    ("ix_call_transfer_to", "call", "transfer_to"),
    ("ix_screen_pop_request_id", "screen_pop", "request_id"),
)


def upgrade() -> None:
    op.drop_index("ix_call_number", table_name="call")
    op.drop_index("ix_call_direction", table_name="call")
    op.drop_index("ix_screen_pop_created_at", table_name="screen_pop")
    for name, table, column in PARTIAL:
        where = sa.text(f"{column} IS NOT NULL")
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [column], sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for name, table, column in PARTIAL:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [column])
    op.create_index("ix_screen_pop_created_at", "screen_pop", ["created_at"])
    op.create_index("ix_call_direction", "call", ["direction"])
    op.create_index("ix_call_number", "call", ["number"])
