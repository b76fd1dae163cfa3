"""Work a handler starts and does not wait for, awaited when its bot stops so none is lost."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from telegram.ext import Application

log = logging.getLogger(__name__)

BACKGROUND_KEY = "background_tasks"


def run_in_background(application: Application, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    """The task running `work` after the handler returns, awaited by `drain_background` at stop.

    `Application.create_task` forgets tasks created while the application is stopping (which is
    exactly when the last queued updates are handled), so the bots keep their own set.
    """
    tasks: set[asyncio.Task[Any]] = application.bot_data.setdefault(BACKGROUND_KEY, set())
    task = asyncio.get_running_loop().create_task(work)
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return task


async def drain_background(application: Application) -> None:
    """Nothing; returns once every `run_in_background` task has finished (errors are logged)."""
    tasks: set[asyncio.Task[Any]] = application.bot_data.get(BACKGROUND_KEY, set())
    while tasks:
        for result in await asyncio.gather(*list(tasks), return_exceptions=True):
            if isinstance(result, BaseException):
                log.error(
                    "background work of bot %s failed", application.bot_data.get("bot_id"), exc_info=result
                )
