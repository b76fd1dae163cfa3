"""Broadcasts and channel posts, the pure part: what a broadcast may say (`compose`, `html`), its
recipient snapshot and row states in the database (`recipients`), who runs it and what admins may
do to it (`control`), how fast and how errors are read (`pacing`), and the channels (`channels`).

Nothing here talks to Telegram: `tasks/telegram_send.py` does, and `flows/broadcast.py` and
`flows/channel_post.py` put the steps in order.
"""
