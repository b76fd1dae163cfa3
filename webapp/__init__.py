"""The Starlette app: public pages, admin dashboard, JSON API, Telegram and Stripe webhooks."""
