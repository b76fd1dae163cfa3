"""A client-side limit of N calls per rolling window, shared by the threads of one process.

Twelve Data's free plan allows 8 requests a minute; going over costs an error answer and a
wasted credit, so callers wait for a free slot instead. The limit is per process: several
workers sharing one key each need their own, smaller share (`per_window`).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimiter:
    """Blocks `acquire()` until fewer than `per_window` calls happened in the last `window_s`."""

    def __init__(
        self,
        per_window: int,
        window_s: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_window < 1 or window_s <= 0:
            raise ValueError("a limiter needs per_window >= 1 and window_s > 0")
        self.per_window = per_window
        self.window_s = window_s
        self._clock = clock
        self._sleep = sleep
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take a slot, waiting as long as needed; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                while self._calls and now - self._calls[0] >= self.window_s:
                    self._calls.popleft()
                if len(self._calls) < self.per_window:
                    self._calls.append(now)
                    return waited
                # The oldest call leaves the window first; waiting for it is the shortest wait.
                pause = self.window_s - (now - self._calls[0])
            self._sleep(pause)
            waited += pause
