"""Webhook updates go through the update store (promostack/db/updates.py), so a dying web process
loses none and a re-delivered one runs once.

- `accept(runtime, bot, data)`: the webhook stores the update BEFORE it answers 200; a re-delivery
  (same bot and `update_id`) finds it stored and is dropped — this is the one deduplication;
- `run_stored(bot, row_id, update)`: the update's handlers run in the background (the bot's own
  concurrency limit applies), the row is started first and finished after;
- `picking_up_unfinished(runtime, bots)`: while a process runs, every `SWEEP_EVERY_S` (first at
  start) it takes the `received` updates whose holder's lease is over — a process that answered
  200 and died — and runs them, exactly one process winning each.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import Any

from telegram import Update

from bots.background import run_in_background
from bots.lifecycle import BotUnavailable, LiveBot
from promostack.periodic import every
from promostack.db.updates import (
    finish_update,
    forget_old_updates,
    interrupt_abandoned,
    start_update,
    store_update,
    unfinished_updates,
)
from promostack.runtime import Runtime

log = logging.getLogger(__name__)

SWEEP_EVERY_S = 10.0


def _lease(runtime: Runtime) -> timedelta:
    return timedelta(seconds=runtime.settings.telegram_update_lease_s)


async def accept(runtime: Runtime, bot: LiveBot, update: Update, data: dict[str, Any]) -> bool:
    """True when the update is new and now stored and running; False for a re-delivery."""
    row_id = await asyncio.to_thread(
        store_update, runtime.sessions, bot.entry.id, update.update_id, data, _lease(runtime)
    )
    if row_id is None:
        return False
    run_in_background(bot.application, run_stored(runtime, bot, row_id, update, lease_over=False))
    return True


async def run_stored(runtime: Runtime, bot: LiveBot, row_id: int, update: Update, *, lease_over: bool) -> bool:
    """True when this process ran the stored update's handlers; False when another took it."""
    application = bot.application
    ran = False

    async def start_and_process() -> None:
        nonlocal ran
        lease = _lease(runtime)
        if await asyncio.to_thread(start_update, runtime.sessions, row_id, lease, lease_over=lease_over):
            ran = True
            await application.process_update(update)

    # Through the update processor, so the bot's `concurrent_updates` limit applies as for its queue.
    await application.update_processor.process_update(update, start_and_process())
    if ran:
        await asyncio.to_thread(finish_update, runtime.sessions, row_id)
    return ran


async def pick_up_unfinished(runtime: Runtime, bots: Mapping[str, LiveBot]) -> int:
    """How many stored updates whose process died before running them this process ran now."""
    abandoned = await asyncio.to_thread(interrupt_abandoned, runtime.sessions)
    if abandoned:
        log.warning("%d Telegram update(s) were interrupted mid-handler by a dying process; not re-run", abandoned)
    runs = []
    for stored in await asyncio.to_thread(unfinished_updates, runtime.sessions, list(bots)):
        bot = bots[stored.bot]
        try:
            application = await bot.ready()
        except BotUnavailable as exc:
            log.warning("stored update %s of %s waits: %s", stored.update_id, stored.bot, exc)
            continue
        update = Update.de_json(stored.payload, application.bot)
        runs.append(run_stored(runtime, bot, stored.row_id, update, lease_over=True))
    ran = sum(await asyncio.gather(*runs))
    if ran:
        log.info("ran %d Telegram update(s) left by a process that died before running them", ran)
    await asyncio.to_thread(forget_old_updates, runtime.sessions)
    return ran


def picking_up_unfinished(runtime: Runtime, bots: Mapping[str, LiveBot]) -> AbstractAsyncContextManager[None]:
    """Runs `pick_up_unfinished` at once and then every `SWEEP_EVERY_S` while the block runs."""
    return every(SWEEP_EVERY_S, lambda: pick_up_unfinished(runtime, bots), "pick up unfinished Telegram updates")
