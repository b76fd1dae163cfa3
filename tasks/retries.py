"""The retry rule every task shares: retry what a dependency broke, never what a user sent."""

from __future__ import annotations

from typing import Any

from promostack.errors import DependencyError


def retry_on_dependency_error(task: Any, task_run: Any, state: Any) -> bool:
    """True when the failed run raised a `DependencyError` (retry), False for anything else.

    Bad input (an invalid coupon, an unknown template, text that does not fit) fails the same
    way every time, so retrying it would only delay the answer.
    """
    return isinstance(state.data, DependencyError)
