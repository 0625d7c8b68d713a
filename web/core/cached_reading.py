"""A reading recomputed at most once per interval in each process, for endpoints anyone may call often.

``/metrics`` counts scans with a ``GROUP BY`` over every organization and ``/health`` may open a broker
connection: answered afresh on every request, a flood of them would load PostgreSQL or exhaust the
broker's connections. Callers that arrive while the reading is computed wait for that one computation
rather than starting their own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class CachedReading(Generic[T]):
    def __init__(
        self,
        compute: Callable[[], T],
        seconds: Callable[[], float],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``seconds`` is read at each call, so a setting changed in tests (0: never cached) applies."""
        self._compute = compute
        self._seconds = seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._value: T | None = None
        self._fresh_until: float | None = None

    def get(self) -> T:
        with self._lock:
            now = self.clock()
            if self._fresh_until is None or now >= self._fresh_until:
                self._value = self._compute()
                self._fresh_until = now + self._seconds()
            return self._value
