"""telegram updates: each webhook update stored before it is acknowledged, unique per bot

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 23:00:00

`telegram_updates` is the update store (promostack/db/updates.py): written before the webhook
answers 200, processed from there, and the (bot, update_id) key drops Telegram's re-deliveries.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telegram_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bot", sa.String(length=32), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("bot", "update_id", name="uq_telegram_updates_bot_update"),
    )
    op.create_index("ix_telegram_updates_state_lease", "telegram_updates", ["state", "lease_until"])


def downgrade() -> None:
    op.drop_index("ix_telegram_updates_state_lease", table_name="telegram_updates")
    op.drop_table("telegram_updates")
