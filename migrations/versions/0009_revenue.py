"""revenue: the Stripe mirror (customers, subscriptions, prices, invoices, refunds, events)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 22:10:00

The Stripe mirror, every webhook event received (unique by id, raw body kept), the customer
MRR ledger and its movements, daily MRR snapshots, and the reconcile flow's cursors.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('revenue_customer_mrr',
        sa.Column('customer_id', sa.String(length=64), nullable=False),
        sa.Column('currency', sa.String(length=8), nullable=False),
        sa.Column('mrr', sa.Float(), nullable=False),
        sa.Column('ever_paid', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('customer_id', 'currency')
    )
    op.create_table('revenue_movements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.String(length=64), nullable=False),
        sa.Column('currency', sa.String(length=8), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('mrr_before', sa.Float(), nullable=False),
        sa.Column('mrr_after', sa.Float(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('source', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_revenue_movements_at', 'revenue_movements', ['at'], unique=False)
    op.create_index('ix_revenue_movements_customer_id', 'revenue_movements', ['customer_id'], unique=False)
    op.create_table('revenue_snapshots',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('currency', sa.String(length=8), nullable=False),
        sa.Column('product_id', sa.String(length=64), nullable=False),
        sa.Column('mrr', sa.Float(), nullable=False),
        sa.Column('subscribers', sa.Integer(), nullable=False),
        sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('day', 'currency', 'product_id')
    )
    op.create_table('stripe_customers',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('email', sa.String(length=255), nullable=True),
        sa.Column('name', sa.String(length=255), nullable=True),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.Column('created', sa.DateTime(timezone=True), nullable=True),
        sa.Column('source_ts', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_table('stripe_events',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('type', sa.String(length=80), nullable=False),
        sa.Column('created', sa.DateTime(timezone=True), nullable=False),
        sa.Column('livemode', sa.Boolean(), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_stripe_events_status', 'stripe_events', ['status'], unique=False)
    op.create_table('stripe_invoices',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('customer_id', sa.String(length=64), nullable=True),
        sa.Column('subscription_id', sa.String(length=64), nullable=True),
        sa.Column('status', sa.String(length=24), nullable=True),
        sa.Column('billing_reason', sa.String(length=40), nullable=True),
        sa.Column('currency', sa.String(length=8), nullable=False),
        sa.Column('amount_due', sa.BigInteger(), nullable=False),
        sa.Column('amount_paid', sa.BigInteger(), nullable=False),
        sa.Column('total', sa.BigInteger(), nullable=False),
        sa.Column('attempt_count', sa.Integer(), nullable=False),
        sa.Column('created', sa.DateTime(timezone=True), nullable=False),
        sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('payment_failed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('payment_intent_id', sa.String(length=64), nullable=True),
        sa.Column('source_ts', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_stripe_invoices_created', 'stripe_invoices', ['created'], unique=False)
    op.create_index('ix_stripe_invoices_customer_id', 'stripe_invoices', ['customer_id'], unique=False)
    op.create_index('ix_stripe_invoices_payment_intent_id', 'stripe_invoices', ['payment_intent_id'], unique=False)
    op.create_index('ix_stripe_invoices_subscription_id', 'stripe_invoices', ['subscription_id'], unique=False)
    op.create_table('stripe_prices',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('product_id', sa.String(length=64), nullable=True),
        sa.Column('currency', sa.String(length=8), nullable=False),
        sa.Column('unit_amount', sa.BigInteger(), nullable=True),
        sa.Column('billing_scheme', sa.String(length=16), nullable=False),
        sa.Column('interval', sa.String(length=8), nullable=True),
        sa.Column('interval_count', sa.Integer(), nullable=True),
        sa.Column('usage_type', sa.String(length=16), nullable=True),
        sa.Column('nickname', sa.String(length=255), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('source_ts', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_stripe_prices_product_id', 'stripe_prices', ['product_id'], unique=False)
    op.create_table('stripe_products',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('source_ts', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_table('stripe_refunds',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('charge_id', sa.String(length=64), nullable=True),
        sa.Column('payment_intent_id', sa.String(length=64), nullable=True),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=8), nullable=False),
        sa.Column('status', sa.String(length=24), nullable=True),
        sa.Column('reason', sa.String(length=40), nullable=True),
        sa.Column('created', sa.DateTime(timezone=True), nullable=False),
        sa.Column('source_ts', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_stripe_refunds_payment_intent_id', 'stripe_refunds', ['payment_intent_id'], unique=False)
    op.create_table('stripe_subscription_items',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('subscription_id', sa.String(length=64), nullable=False),
        sa.Column('price_id', sa.String(length=64), nullable=False),
        sa.Column('product_id', sa.String(length=64), nullable=True),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=8), nullable=False),
        sa.Column('unit_amount', sa.BigInteger(), nullable=True),
        sa.Column('billing_scheme', sa.String(length=16), nullable=False),
        sa.Column('tiers_mode', sa.String(length=16), nullable=True),
        sa.Column('tiers', sa.JSON(), nullable=True),
        sa.Column('interval', sa.String(length=8), nullable=False),
        sa.Column('interval_count', sa.Integer(), nullable=False),
        sa.Column('usage_type', sa.String(length=16), nullable=False),
        sa.Column('discounts', sa.JSON(), nullable=False),
        sa.Column('current_period_start', sa.DateTime(timezone=True), nullable=True),
        sa.Column('current_period_end', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_stripe_subscription_items_subscription_id', 'stripe_subscription_items', ['subscription_id'], unique=False)
    op.create_table('stripe_subscriptions',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('customer_id', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=24), nullable=False),
        sa.Column('currency', sa.String(length=8), nullable=False),
        sa.Column('cancel_at_period_end', sa.Boolean(), nullable=False),
        sa.Column('created', sa.DateTime(timezone=True), nullable=False),
        sa.Column('start_date', sa.DateTime(timezone=True), nullable=True),
        sa.Column('canceled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('trial_end', sa.DateTime(timezone=True), nullable=True),
        sa.Column('discounts', sa.JSON(), nullable=False),
        sa.Column('source_ts', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_stripe_subscriptions_customer_id', 'stripe_subscriptions', ['customer_id'], unique=False)
    op.create_table('stripe_sync_state',
        sa.Column('resource', sa.String(length=32), nullable=False),
        sa.Column('cursor', sa.String(length=64), nullable=True),
        sa.Column('pass_started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('watermark', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('resource')
    )


def downgrade() -> None:
    op.drop_table("stripe_sync_state")
    op.drop_table("stripe_subscriptions")
    op.drop_table("stripe_subscription_items")
    op.drop_table("stripe_refunds")
    op.drop_table("stripe_products")
    op.drop_table("stripe_prices")
    op.drop_table("stripe_invoices")
    op.drop_table("stripe_events")
    op.drop_table("stripe_customers")
    op.drop_table("revenue_snapshots")
    op.drop_table("revenue_movements")
    op.drop_table("revenue_customer_mrr")
