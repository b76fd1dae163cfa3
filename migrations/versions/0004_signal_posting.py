"""signal posting: post states on signals, and the signal_recaps table

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 07:50:00

`post_state` / `close_post_state` make channel posts idempotent (only `pending` ones are sent);
`signal_recaps` records each daily/weekly recap so a retried run never posts it twice.
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("post_state", sa.String(length=16), server_default="pending", nullable=False)
        )
        batch_op.add_column(
            sa.Column("close_post_state", sa.String(length=16), server_default="pending", nullable=False)
        )
    # Signals that already carry a message id were posted before this column existed.
    op.execute("UPDATE signals SET post_state = 'posted' WHERE message_id IS NOT NULL")
    op.execute("UPDATE signals SET close_post_state = 'posted' WHERE close_message_id IS NOT NULL")
    op.create_table(
        "signal_recaps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("post_state", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("period", "period_start", name="uq_signal_recaps_period"),
    )


def downgrade() -> None:
    op.drop_table("signal_recaps")
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.drop_column("close_post_state")
        batch_op.drop_column("post_state")
