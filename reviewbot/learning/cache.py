"""The signals read for a repository, kept for ``ttl`` seconds: reviews of several pull requests in
a row (the service, a push to many branches) read the host once. Kept in the process only: a cache
that a pull request's workflow could write (the Actions cache) must not decide what the review
holds back, so the Action and the GitLab job read afresh at the start of each review.

The service's worker process keeps one ``SignalCache`` for all its workers (``flow.learning_of``
takes it): a repository's first read is made once, and a worker that asks while it is under way
waits for it rather than reading again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .signals import Signal

TTL = 900.0


@dataclass
class SignalCache:
    ttl: float = TTL
    clock: Callable[[], float] = time.monotonic
    _kept: dict[str, tuple[float, tuple[Signal, ...]]] = field(default_factory=dict)
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def signals(self, repository: str, read: Callable[[], list[Signal]]) -> tuple[list[Signal], bool]:
        """The repository's signals and whether they came from the cache; ``read`` on a miss."""
        with self._guard:
            lock = self._locks.setdefault(repository, threading.Lock())
        with lock:  # one read per repository at a time: the others wait and take what it read
            now = self.clock()
            hit = self._kept.get(repository)
            if hit is not None and now - hit[0] < self.ttl:
                return list(hit[1]), True
            fresh = read()
            self._kept[repository] = (now, tuple(fresh))
            return fresh, False
