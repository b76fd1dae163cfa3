"""How fast a broadcast goes and how Telegram's answers are read.

The budget is per bot token and shared by every process sending with it (the webhook's replies,
flows, workers on other machines): a one-second window in the shared limiter
(`promostack.limits`), keyed by a hash of the token so the token never lands in Redis or the
database. The default rate, 25/s, leaves room under Telegram's ~30/s for the bot's own replies;
a broadcast on the paid lane (`allow_paid_broadcast`) gets the higher paid rate.

Each chat gets one message per broadcast, so Telegram's 1/s-per-chat rule cannot be broken by a
broadcast on its own; the bot processes' `FloodControl` keeps guarding their replies.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from promostack.limits import Limit

WINDOW_S = 1.0
# 5xx and refused connections: Telegram certainly did not send; retried after these waits.
RETRY_DELAYS_S = (0.5, 1.0, 2.0, 4.0, 8.0)
# Only these 403s mean the person is gone; any other 403 (bot kicked from a group...) fails the row.
BLOCKED_PHRASES = ("bot was blocked by the user", "user is deactivated")


@dataclass(frozen=True)
class Pace:
    """The sending budget of one broadcast: messages per second and requests in flight."""

    rate_per_s: float
    in_flight: int

    @property
    def limit(self) -> Limit:
        """The shared limiter's limit: `rate_per_s` per one-second window."""
        return Limit(max(1, int(self.rate_per_s * WINDOW_S)), WINDOW_S)


def pace_for(rate_per_s: float, paid_rate_per_s: float, in_flight: int, *, paid: bool) -> Pace:
    """The pace of a broadcast on the normal or the paid lane."""
    return Pace(paid_rate_per_s if paid else rate_per_s, max(1, in_flight))


def pace_key(token: str) -> str:
    """The shared limiter's key for a bot token (a hash: the token itself is never stored)."""
    return "telegram-send:" + hashlib.sha256(token.encode()).hexdigest()[:20]


def means_blocked(status: int, description: str) -> bool:
    """True when Telegram's error says the user blocked the bot or deleted their account."""
    text = description.lower()
    return status == 403 and any(phrase in text for phrase in BLOCKED_PHRASES)
