"""The one Redis connection pool of a process, shared by the rate limiter and the marks."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

SOCKET_TIMEOUT_S = 2.0


@lru_cache(maxsize=4)
def redis_client(url: str) -> tuple[Any, tuple[type[BaseException], ...]]:
    """The client for `url` (one pool per URL per process) and the errors its calls raise."""
    import redis  # only processes that are configured for Redis load it

    client = redis.Redis.from_url(url, socket_timeout=SOCKET_TIMEOUT_S, socket_connect_timeout=SOCKET_TIMEOUT_S)
    return client, (redis.RedisError,)
