"""call records: every field of a PBX's call record (55pbx pushes)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from callhub.store.models import DecimalText, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


COLUMNS = [
    ("direction", _text(16)),
    ("call_type", _text(16)),
    ("status", _text(64)),
    ("disconnection", _text(64)),
    ("central_id", _text(32)),
    ("trunk", _text(32)),
    ("country_code", _text(4)),
    ("area_code", _text(4)),
    ("order_typed", _text(32)),
    ("talk_seconds", sa.Integer()),
    ("duration_seconds", sa.Integer()),
    ("wait_seconds", sa.Integer()),
    ("audio_url", _text(1024)),
    ("audio_file", _text(255)),
    ("tax", DecimalText()),
    ("tax_type", _text(16)),
    ("cost", DecimalText()),
    ("balance", DecimalText()),
    ("transfer_to", _text(64)),
    ("transferred_from_id", sa.Integer()),
    ("start_seen_at", UTCDateTime(timezone=True)),
    ("end_seen_at", UTCDateTime(timezone=True)),
    ("transfer_seen_at", UTCDateTime(timezone=True)),
    ("transfer_popped_at", UTCDateTime(timezone=True)),
]


def upgrade() -> None:
    with op.batch_alter_table("call", schema=None) as batch_op:
        for name, type_ in COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
        batch_op.create_foreign_key(
            "fk_call_transferred_from_id_call", "call", ["transferred_from_id"], ["id"]
        )
        batch_op.create_index("ix_call_direction", ["direction"], unique=False)
        batch_op.create_index("ix_call_number", ["number"], unique=False)
        batch_op.create_index("ix_call_transfer_to", ["transfer_to"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.drop_index("ix_call_transfer_to")
        batch_op.drop_index("ix_call_number")
        batch_op.drop_index("ix_call_direction")
        batch_op.drop_constraint("fk_call_transferred_from_id_call", type_="foreignkey")
        for name, _type in reversed(COLUMNS):
            batch_op.drop_column(name)
