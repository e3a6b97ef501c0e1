"""compliance: do-not-call lists, consent and scrub dates, campaign flags, compliance log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 14:25:18.984945
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ringwise.db.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    # The frequency caps read a phone's recent calls in the workspace at every claim.
    op.create_index("ix_calls_workspace_phone_created", "calls",
                    ["workspace_id", "to_number", "created_at"], unique=False)
    op.create_table(
        "dnc_entries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("campaign_id", sa.String(length=36), nullable=True),
        sa.Column("pattern", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=True),
        sa.Column("created_at", ringwise.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_dnc_entries_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_dnc_entries_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dnc_entries")),
    )
    with op.batch_alter_table("dnc_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dnc_entries_list_created",
            ["workspace_id", "campaign_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_dnc_entries_workspace_pattern", ["workspace_id", "pattern"], unique=False
        )
        batch_op.create_index(
            "uq_dnc_entries_campaign_list",
            ["campaign_id", "pattern"],
            unique=True,
            sqlite_where=sa.text("campaign_id IS NOT NULL"),
            postgresql_where=sa.text("campaign_id IS NOT NULL"),
        )
        batch_op.create_index(
            "uq_dnc_entries_workspace_list",
            ["workspace_id", "pattern"],
            unique=True,
            sqlite_where=sa.text("campaign_id IS NULL"),
            postgresql_where=sa.text("campaign_id IS NULL"),
        )

    op.create_table(
        "compliance_log",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("campaign_id", sa.String(length=36), nullable=True),
        sa.Column("campaign_contact_id", sa.String(length=36), nullable=True),
        sa.Column("call_id", sa.String(length=36), nullable=True),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("at", ringwise.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("rules", sa.String(length=255), nullable=False),
        sa.Column("local_times", _json(), nullable=False),
        sa.Column("details", _json(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_contact_id"],
            ["campaign_contacts.id"],
            name=op.f("fk_compliance_log_campaign_contact_id_campaign_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_compliance_log_campaign_id_campaigns"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_compliance_log_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_log")),
    )
    with op.batch_alter_table("compliance_log", schema=None) as batch_op:
        batch_op.create_index("ix_compliance_log_call_id", ["call_id"], unique=False)
        batch_op.create_index(
            "ix_compliance_log_campaign_at", ["campaign_id", "at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_compliance_log_campaign_contact_id"),
            ["campaign_contact_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_compliance_log_workspace_id"), ["workspace_id"], unique=False
        )

    # Existing campaigns are neither telemarketing nor debt collection until told otherwise.
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("telemarketing", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("regulation_f", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consent_basis", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("consent_at", ringwise.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "registry_scrubbed_at",
                ringwise.db.types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )

    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("compliance", _json(), nullable=True))


def downgrade() -> None:
    op.drop_index("ix_calls_workspace_phone_created", table_name="calls")
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_column("compliance")

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("registry_scrubbed_at")
        batch_op.drop_column("consent_at")
        batch_op.drop_column("consent_basis")

    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("regulation_f")
        batch_op.drop_column("telemarketing")

    with op.batch_alter_table("compliance_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compliance_log_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_compliance_log_campaign_contact_id"))
        batch_op.drop_index("ix_compliance_log_campaign_at")
        batch_op.drop_index("ix_compliance_log_call_id")

    op.drop_table("compliance_log")

    with op.batch_alter_table("dnc_entries", schema=None) as batch_op:
        batch_op.drop_index("uq_dnc_entries_workspace_list")
        batch_op.drop_index("uq_dnc_entries_campaign_list")
        batch_op.drop_index("ix_dnc_entries_workspace_pattern")
        batch_op.drop_index("ix_dnc_entries_list_created")

    op.drop_table("dnc_entries")
