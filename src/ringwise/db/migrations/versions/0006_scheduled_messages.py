"""scheduled messages: one row per contact and message of a campaign run; the webhook log's
age index for its retention purge

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 19:45:52.776497
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ringwise.db.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_sends",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("campaign_id", sa.String(length=36), nullable=False),
        sa.Column("campaign_contact_id", sa.String(length=36), nullable=False),
        sa.Column("contact_id", sa.String(length=36), nullable=False),
        sa.Column("run_index", sa.Integer(), nullable=False),
        sa.Column("message_index", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("due_at", ringwise.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", ringwise.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("from_address", sa.String(length=320), nullable=True),
        sa.Column("to_address", sa.String(length=320), nullable=True),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("provider_message_id", sa.String(length=255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("sent_at", ringwise.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", ringwise.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ringwise.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_contact_id"],
            ["campaign_contacts.id"],
            name=op.f("fk_message_sends_campaign_contact_id_campaign_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_message_sends_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_message_sends_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_message_sends_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_sends")),
        sa.UniqueConstraint(
            "campaign_contact_id",
            "run_index",
            "message_index",
            name=op.f("uq_message_sends_campaign_contact_id_run_index_message_index"),
        ),
    )
    with op.batch_alter_table("message_sends", schema=None) as batch_op:
        batch_op.create_index(
            "ix_message_sends_campaign_created", ["campaign_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_message_sends_contact_id"), ["contact_id"], unique=False
        )
        batch_op.create_index("ix_message_sends_due", ["status", "due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_message_sends_workspace_id"), ["workspace_id"], unique=False
        )
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_events_created", ["created_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_events_created")
    with op.batch_alter_table("message_sends", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_sends_workspace_id"))
        batch_op.drop_index("ix_message_sends_due")
        batch_op.drop_index(batch_op.f("ix_message_sends_contact_id"))
        batch_op.drop_index("ix_message_sends_campaign_created")

    op.drop_table("message_sends")
