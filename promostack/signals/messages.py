"""The texts the forex channel shows (Telegram HTML): a signal, its close, and recaps.

Anything that came from candles replayed from a file says REPLAY in its first line, so nobody
mistakes a simulation for a live call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from promostack.signals.lifecycle import EXPIRED, STOP_LOSS, TAKE_PROFIT, pip_size, price_decimals
from promostack.signals.stats import RecapStats

#: Telegram parse mode of every text built here.
PARSE_MODE = "HTML"

REPLAY_BANNER = "🔁 <b>REPLAY</b> — simulated from recorded candles, not live prices"
DISCLAIMER = "<i>Not financial advice. Trade at your own risk.</i>"


@dataclass(frozen=True)
class SignalView:
    """The fields of a signal a message shows (a `Signal` row satisfies it)."""

    symbol: str
    interval: str
    candle_time: datetime
    side: str
    entry: float
    take_profit: float
    stop_loss: float
    reasons: dict[str, Any]
    source: str


def _price(symbol: str, value: float) -> str:
    return f"{value:.{price_decimals(symbol)}f}"


def _pips(symbol: str, distance: float) -> str:
    return f"{abs(distance) / pip_size(symbol):.0f} pips"


def signal_text(signal: Any) -> str:
    """The channel post announcing `signal` (any object with `SignalView`'s fields)."""
    s = signal.symbol
    icon = "🟢" if signal.side == "BUY" else "🔴"
    risk, reward = abs(signal.entry - signal.stop_loss), abs(signal.take_profit - signal.entry)
    lines = [REPLAY_BANNER, ""] if signal.source == "replay" else []
    lines += [
        f"{icon} <b>{signal.side} {escape(s)}</b>",
        f"Entry: <b>{_price(s, signal.entry)}</b>",
        f"Take profit: {_price(s, signal.take_profit)} (+{_pips(s, reward)})",
        f"Stop loss: {_price(s, signal.stop_loss)} (-{_pips(s, risk)})",
        f"Reward/risk: {reward / risk:.2f}" if risk else "Reward/risk: n/a",
        f"On the {escape(signal.interval)} candle of {signal.candle_time:%a %d %b %H:%M} UTC",
        "",
        "<b>Why</b>",
    ]
    lines += [f"• {escape(str(rule))}" for rule in (signal.reasons or {}).get("rules", [])]
    lines += ["", DISCLAIMER]
    return "\n".join(lines)


def close_text(signal: Any, celebration: str | None = None) -> str:
    """The reply under a signal's post saying how it ended (plus a celebration on a win)."""
    s = signal.symbol
    headline = {
        TAKE_PROFIT: "✅ <b>Take profit hit</b>",
        STOP_LOSS: "❌ <b>Stop loss hit</b>",
        EXPIRED: "⏱ <b>Signal expired</b>",
    }.get(signal.status, f"<b>{escape(signal.status)}</b>")
    lines = [REPLAY_BANNER, ""] if signal.source == "replay" else []
    lines += [
        f"{headline} — {signal.side} {escape(s)}",
        f"Entry {_price(s, signal.entry)} → exit {_price(s, signal.exit_price)}",
        f"Result: <b>{signal.pips:+.1f} pips</b> ({signal.r_multiple:+.2f}R)",
    ]
    if celebration:
        lines += ["", escape(celebration)]
    return "\n".join(lines)


def recap_text(title: str, stats: RecapStats, replay: bool) -> str:
    """A recap message: counts, win rate, pips, average R, best, worst and the current streak."""
    lines = [REPLAY_BANNER, ""] if replay else []
    lines.append(f"📊 <b>{escape(title)}</b>")
    lines.append(f"Signals: {stats.opened} new, {stats.closed} closed")
    if stats.closed:
        lines += [
            f"Wins / losses: {stats.wins} / {stats.losses}",
            f"Win rate: {stats.win_rate * 100:.0f}%" if stats.win_rate is not None else "Win rate: n/a",
            f"Pips: <b>{stats.pips:+.1f}</b>",
            f"Average R: {stats.average_r:+.2f}" if stats.average_r is not None else "Average R: n/a",
            f"Best: {stats.best_pips:+.1f} pips · Worst: {stats.worst_pips:+.1f} pips",
        ]
    else:
        lines.append("No signal closed in this period.")
    lines.append(f"Current streak: {stats.streak_text}")
    return "\n".join(lines)
