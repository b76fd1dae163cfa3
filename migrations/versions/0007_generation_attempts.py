"""generation attempts: an event is written before the effect and settled after

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 22:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("generation_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default=sa.text("'succeeded'"), nullable=False)
        )
        batch_op.add_column(sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_generation_events_status", ["status"], unique=False)
    # Events written before attempts existed were all settled when written.
    op.execute("UPDATE generation_events SET status = 'failed' WHERE success = false")
    op.execute("UPDATE generation_events SET settled_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("generation_events", schema=None) as batch_op:
        batch_op.drop_index("ix_generation_events_status")
        batch_op.drop_column("settled_at")
        batch_op.drop_column("status")
