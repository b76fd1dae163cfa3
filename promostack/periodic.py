"""Running a coroutine again and again while a block runs: the sweeps a long-lived process keeps
(settling stale generation attempts, picking up Telegram updates a dead process left)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

log = logging.getLogger(__name__)


@asynccontextmanager
async def every(seconds: float, job: Callable[[], Awaitable[object]], what: str) -> AsyncIterator[None]:
    """Runs `job` at once and then every `seconds` while the block runs; a failing round is logged
    (as "could not <what>") and the next one tries again — a database may be down for a while."""

    async def sweep() -> None:
        while True:
            try:
                await job()
            except Exception:  # the next round tries again; the log says why this one failed
                log.warning("could not %s", what, exc_info=True)
            await asyncio.sleep(seconds)

    sweeper = asyncio.get_running_loop().create_task(sweep())
    try:
        yield
    finally:
        sweeper.cancel()
        with suppress(asyncio.CancelledError):
            await sweeper
