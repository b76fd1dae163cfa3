"""Things the web app starts and stops with its lifespan, listed in one place."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

from starlette.applications import Starlette

from bots.lifecycle import running_bots
from bots.update_store import picking_up_unfinished
from flows.render_promo import settling_stale_attempts
from webapp.auth import admin_auth

def stale_attempts(app: Starlette) -> AbstractAsyncContextManager[None]:
    """Generation attempts a dead process left pending are settled while the app runs."""
    return settling_stale_attempts(app.state.runtime)


def unfinished_updates(app: Starlette) -> AbstractAsyncContextManager[None]:
    """Telegram updates a dead process stored (and answered 200 for) but never ran are run here."""
    return picking_up_unfinished(app.state.runtime, app.state.bots)


# Each hook gets the app (with `app.state.runtime` built) and runs for the app's lifetime.
LifespanHook = Callable[[Starlette], AbstractAsyncContextManager[None]]
HOOKS: list[LifespanHook] = [
    admin_auth,  # the admin password hash and the log-in limiter
    running_bots,  # the Telegram bots: started here, served by webapp/routes/telegram.py
    stale_attempts,  # promos a crash left unsettled: settled from storage, else marked unknown
    unfinished_updates,  # updates stored by a process that died before running them: run once
]


@asynccontextmanager
async def run_hooks(app: Starlette) -> AsyncIterator[None]:
    """Enter every hook in order, leave them in reverse."""
    async with AsyncExitStack() as stack:
        for hook in HOOKS:
            await stack.enter_async_context(hook(app))
        yield
