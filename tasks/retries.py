"""The retry rule every task shares: retry what a dependency broke, never what a user sent."""

from __future__ import annotations

from typing import Any

from prefect.cache_policies import NO_CACHE

from promostack.errors import DependencyError, NotFound


def retry_on_dependency_error(task: Any, task_run: Any, state: Any) -> bool:
    """True when the failed run raised a `DependencyError` (retry), False for anything else.

    Bad input (an invalid coupon, an unknown template, text that does not fit) fails the same
    way every time, so retrying it would only delay the answer; so does a store's answer that
    an object is not there (`ObjectNotFound`, a storage error that is also a `NotFound`).
    """
    return isinstance(state.data, DependencyError) and not isinstance(state.data, NotFound)


# Options of every task that talks to a dependency: its failures retried, nothing cached, and
# no result persisted (image bytes never go to result storage: callers get them in memory).
RETRY_DEPENDENCY_ERRORS: dict[str, Any] = {
    "retries": 2,
    "retry_delay_seconds": [0.5, 1.5],
    "retry_condition_fn": retry_on_dependency_error,
    "cache_policy": NO_CACHE,
    "persist_result": False,
}
