"""generation event ids: a writer-chosen unique id per event, so retried writes stay single

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 09:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("generation_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_id", sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint("uq_generation_events_event_id", ["event_id"])


def downgrade() -> None:
    with op.batch_alter_table("generation_events", schema=None) as batch_op:
        batch_op.drop_constraint("uq_generation_events_event_id", type_="unique")
        batch_op.drop_column("event_id")
