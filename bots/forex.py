"""The forex signals bot's commands (/start, /open, /stats); posting lives in `tasks.forex_channel`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from promostack.runtime import Runtime
from promostack.signals import records
from promostack.signals.messages import PARSE_MODE, recap_text
from promostack.signals.stats import recap_stats


def _runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    return context.bot_data["runtime"]


# --- commands -----------------------------------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say what the bot does and list its commands."""
    if update.effective_message:
        await update.effective_message.reply_text(
            "I post XAU/USD (gold) signals to our channel: entry, take profit, stop loss and the "
            "reasons, then how each one ended.\n/open: signals open now\n/stats: the last 7 days"
        )


async def open_signals(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the signals open now."""
    if not update.effective_message:
        return
    rows = records.open_signals(_runtime(context).sessions)
    if not rows:
        await update.effective_message.reply_text("No signal is open right now.")
        return
    lines = [f"{r.side} {r.symbol} @ {r.entry} · TP {r.take_profit} · SL {r.stop_loss}" for r in rows]
    await update.effective_message.reply_text("\n".join(lines))


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer with the recap of the last 7 days."""
    if not update.effective_message:
        return
    sessions = _runtime(context).sessions
    end = datetime.now(timezone.utc)
    start_ = end - timedelta(days=7)
    trades = records.closed_trades(sessions, start_, end)
    summary = recap_stats(
        trades, records.opened_count(sessions, start_, end), records.recent_trades(sessions, end)
    )
    replay = _runtime(context).settings.twelve_data_api_key is None
    await update.effective_message.reply_text(
        recap_text("Last 7 days", summary, replay), parse_mode=PARSE_MODE
    )


def register_handlers(application: Application) -> None:
    """Add the forex bot's command handlers to `application`."""
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("open", open_signals))
    application.add_handler(CommandHandler("stats", stats))
