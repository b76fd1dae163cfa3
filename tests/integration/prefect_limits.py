"""Prefect global concurrency limits set for one test on the session's Prefect server, whatever
an earlier test (the set-up test creates every limit of `deployments.setup`) left there."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prefect import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.exceptions import ObjectNotFound


async def drop_global_limit(name: str) -> None:
    """Nothing; the limit `name` is gone from the server (it may not have been there)."""
    async with get_client() as client:
        try:
            await client.delete_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            pass


@asynccontextmanager
async def global_limit(name: str, limit: int, slot_decay_per_second: float = 0.0) -> AsyncIterator[None]:
    """The limit `name` exists with exactly these numbers inside the block, and is gone after."""
    await drop_global_limit(name)
    async with get_client() as client:
        await client.create_global_concurrency_limit(
            GlobalConcurrencyLimitCreate(name=name, limit=limit, slot_decay_per_second=slot_decay_per_second)
        )
    try:
        yield
    finally:
        await drop_global_limit(name)
