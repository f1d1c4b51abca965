"""itsm api: groups and API permissions, sessions, executions, FROM-TO keys, named queries,
contracts and units, status justifications and denied reasons; what requests and
occurrences add for the API

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from callhub.store.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# v2/status ids: 2 Suspended, 3 Canceled, 4 Solved.
JUSTIFICATIONS = [
    (2, "Aguardando retorno do solicitante"),
    (2, "Aguardando fornecedor"),
    (2, "Aguardando peça ou material"),
    (3, "Solicitação duplicada"),
    (3, "Cancelada a pedido do solicitante"),
    (4, "Resolvida remotamente"),
    (4, "Resolvida no local"),
]
DENIED_REASONS = [
    "Solicitante ausente",
    "Local fechado",
    "Acesso não autorizado pela portaria",
    "Endereço não encontrado",
]


def upgrade() -> None:
    op.create_table(
        "contract",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "denied_reason",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "justification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("status_id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "named_query",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("sql", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("named_query", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_named_query_name"), ["name"], unique=True)

    op.create_table(
        "sync_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("object", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("from_key", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("to_key", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "object", "from_key"),
    )
    with op.batch_alter_table("sync_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_key_to_key"), ["to_key"], unique=False)

    op.create_table(
        "sync_mark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("object", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("synced_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "object", "item_id"),
    )
    op.create_table(
        "user_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("acronym", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("user_group", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_group_acronym"), ["acronym"], unique=True)

    op.create_table(
        "api_execution",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("input", sa.JSON(), nullable=True),
        sa.Column("output", sa.JSON(), nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("api_execution", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_execution_ok"), ["ok"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_execution_operation"), ["operation"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_api_execution_started_at"), ["started_at"], unique=False
        )

    op.create_table(
        "api_permission",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("operation", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["user_group.id"],
        ),
        sa.PrimaryKeyConstraint("group_id", "operation"),
    )
    op.create_table(
        "api_session",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("device_token", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("api_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_session_device_token"), ["device_token"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_api_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "group_member",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["user_group.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("group_id", "user_id"),
    )
    with op.batch_alter_table("group_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_group_member_user_id"), ["user_id"], unique=False)

    op.create_table(
        "unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contract.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_contract_id"), ["contract_id"], unique=False)

    with op.batch_alter_table("category", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_category_code"), ["code"], unique=True)

    with op.batch_alter_table("occurrence", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
        batch_op.add_column(
            sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True)
        )
        batch_op.add_column(
            sa.Column("origin", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
        batch_op.add_column(sa.Column("occurred_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("elapsed_minutes", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_occurrence_category"), ["category"], unique=False)

    with op.batch_alter_table("requester", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("login", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_requester_login"), ["login"], unique=True)

    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_service_code"), ["code"], unique=True)

    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "impact",
                sqlmodel.sql.sqltypes.AutoString(length=1),
                nullable=False,
                server_default="M",
            )
        )
        batch_op.add_column(sa.Column("group_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("contract_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_service_request_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_service_request_group_id"), ["group_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_service_request_group_id", "user_group", ["group_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_service_request_contract_id", "contract", ["contract_id"], ["id"]
        )
        batch_op.create_foreign_key("fk_service_request_unit_id", "unit", ["unit_id"], ["id"])

    with op.batch_alter_table("screen_pop", schema=None) as batch_op:
        batch_op.create_index("ix_screen_pop_request_id", ["request_id"], unique=False)

    # Reference lists an installation starts with (v2/status justifications, denied check-ins).
    justification = sa.table(
        "justification",
        sa.column("description", sa.String),
        sa.column("status_id", sa.Integer),
        sa.column("active", sa.Boolean),
    )
    op.bulk_insert(
        justification,
        [{"description": d, "status_id": s, "active": True} for s, d in JUSTIFICATIONS],
    )
    denied = sa.table(
        "denied_reason", sa.column("description", sa.String), sa.column("active", sa.Boolean)
    )
    op.bulk_insert(denied, [{"description": d, "active": True} for d in DENIED_REASONS])


def downgrade() -> None:
    with op.batch_alter_table("screen_pop", schema=None) as batch_op:
        batch_op.drop_index("ix_screen_pop_request_id")
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.drop_constraint("fk_service_request_unit_id", type_="foreignkey")
        batch_op.drop_constraint("fk_service_request_contract_id", type_="foreignkey")
        batch_op.drop_constraint("fk_service_request_group_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_service_request_group_id"))
        batch_op.drop_index(batch_op.f("ix_service_request_contract_id"))
        batch_op.drop_column("unit_id")
        batch_op.drop_column("contract_id")
        batch_op.drop_column("group_id")
        batch_op.drop_column("impact")

    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_code"))
        batch_op.drop_column("code")

    with op.batch_alter_table("requester", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_requester_login"))
        batch_op.drop_column("login")

    with op.batch_alter_table("occurrence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_occurrence_category"))
        batch_op.drop_column("elapsed_minutes")
        batch_op.drop_column("occurred_at")
        batch_op.drop_column("origin")
        batch_op.drop_column("reason")
        batch_op.drop_column("category")

    with op.batch_alter_table("category", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_category_code"))
        batch_op.drop_column("code")

    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_contract_id"))

    op.drop_table("unit")
    with op.batch_alter_table("group_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_group_member_user_id"))

    op.drop_table("group_member")
    with op.batch_alter_table("api_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_session_user_id"))
        batch_op.drop_index(batch_op.f("ix_api_session_device_token"))

    op.drop_table("api_session")
    op.drop_table("api_permission")
    with op.batch_alter_table("api_execution", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_execution_started_at"))
        batch_op.drop_index(batch_op.f("ix_api_execution_operation"))
        batch_op.drop_index(batch_op.f("ix_api_execution_ok"))

    op.drop_table("api_execution")
    with op.batch_alter_table("user_group", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_group_acronym"))

    op.drop_table("user_group")
    op.drop_table("sync_mark")
    with op.batch_alter_table("sync_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_key_to_key"))

    op.drop_table("sync_key")
    with op.batch_alter_table("named_query", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_named_query_name"))

    op.drop_table("named_query")
    op.drop_table("justification")
    op.drop_table("denied_reason")
    op.drop_table("contract")
