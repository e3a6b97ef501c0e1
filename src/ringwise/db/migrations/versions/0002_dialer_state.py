"""dialer state: due windows, leases, worker heartbeats, number CPS starts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 11:25:38.852854
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ringwise.db.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("started_at", ringwise.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", ringwise.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
    )
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workers_heartbeat_at"), ["heartbeat_at"], unique=False)

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("ringing_at", ringwise.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_calls_status_lease", ["status", "lease_owner"], unique=False)

    with op.batch_alter_table("campaign_contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_contacts_due")
        batch_op.create_index(
            "ix_campaign_contacts_due",
            ["campaign_id", "state", "next_eligible_at", "id"],
            unique=False,
        )
        batch_op.add_column(
            sa.Column("window_end", ringwise.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("timezones", sa.String(length=512), nullable=True))
        batch_op.add_column(
            sa.Column(
                "first_attempt_at", ringwise.db.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "last_attempt_at", ringwise.db.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column("ended_reason", sa.String(length=64), nullable=True))

    with op.batch_alter_table("phone_numbers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "recent_starts",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("phone_numbers", schema=None) as batch_op:
        batch_op.drop_column("recent_starts")

    with op.batch_alter_table("campaign_contacts", schema=None) as batch_op:
        batch_op.drop_column("ended_reason")
        batch_op.drop_column("last_attempt_at")
        batch_op.drop_column("first_attempt_at")
        batch_op.drop_column("timezones")
        batch_op.drop_column("window_end")
        batch_op.drop_index("ix_campaign_contacts_due")
        batch_op.create_index(
            "ix_campaign_contacts_due", ["campaign_id", "state", "next_eligible_at"], unique=False
        )

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_status_lease")
        batch_op.drop_column("ringing_at")
        batch_op.drop_column("lease_owner")

    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workers_heartbeat_at"))

    op.drop_table("workers")
