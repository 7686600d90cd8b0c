"""The model work's budget: its deadline, the rules that stop sending items, and the failure counts.

An item is refused once the deadline is spent or a stop rule fired: the server is down, or
MAX_FAILED_IN_A_ROW items in a row failed in the model call. Shared by the worker threads.
"""

from __future__ import annotations

import threading
import time

from ..errors import ModelUnavailable
from ..model import Skipped
from ..ports import ModelBackend

MAX_FAILED_IN_A_ROW = 3  # items whose model calls failed (not `down`) before the rest is not sent


class Budget:
    def __init__(self, deadline: float | None) -> None:
        self.deadline = deadline  # seconds of model work per review; later items are not sent
        self.t0 = time.monotonic()
        self._lock = threading.Lock()
        self._stop: str | None = None  # why no further item is sent
        self._failure: ModelUnavailable | None = None  # the error that stopped the model work
        self._failed_at: float | None = None  # seconds into the model work when it stopped
        self._in_a_row = 0
        self._failed = 0
        self._unsent = 0

    def refuse(self, item_id: str) -> Skipped | None:
        """Why ``item_id`` is not sent (and count it), or None to send it."""
        with self._lock:
            if self._stop is None and self.deadline is not None:
                if time.monotonic() - self.t0 >= self.deadline:
                    self._stop = f"the model time budget of {self.deadline:g} s for one review was spent"
            if self._stop is None:
                return None
            self._unsent += 1
            return Skipped(item_id, f"not sent to the model: {self._stop}", "model")

    def failed(self, exc: ModelUnavailable) -> None:
        """An item's model call failed: count it, and stop when the server is down or too many failed."""
        with self._lock:
            self._failed += 1
            self._in_a_row += 1
            if self._failure is None or (exc.down and not self._failure.down):
                self._failure = exc
                self._failed_at = time.monotonic() - self.t0
            if self._stop is None and (exc.down or self._in_a_row >= MAX_FAILED_IN_A_ROW):
                self._stop = (
                    "the model server is unavailable"
                    if exc.down
                    else f"the model server's answers failed for {self._in_a_row} items in a row"
                )

    def succeeded(self) -> None:
        with self._lock:
            self._in_a_row = 0

    def notes(self, backend: ModelBackend | None) -> list[str]:
        """The one note that says how the model work degraded, or []."""
        exc = self._failure
        if exc is None and self._stop is None:
            return []
        parts = []
        if exc is not None:
            who = f"{backend.name} backend" + (
                f" ({backend.model_id})" if backend and backend.model_id else ""
            )
            when = f"{self._failed_at:.1f} s into the model work" if self._failed_at is not None else ""
            took = f", after trying for {exc.seconds:.1f} s" if exc.seconds else ""
            parts.append(f"model degraded: {who} failed {when}{took}: {' '.join(str(exc).split())}")
        if self._stop is not None and self._unsent:
            parts.append(f"{self._unsent} work item(s) not sent because {self._stop}")
        if self._failed:
            parts.append(f"{self._failed} work item(s) failed in the model call")
        parts.append("those items have the linters' result only (listed as not reviewed)")
        return ["; ".join(parts)]
