"""signal parameters: parameter sets an admin adopted for the live strategy, with who and when

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 22:10:00

`walk_forward_runs` keeps each walk-forward report; `strategy_adoptions` records every change of
the live strategy's parameters (the newest row per symbol and interval is the one in force).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "walk_forward_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("symbol", sa.String(length=16), nullable=False),
        sa.Column("interval", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("windows", sa.Integer(), nullable=False),
        sa.Column("trades", sa.Integer(), nullable=False),
        sa.Column("expectancy_r", sa.Float(), nullable=True),
        sa.Column("edge", sa.Boolean(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_walk_forward_runs_created_at", "walk_forward_runs", ["created_at"])
    op.create_table(
        "strategy_adoptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=16), nullable=False),
        sa.Column("interval", sa.String(length=8), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("previous_params", sa.JSON(), nullable=False),
        sa.Column("adopted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("adopted_by", sa.String(length=128), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("walk_forward_run_id", sa.Integer(), nullable=True),
        sa.Column("window_index", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["walk_forward_run_id"], ["walk_forward_runs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_strategy_adoptions_symbol_interval", "strategy_adoptions", ["symbol", "interval", "adopted_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_strategy_adoptions_symbol_interval", table_name="strategy_adoptions")
    op.drop_table("strategy_adoptions")
    op.drop_index("ix_walk_forward_runs_created_at", table_name="walk_forward_runs")
    op.drop_table("walk_forward_runs")
