"""compat: integer ids for foreign APIs, workspace compat defaults

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 18:13:52.612126
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ringwise.db.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "compat_ids",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("system", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("native_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", ringwise.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_compat_ids_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compat_ids")),
        sa.UniqueConstraint(
            "system", "kind", "native_id", name=op.f("uq_compat_ids_system_kind_native_id")
        ),
    )
    with op.batch_alter_table("compat_ids", schema=None) as batch_op:
        batch_op.create_index(
            "ix_compat_ids_workspace", ["workspace_id", "system", "kind"], unique=False
        )

    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("compat", _json(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_column("compat")

    with op.batch_alter_table("compat_ids", schema=None) as batch_op:
        batch_op.drop_index("ix_compat_ids_workspace")

    op.drop_table("compat_ids")
