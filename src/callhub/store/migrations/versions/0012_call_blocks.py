"""the IVR's block list (rotearChamada): blocked numbers and documents, and each refusal

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from callhub.store.models import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_block",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("document", sqlmodel.sql.sqltypes.AutoString(length=14), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
    )
    op.create_index("ix_call_block_number", "call_block", ["number"])
    op.create_index("ix_call_block_document", "call_block", ["document"])
    op.create_table(
        "call_refusal",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("block_id", sa.Integer(), sa.ForeignKey("call_block.id"), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("document", sqlmodel.sql.sqltypes.AutoString(length=14), nullable=True),
        sa.Column("refused_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_call_refusal_block_id", "call_refusal", ["block_id"])


def downgrade() -> None:
    op.drop_index("ix_call_refusal_block_id", table_name="call_refusal")
    op.drop_table("call_refusal")
    op.drop_index("ix_call_block_document", table_name="call_block")
    op.drop_index("ix_call_block_number", table_name="call_block")
    op.drop_table("call_block")
