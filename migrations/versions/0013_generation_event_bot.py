"""generation event bot: which bot asked for a Telegram promo (analytics split by it)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 00:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("generation_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bot", sa.String(length=32), nullable=True))
    # Until now the promo bot was the only bot that rendered.
    op.execute("UPDATE generation_events SET bot = 'promo' WHERE channel = 'telegram'")


def downgrade() -> None:
    with op.batch_alter_table("generation_events", schema=None) as batch_op:
        batch_op.drop_column("bot")
